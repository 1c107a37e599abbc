"""One call from a table to a protected release: aggregates, synthetic rows and the evaluation report.

NOTE: pure numpy/polars; no Django. `ctdc synth` is a thin shell over `make_synthetic_release`.

>>> from ctdc.privacy.simulated import simulate_victims
>>> rel = make_synthetic_release(simulate_victims(400, seed=1, columns=12), method="k-synthetic", k=5, seed=7)
>>> rel.synthetic.shape
(400, 12)
>>> rel.report["guarantee"]["k_synthetic_check"]
'passed'
"""

from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import polars as pl

from ctdc.errors import InvalidPrivacyParameter, KAnonymityNotMet
from ctdc.privacy.aggregates import Aggregates, count_combinations, protect_k_rounding
from ctdc.privacy.budget import Budget
from ctdc.privacy.domain import Domain
from ctdc.privacy.evaluate import compare_aggregates
from ctdc.privacy.ledger import PrivacyLedger
from ctdc.privacy.marginal_model import MarginalSettings, fit_marginal_model
from ctdc.privacy.risk import assess_risk
from ctdc.privacy.synthesis import synthesize
from ctdc.privacy.table import EncodedTable, encode_table

Method = Literal["k-synthetic", "dp"]


@dataclass(frozen=True, eq=False)
class SyntheticRelease:
    """The rows, the published aggregates, and the report in two parts.

    `report` is public: parameters, the guarantee, and utility and risk measured on the output alone (the rows
    against the published counts). `steward_report` holds everything computed on the input (its record count,
    the comparison of the rows and counts with the exact ones, the risk of the input, the ledger entry): it is
    for data stewards and never goes into a public release.
    """

    synthetic: pl.DataFrame
    aggregates: Aggregates
    report: dict[str, Any]
    steward_report: dict[str, Any] = field(default_factory=dict)


def check_k_synthetic(original: Aggregates, synthetic: Aggregates, k: int) -> int:
    """Number of combinations (length <= L) in the synthetic data that occur fewer than k times in the input."""
    card = original.cardinalities
    bad = 0
    for cols, m in synthetic.marginals.items():
        o = original.get(cols)
        okeys = o.keys(card)[o.counts >= k]
        bad += int((~np.isin(m.keys(card), okeys)).sum())
    return bad


def make_synthetic_release(
    df: pl.DataFrame,
    method: Method = "k-synthetic",
    k: int = 11,
    resolution: int = 10,
    budget: Budget | None = None,
    length: int = 3,
    seed: int = 0,
    quasi_identifiers: list[str] | None = None,
    ledger: PrivacyLedger | None = None,
    dataset: str = "unnamed",
    purpose: str = "synthetic release",
    domain: Domain | None = None,
) -> SyntheticRelease:
    """Protect `df` by `method` and return synthetic rows (same schema), published aggregates and a report.

    k-synthetic: aggregates protected by k-rounding (`k`, `resolution`); synthetic rows where every
    combination of length <= `length` occurs at least `k` times in `df` (checked; `KAnonymityNotMet` if not).
    dp: rows sampled from a `budget`-DP model of noisy marginals (`marginal_model`; default `Budget.dp()`:
    epsilon 4, delta from a public bound on the number of records), as many as the noisy record count, and the
    counts of those rows as aggregates. Privacy unit: one person, added or removed with all their rows. The
    domain comes from `domain` (public: the standard's code lists, declared ranges, a domain file); without one
    it is read off `df`, and the report says that this is not a formal guarantee. Values outside `domain`
    become missing (counted for the steward in `input.outside_domain`).
    `report` is public (nothing computed on `df`); `steward_report` compares with `df` and is for data
    stewards only.
    With a `ledger`, a dp release is charged to `dataset` before anything is returned; `BudgetExceeded`
    means nothing may be released.
    """
    if length < 1:
        raise InvalidPrivacyParameter("The reporting length must be at least 1.", {"length": length})
    table = encode_table(df, domain=domain)
    if method == "dp":
        budget = budget if budget is not None else Budget.dp()
        # The input's exact counts are only for the evaluation report. Counted in a second thread while the DP
        # aggregates are made: OpenDP draws its noise in native code without the GIL, so both cores work.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(count_combinations, table, length)
            model = fit_marginal_model(table, MarginalSettings(budget=budget, length=min(max(length, 2), 3)))
            original = pending.result()
    else:
        original = count_combinations(table, length)
    if method == "k-synthetic":
        if k < 1:
            raise InvalidPrivacyParameter("k must be at least 1.", {"k": k})
        # The rows are drawn from the published (rounded) counts, not the exact ones, and their 1-way counts
        # and row count equal the published ones: the microdata and aggregates.csv agree, and neither shows an
        # exact input count that differencing two releases could use.
        published = protect_k_rounding(original, k=k, resolution=resolution)
        codes = synthesize(published, seed=seed, enforce_support=True, exact_one_way=True)
    elif method == "dp":
        # Rows drawn from the private model; the published counts are counted on those rows, so both are
        # post-processing of one DP mechanism (its budget, accounted in model.protection) and agree.
        codes = model.sample(seed=seed)
        published = replace(
            count_combinations(table.with_codes(codes), length),
            protection={**model.protection, "aggregates": "counted on the DP synthetic rows (post-processing)"},
        )
    else:
        raise InvalidPrivacyParameter(
            f"Unknown method {method!r}; use 'k-synthetic' or 'dp'.", {"method": method}
        )
    synthetic_table = table.with_codes(codes)
    synthetic_counts = published if method == "dp" else count_combinations(synthetic_table, length)
    guarantee: dict[str, Any] = {"privacy_unit": "one record", **published.protection}
    guarantee["aggregates_protection"] = guarantee.pop("method")
    guarantee = {"method": method, **guarantee}
    steward_only: dict[str, Any] = {}
    if method == "k-synthetic":
        bad = check_k_synthetic(original, synthetic_counts, k)
        if bad:
            raise KAnonymityNotMet(
                f"{bad} combinations in the synthetic data occur fewer than k={k} times in the input.",
                {"k": k, "combinations": bad},
            )
        guarantee["k_synthetic_check"] = "passed"
    else:
        if ledger is not None:
            p = published.protection
            entry = ledger.charge(
                dataset=dataset,
                purpose=purpose,
                budget=Budget(epsilon=p["epsilon_spent"], delta=p["delta"], rho=p["rho_spent"]),
            )
            steward_only["ledger_entry"] = asdict(entry)
    qi = quasi_identifiers or list(table.columns)
    # Public: what the output shows and how it compares with the published counts, nothing counted on the input.
    report = {
        "output": {"records": int(codes.shape[0]), "length": length, "seed": seed, "columns": list(table.columns)},
        "guarantee": guarantee,
        "synthetic_rows_vs_published": compare_aggregates(published, synthetic_counts),
        "risk_synthetic": _risk(synthetic_table, qi, k, length),
    }
    # Stewards only: everything that reads the input. For dp the published counts are the rows' own counts, so
    # the two comparisons are one.
    rows_vs_input = compare_aggregates(original, synthetic_counts)
    steward = {
        "input": {"records": table.n, "columns": list(table.columns),
                  "outside_domain": dict(zip(table.columns, table.outside_domain, strict=True))},
        "synthetic_rows": rows_vs_input,
        "reported_aggregates": rows_vs_input if published is synthetic_counts
        else compare_aggregates(original, published),
        "risk_input": _risk(table, qi, k, length),
        **steward_only,
    }
    return SyntheticRelease(synthetic_table.decode(), published, _jsonable(report), _jsonable(steward))


def _risk(table: EncodedTable, qi: list[str], k: int, length: int) -> dict[str, Any] | None:
    if table.n == 0:  # e.g. k-synthetic rows of fewer records than the rounding resolution: nothing to assess
        return None
    return assess_risk(table, qi, k=k, length=min(length, len(qi))).as_dict()


def _jsonable(obj: Any) -> Any:
    """Keys as strings and numpy scalars as Python numbers, so the report dumps to JSON unchanged."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def render_html(report: dict[str, Any], title: str = "ctdc privacy report", steward: bool = False) -> str:
    """A self-contained HTML page (inline CSS, no scripts, nothing fetched) showing `report`.

    `steward` says the report is the steward part (computed on the input): the page says so in its first line.

    >>> "<table" in render_html({"guarantee": {"method": "dp"}})
    True
    >>> page = render_html({"guarantee": {"one_way_by_column": {"gender": {"rho": 0.0066, "sigma": 8.67}}}})
    >>> page.count("<table"), "<td>gender</td><td>0.0066</td><td>8.67</td>" in page  # a nested table per column
    (2, True)
    """
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:70em}}",
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;",
        "text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        "<p>This report compares the output with the sensitive input: it is for data stewards, not for release.</p>"
        if steward else
        "<p>Public report: parameters, guarantee, and the output measured against the published counts only.</p>",
    ]

    def cell(v: Any) -> str:
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            # A record per name (e.g. each column's rho, sigma and threshold): a nested table, one row each.
            keys = list(dict.fromkeys(k for x in v.values() for k in x))
            head = "".join(f"<th>{esc(str(k))}</th>" for k in keys)
            body = "".join(
                f"<tr><td>{esc(str(name))}</td>"
                + "".join(f"<td>{esc(_num(x[k]) if isinstance(x.get(k), float) else str(x.get(k, '')))}</td>"
                          for k in keys)
                + "</tr>"
                for name, x in v.items()
            )
            return f"<table><tr><th></th>{head}</tr>{body}</table>"
        return esc(json.dumps(v) if isinstance(v, dict | list) else str(v))

    def kv_table(d: dict[str, Any]) -> str:
        rows = "".join(f"<tr><th>{esc(str(k))}</th><td>{cell(v)}</td></tr>" for k, v in d.items())
        return f"<table>{rows}</table>"

    for section in ("input", "output", "guarantee"):
        if section in report:
            parts.append(f"<h2>{esc(section.capitalize())}</h2>{kv_table(report[section])}")
    for section, label, against in (
        ("synthetic_rows_vs_published", "Synthetic rows", "published counts"),
        ("synthetic_rows", "Synthetic rows", "input"),
        ("reported_aggregates", "Reported aggregates", "input"),
    ):
        if section not in report:
            continue
        parts.append(f"<h2>{label} vs {against}</h2><table><tr><th>length</th><th>{against.split()[0]} "
                     "combinations</th>")
        parts.append("<th>preserved</th><th>suppressed</th><th>fabricated</th><th>count bucket</th>")
        parts.append("<th>combinations</th><th>mean abs. error</th><th>mean rel. error</th></tr>")
        for length, m in report[section].items():
            for i, b in enumerate(m["error_by_bucket"]):
                head = (
                    f"<td>{esc(str(length))}</td><td>{m['original_combinations']}</td><td>{_pct(m['preserved'])}</td>"
                    f"<td>{_pct(m['suppressed'])}</td><td>{m['fabricated']}</td>"
                    if i == 0
                    else "<td></td>" * 5
                )
                parts.append(
                    f"<tr>{head}<td>{esc(b['bucket'])}</td><td>{b['combinations']}</td>"
                    f"<td>{_num(b['mean_absolute_error'])}</td><td>{_num(b['mean_relative_error'])}</td></tr>"
                )
        parts.append("</table>")
    for section, label in (
        ("risk_input", "Risk of the input"),
        ("risk_synthetic", "Risk of the synthetic rows"),
    ):
        if section in report:
            parts.append(f"<h2>{label}</h2>{kv_table(report[section])}")
    parts.append("</body></html>")
    return "".join(parts)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1%}"


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.3g}"
