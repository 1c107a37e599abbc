"""ctdc.privacy: disclosure risk, k-anonymity, protected aggregates, DP and synthetic data (issue 7).

NOTE: pure numpy/polars + OpenDP; this package never imports Django (tests/privacy/test_conventions.py).
See docs/privacy.md for the overview and NOTES.md beside this file for each mechanism's guarantee.
"""

from ctdc.privacy.accounting import epsilon_of, make_gaussian_counts, rho_for
from ctdc.privacy.aggregates import Aggregates, count_combinations, protect_k_rounding
from ctdc.privacy.budget import Budget, delta_for_records
from ctdc.privacy.domain import ColumnDomain, Domain
from ctdc.privacy.dp import DPSettings, make_dp_aggregates
from ctdc.privacy.evaluate import compare_aggregates, marginal_mae
from ctdc.privacy.hierarchy import Hierarchy, age_band_hierarchy, age_hierarchy, year_hierarchy
from ctdc.privacy.kanon import KAnonymityResult, make_k_anonymous, suppress_only
from ctdc.privacy.ledger import JsonLinesStore, LedgerEntry, LedgerStore, MemoryStore, PrivacyLedger
from ctdc.privacy.pipeline import SyntheticRelease, make_synthetic_release, render_html
from ctdc.privacy.risk import RiskReport, assess_risk
from ctdc.privacy.synthesis import synthesize
from ctdc.privacy.table import EncodedTable, encode_table, read_table

__all__ = [
    "Aggregates", "Budget", "ColumnDomain", "DPSettings", "Domain", "EncodedTable", "Hierarchy", "JsonLinesStore", "KAnonymityResult",
    "LedgerEntry", "LedgerStore", "MemoryStore", "PrivacyLedger", "RiskReport", "SyntheticRelease",
    "age_band_hierarchy", "age_hierarchy", "assess_risk", "compare_aggregates", "count_combinations", "delta_for_records",
    "encode_table", "epsilon_of", "make_dp_aggregates", "make_gaussian_counts", "make_k_anonymous",
    "make_synthetic_release", "marginal_mae", "protect_k_rounding", "read_table", "render_html", "rho_for",
    "suppress_only", "synthesize", "year_hierarchy",
]  # fmt: skip
