"""Differentially private aggregates: noisy counts of every combination up to a reporting length (zCDP).

NOTE: pure numpy/polars + OpenDP; no Django. Every noise sample comes from OpenDP's Gaussian measurement (its
secure sampler, through `accounting.py`); this module never draws noise from numpy and never seeds noise.
Mechanism notes: `NOTES.md`. The engine is split along its seams: `accounting.py` (OpenDP adapters, rho <->
epsilon), `budget.py` (the `Budget` value), `domain.py` (public domains), `bounding.py` (contribution bound,
clipping, candidates), and this module (the mechanism).

Privacy unit and neighbouring relation: one victim, added or removed with all their rows; the snapshot makes
one victim one row, so a neighbour is the table with one row more or less (symmetric distance 1).
Guarantee: rho-zCDP, reported as (epsilon, delta)-DP through OpenDP's zCDP -> approximate-DP conversion, with
delta given or derived from a public bound on the number of records (`Budget.dp`), never from the input size.
Preconditions the code enforces: the table's domain is given (`encode_table(df, domain=...)`); a domain read
off the data is recorded as such in `protection` ("domain_public": False), which voids the formal guarantee.

Outline (as in the Synthetic Data Showcase DP aggregator, Microsoft Research with IOM):

1. spend `percentile_share` of rho on a private `percentile` of the number of non-missing attributes per
   record (OpenDP `make_private_quantile`); that number `m*` bounds each record's contribution: length `l`
   contributes to at most `C(m*, l)` combinations (records with more attributes keep a pseudo-random subset
   of `m*` of them, chosen from the record's own values so the clipping is row-wise);
2. split the rest of rho across lengths 1..L (`length_weights`, by default 3 : 1 : 1 ...);
3. length 1: noisy counts of every value in the public domain of each column, plus the record count (L2
   sensitivity sqrt(m* + 1)); or, when p <= m* + 1, plus one missing cell per column instead, so that every
   column sums to the record count: each column then gets its own Gaussian (sensitivity 1, counted on the
   unclipped records) with a share of length 1's rho in proportion to its cells^(2/3) (`_column_shares`);
   length l > 1: noisy counts of every *candidate* combination - those whose every (l-1)-subset survived -
   including candidates absent from the data; Gaussian noise with L2 sensitivity sqrt(C(m*, l));
4. consistency: with missing cells, estimate the record count from all column sums and project each column
   onto it (least squares); round, and cap each combination by the smallest of its (released) sub-combinations;
5. drop counts below `threshold * sigma_l` (and below 1): noisy thresholding of fabricated small combinations.

Steps 4-5 and all candidate generation are post-processing of released values, so they cost no budget. The
released record count is the noisy estimate (`Aggregates.total`), never the input's n.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.accounting import add_noise, epsilon_of, make_gaussian_counts, rho_for
from ctdc.privacy.aggregates import Aggregates, Marginal, count_combinations, pack
from ctdc.privacy.bounding import (
    candidates,
    cap_by_subsets,
    clip_records,
    contribution_bound,
    counts_for,
    one_way_candidates,
)
from ctdc.privacy.budget import Budget
from ctdc.privacy.table import EncodedTable

__all__ = ["PRIVACY_UNIT", "DPSettings", "epsilon_of", "make_dp_aggregates", "make_gaussian_counts", "rho_for"]

PRIVACY_UNIT = "one person, added or removed with all their rows (the input holds one row per person)"
DOMAIN_WARNING = (
    "The candidate values were read off the input, not taken from a public domain: a value held by a single"
    " victim can appear because of them. This output is not formally differentially private; give a domain"
    " (the standard's code lists, a declared range, or a domain file)."
)


def _default_budget() -> Budget:
    return Budget.dp()


@dataclass(frozen=True)
class DPSettings:
    """Parameters of `make_dp_aggregates` (defaults follow the Synthetic Data Showcase defaults)."""

    # epsilon 4 and delta 1/(N ln N) for the public bound N = 1,000,000 records (`Budget.dp`).
    budget: Budget = field(default_factory=_default_budget)
    length: int = 3
    percentile: float = 99.0
    percentile_share: float = 0.05
    # Share of the budget per length. Default: length 1 weighs 3, every longer length 1 (60/20/20 % at L = 3).
    # Synthetic rows' 2- and 3-way accuracy is limited by the sampler, not by the noise (2-way MAE of the noisy
    # counts is about 1/30 of the synthetic rows'), while their 1-way accuracy is the noise of the 1-way counts:
    # budget moved to length 1 lowers the 1-way error by a quarter and changes 2- and 3-way rows by under 2 %
    # (docs/benchmarks.md). Published 2- and 3-way counts get about 30 % more error than with equal weights.
    length_weights: tuple[float, ...] | None = None
    threshold: tuple[float, ...] = (1.0, 2.5)  # in sigmas, per length (the last entry repeats)


def _column_shares(card: np.ndarray) -> np.ndarray:
    """Each column's share of the length-1 budget when columns are measured one by one: cells^(2/3), normalized.

    With a missing cell per column a record adds exactly one cell to each column, so each column's count
    vector can be measured alone at L2 sensitivity 1 with its own rho_j (zCDP composes: the rho_j add up to
    the length's rho). Column j's noise is then sigma_j = 1 / sqrt(2 rho_j), and the expected absolute error
    summed over every released cell, proportional to sum_j cells_j * sigma_j, is smallest for a given total
    rho when rho_j is proportional to cells_j^(2/3) (Lagrange multipliers). One noise level for all columns
    (one vector at sensitivity sqrt(p)) over-serves the two-cell flag columns and under-serves a 21-cell
    country column; the optimum lowers the 1-way error by 11-18 % on the benchmark tables.

    >>> _column_shares(np.array([1, 7])).round(3).tolist()  # 2 cells and 8 cells: 8^(2/3) = 4 x 2^(2/3)/1.59
    [0.284, 0.716]
    """
    weights = (card.astype(np.float64) + 1.0) ** (2.0 / 3.0)
    return weights / weights.sum()


def _consistent_one_way(
    noisy: np.ndarray, card: np.ndarray, sigmas: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Noisy 1-way cells (each column's values, then its missing cell) made to agree on one record count.

    Every column's cells count every record once, so all column sums equal the record count n. n is estimated
    from the column sums (inverse-variance weights: a sum of c cells with noise sigma_j has variance
    c * sigma_j^2), then each column's cells move by the same amount so they sum to it: the least-squares
    projection onto the constraint, which removes 1/(c + 1) of the noise variance of a column of c values.
    `sigmas` holds each column's noise (equal when omitted). Post-processing: no budget.
    Returns the adjusted cells (same layout) and the estimated record count.

    >>> cells, n = _consistent_one_way(np.array([6.0, 4.0, 1.0, 9.0, 3.0]), np.array([1, 2]))
    >>> float(n), cells.round(2).tolist()
    (11.2, [6.6, 4.6, 0.4, 8.4, 2.4])
    """
    sizes = card.astype(np.int64) + 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sums = np.add.reduceat(noisy, starts)
    var = sizes * (np.ones(len(sizes)) if sigmas is None else np.asarray(sigmas, dtype=np.float64)) ** 2
    n = float(np.sum(sums / var) / np.sum(1.0 / var))
    return noisy + np.repeat((n - sums) / sizes, sizes), max(n, 0.0)


def _measure_one_way_by_column(
    true_counts: list[np.ndarray], n: int, card: np.ndarray, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy value and missing cells of every column, each column its own Gaussian at sensitivity 1.

    Returns the noisy cells (each column's values, then its missing cell) and the rho each column spent
    (their sum is at most `rho`; column j's noise sigma is 1 / sqrt(2 rho_j)).
    """
    parts, spent = [], []
    # 1e-9 under each share: the sum of p floats could otherwise round a hair above `rho` (epsilon_spent
    # 4.000000000000001 measured), and the ledger would refuse a charge that exactly fills the budget.
    for t, share in zip(true_counts, _column_shares(card) * (1.0 - 1e-9), strict=True):
        meas = make_gaussian_counts(1.0, float(rho * share))
        parts.append(np.asarray(meas(np.append(t, n - t.sum()).astype(np.int64).tolist()), dtype=np.float64))
        spent.append(float(meas.map(1.0)))
    return np.concatenate(parts), np.array(spent)


def make_dp_aggregates(table: EncodedTable, settings: DPSettings | None = None) -> Aggregates:
    """Differentially private counts of every combination of length 1..L of `table` (see module docstring).

    Guarantee: rho-zCDP with rho = `settings.budget.rho`, i.e. (epsilon, delta)-DP, for one victim added or
    removed. Caller must make true: one victim is one row (the release snapshot does it); the categories of
    each column are public: `table.domain` says where they came from, and a domain read off the data is
    recorded in `protection` (`domain_public`: False, `domain_warning`). Unusual parameters (epsilon > 5) warn.
    """
    s = settings or DPSettings()
    budget = s.budget
    if s.length < 1:
        raise InvalidPrivacyParameter("The reporting length must be at least 1.", {"length": s.length})
    if not 0 < s.percentile <= 100 or not 0 < s.percentile_share < 1:
        raise InvalidPrivacyParameter(
            "percentile must be in (0, 100] and percentile_share in (0, 1).",
            {"percentile": s.percentile, "percentile_share": s.percentile_share},
        )
    if not budget.epsilon > 0 or not 0 < budget.delta < 1:
        raise InvalidPrivacyParameter(
            "Need epsilon > 0 and 0 < delta < 1.", {"epsilon": budget.epsilon, "delta": budget.delta}
        )
    delta = budget.delta
    if budget.epsilon > 5:
        warnings.warn(
            f"epsilon = {budget.epsilon} is above 5: a weak privacy guarantee.", UserWarning, stacklevel=2
        )
    rho_total = budget.rho if budget.rho is not None else rho_for(budget.epsilon, delta)
    length = min(s.length, table.p)
    weights = np.array(s.length_weights or [3.0] + [1.0] * (length - 1), dtype=float)[:length]
    rho_q = s.percentile_share * rho_total
    rho_len = (rho_total - rho_q) * weights / weights.sum()
    card = table.cardinalities
    codes = table.codes
    p = table.p

    # 1. private percentile of attributes per record -> contribution bound
    m_star, rho_spent_q = contribution_bound(codes, s.percentile, rho_q)
    spent = [rho_spent_q]
    clipped = clip_records(codes, m_star)
    exact = count_combinations(table.with_codes(clipped), length)
    one_way_missing = p <= m_star + 1
    one_way = count_combinations(table, 1) if one_way_missing and clipped is not codes else exact

    out: dict[tuple[int, ...], Marginal] = {}
    sigmas, thresholds, caps, n_candidates, sensitivities = {}, {}, {}, {}, {}
    one_way_columns: dict[str, dict[str, float]] = {}
    # Length 1 with a missing cell per column (one_way_missing) when that costs no more noise than the record
    # count would: every record then adds exactly one cell per column (sqrt(p) over all columns, 1 per column
    # measured alone), and each column's cells sum to the record count, a constraint that post-processing uses
    # to remove part of the noise.
    total = 0.0
    for size in range(1, length + 1):
        cap = math.comb(m_star, size)
        if cap == 0:
            break
        groups: list[tuple[tuple[int, ...], np.ndarray]] = []
        if size == 1:
            groups = one_way_candidates(card)
        else:
            for cols in combinations(range(p), size):
                cand = candidates(cols, out, card)
                if cand is not None:
                    groups.append((cols, cand))
        with_missing = size == 1 and one_way_missing
        # Length 1 with missing cells counts the records unclipped: each adds exactly one cell per column
        # whatever its number of attributes, so clipping would only bias the counts (records with more than m*
        # attributes would move a value into the missing cell: 74 records per column on the project simulator's
        # table, 8x the noise), at no saving in sensitivity.
        source = one_way if with_missing else exact
        true_counts = [counts_for(source, cols, card, pack(v, card[list(cols)])) for cols, v in groups]
        factor = s.threshold[min(size - 1, len(s.threshold) - 1)]
        if with_missing:
            cap, sensitivity = p, 1.0  # one cell per column and record; each column measured alone
            noisy, rho_cols = _measure_one_way_by_column(true_counts, table.n, card, rho_len[0])
            spent.append(float(rho_cols.sum()))
            column_sigma = 1.0 / np.sqrt(2.0 * rho_cols)
            cell_sigma = np.repeat(column_sigma, card.astype(np.int64) + 1)
            noisy, total = _consistent_one_way(noisy, card, column_sigma)
            sigma = float(column_sigma.max())
            one_way_columns = {
                name: {"rho": float(r), "sigma": float(g), "threshold": factor * float(g)}
                for name, r, g in zip(table.columns, rho_cols, column_sigma, strict=True)
            }
            n_candidates[size] = len(noisy)
        else:
            vector = np.concatenate([*true_counts, [table.n] if size == 1 else []]).astype(np.int64)
            sensitivity = math.sqrt(cap + (1 if size == 1 else 0))
            meas = make_gaussian_counts(sensitivity, float(rho_len[size - 1]))
            spent.append(float(meas.map(sensitivity)))
            noisy = add_noise(meas, vector) if len(vector) else np.empty(0)
            sigma = float(sensitivity / math.sqrt(2 * spent[-1])) if spent[-1] > 0 else 0.0
            cell_sigma = np.full(len(noisy), sigma)
            n_candidates[size] = len(vector)
            if size == 1:
                total = max(float(noisy[-1]), 0.0)
        sigmas[size], thresholds[size], caps[size] = sigma, factor * float(cell_sigma.min(initial=sigma)), cap
        sensitivities[size] = sensitivity
        offset = 0
        for cols, vals in groups:
            counts = np.rint(noisy[offset : offset + len(vals)])
            tau = factor * cell_sigma[offset : offset + len(vals)]
            offset += len(vals) + (1 if with_missing else 0)
            if size > 1 and len(vals):
                counts = cap_by_subsets(cols, vals, counts, out, card)
            keep = counts >= np.maximum(tau, 1.0)
            if keep.any():
                out[cols] = Marginal(cols, vals[keep].astype(np.int32), counts[keep])
    rho_spent = float(sum(spent))
    protection: dict[str, Any] = {
        "method": "differential-privacy",
        "mechanism": "zCDP Gaussian on combination counts (OpenDP make_gaussian), private percentile bound",
        "privacy_unit": PRIVACY_UNIT,
        "epsilon": float(budget.epsilon),
        "delta": delta,
        "delta_rule": budget.delta_rule,
        "rho": rho_total,
        "rho_spent": rho_spent,
        "epsilon_spent": epsilon_of(rho_spent, delta),
        "rho_percentile": spent[0],
        "rho_by_length": {str(k): v for k, v in zip(range(1, len(spent)), spent[1:], strict=True)},
        "percentile": s.percentile,
        "attributes_per_record_bound": m_star,
        "contribution_bound_by_length": {str(k): v for k, v in caps.items()},
        "l2_sensitivity_by_length": {str(k): v for k, v in sensitivities.items()},
        "one_way_cells": "values and a missing cell per column, each column measured alone with rho_j in"
        " proportion to its cells^(2/3) (consistent record count)" if one_way_missing
        else "values and the record count",
        # Length 1 with missing cells: the largest column sigma and the smallest column threshold (each
        # column's own rho, sigma and threshold are in one_way_by_column).
        "sigma_by_length": {str(k): v for k, v in sigmas.items()},
        "threshold_by_length": {str(k): v for k, v in thresholds.items()},
        "one_way_by_column": one_way_columns,
        "candidates_by_length": {str(k): v for k, v in n_candidates.items()},
        "domain_public": table.public_domain,
        "domain": table.domain.describe() if table.domain is not None else {},
    }
    if not table.public_domain:
        protection["domain_warning"] = DOMAIN_WARNING
    return Aggregates(table.columns, table.categories, length, total, out, protection)
