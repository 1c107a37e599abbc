"""Protected statistics of recruitment fees per corridor (origin -> destination) and sector (issue 17, item 5).

NOTE: pure Python on polars and OpenDP (through ctdc.privacy.accounting); never import Django here
(tests/test_core_is_pure.py enforces it).

**Privacy unit: one victim with all their fees.** `victim_fee_table` reduces the fees to one row per victim: the
corridor of their first fee (smallest random key), their first labour sector, and the total they paid in US
dollars of the base year (`ctdc.standard.money`), clamped to [0, `CAP`]. A victim with any fee that cannot be
converted has no total (counted, never in the amounts). So each victim is one row (contribution bound B = 1) and
falls in exactly one cell of each grouping: `corridor_sector` (origin, destination, sector) and `corridor`
(origin, destination, all sectors).

Two protections (`fee_statistics(method=...)`):

- `threshold` (k-based, like the threshold releases): a cell appears only with at least k victims; its count is
  exact, its quartiles are those of its converted totals on the `STEP` grid, and only when at least k of its
  victims have one. Not DP.
- `dp`: rho-zCDP for one victim, plus a delta for the cells' presence. Half of rho noises the counts of both
  groupings at once, each cell's victims and those of them with a total (OpenDP discrete Gaussian, L2
  sensitivity sqrt(4): a victim moves at most one count of each kind per grouping); quartiles are stated only
  where the noisy count of victims with a total reaches k;
  a cell is published only when its noisy count reaches k + z sigma (Gaussian thresholding: a cell of one victim
  crosses it with probability at most delta / 2 per grouping). The other half pays for the quartiles
  (25th, 50th, 75th percentile) of each published cell, through OpenDP's private quantile
  (`make_private_count_quantile`) over the `STEP` grid 0..`CAP`: 2 groupings x 3 quartiles, each at rho / 12;
  cells of one grouping are disjoint, so their quartiles compose in parallel. The caller charges the whole
  (epsilon, delta) to the victims' ledger (`ctdc.release.linked.LEDGER_DATASET`): the fees are theirs.

>>> fees = pl.DataFrame({"victim_id": ["a", "a", "b"], "fee_id": ["2", "1", "3"], "amount": [100.0, 50.0, 10.0],
...                      "currency": ["USD", "USD", "XOF"], "fee_year": [2025, 2025, 2020],
...                      "origin_country": ["PH", "NP", "NG"], "destination_country": ["SA", "QA", "IT"]})
>>> victim_fee_table(fees, pl.DataFrame({"victim_id": ["a"], "labour_sectors": ["construction;domestic_work"]})).rows()
[('a', 'NP', 'QA', 'construction', 150.0), ('b', 'NG', 'IT', 'not_recorded', None)]
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.accounting import add_noise, epsilon_of, make_gaussian_counts, make_private_count_quantile
from ctdc.privacy.budget import Budget
from ctdc.release.build import BuiltRelease, new_release_folder
from ctdc.release.linked import LEDGER_DATASET
from ctdc.release.published import write_table_release
from ctdc.standard import load_standard
from ctdc.standard.money import base_label, convert, sources

CAP = 20_000.0  # US dollars of the base year: a victim's total is clamped here (public)
STEP = 100.0  # grid of the quartiles (public): 0, 100, ..., CAP
QUARTILES = (0.25, 0.5, 0.75)
GROUPINGS = {"corridor_sector": ("origin", "destination", "sector"), "corridor": ("origin", "destination")}
NO_SECTOR = "not_recorded"
PRIVACY_UNIT = "one victim with all their fees (one row: their total)"


def victim_fee_table(fees: pl.DataFrame, victims: pl.DataFrame) -> pl.DataFrame:
    """One row per victim with fees: victim_id, origin, destination, sector, total_usd (None when any of their
    fees cannot be converted). `fees` has victim_id, fee_id (a random key), amount, currency, fee_year,
    origin_country, destination_country; `victims` has victim_id and labour_sectors (`;`-joined)."""
    converted = [convert(a, c, y).amount for a, c, y in
                 zip(fees["amount"].to_list(), fees["currency"].to_list(), fees["fee_year"].to_list(), strict=True)]
    rows = fees.with_columns(pl.Series("usd", converted, dtype=pl.Float64)).sort("victim_id", "fee_id")
    per_victim = rows.group_by("victim_id", maintain_order=True).agg(
        pl.col("origin_country").first().alias("origin"),
        pl.col("destination_country").first().alias("destination"),
        pl.when(pl.col("usd").null_count() == 0).then(pl.col("usd").sum()).otherwise(None).alias("total_usd"))
    sectors = victims.select("victim_id", pl.col("labour_sectors").str.split(";").list.first().alias("sector"))
    return per_victim.join(sectors, on="victim_id", how="left").select(
        "victim_id", "origin", "destination", pl.col("sector").fill_null(NO_SECTOR), "total_usd")


def _grid(totals: pl.Series) -> list[int]:
    """Totals as indices of the STEP grid, clamped to 0..CAP/STEP."""
    return [int(min(max(t, 0.0), CAP) // STEP) for t in totals.drop_nulls().to_list()]


def _exact_quartiles(grid: list[int]) -> list[float]:
    values = np.sort(np.asarray(grid))
    return [float(values[min(len(values) - 1, int(math.ceil(q * len(values))) - 1)] * STEP) for q in QUARTILES]


def fee_statistics(table: pl.DataFrame, *, method: str, k: int, budget: Budget | None = None) -> dict:
    """Protected counts and quartiles of `table` (`victim_fee_table`) per grouping, and what protects them.

    Returns {"unit", "method", "k", "cap", "step", "privacy_unit", "groupings": {name: [cell, ...]},
    "spent": Budget | None}; a cell is {origin, destination, [sector], victims, p25, median, p75} (quartiles None
    when withheld). With `method="dp"`, `budget` (epsilon, delta, rho) is what one victim may lose; the caller
    charges `spent` to the victims' ledger before publishing anything.

    >>> t = pl.DataFrame({"victim_id": list("abcdef"), "origin": ["PH"] * 6, "destination": ["SA"] * 6,
    ...                   "sector": ["construction"] * 6, "total_usd": [100.0, 200, 300, 400, 500, None]})
    >>> cell = fee_statistics(t, method="threshold", k=5)["groupings"]["corridor"][0]
    >>> cell["victims"], cell["median"], cell["p75"]
    (6, 300.0, 400.0)
    """
    if k < 2:
        raise InvalidPrivacyParameter(f"A threshold k={k} protects nobody; use k >= 2.", {"k": k})
    out = {"unit": base_label(), "method": method, "k": k, "cap": CAP, "step": STEP, "privacy_unit": PRIVACY_UNIT,
           "groupings": {}, "spent": None}
    cells = {name: table.group_by(list(cols)).agg(pl.len().alias("n"), pl.col("total_usd"))
             .sort(list(cols)) for name, cols in GROUPINGS.items()}
    if method == "threshold":
        for name, frame in cells.items():
            cols = GROUPINGS[name]
            published = []
            for row in frame.filter(pl.col("n") >= k).iter_rows(named=True):
                grid = _grid(pl.Series(row["total_usd"], dtype=pl.Float64))
                qs = _exact_quartiles(grid) if len(grid) >= k else [None] * len(QUARTILES)
                published.append({**{c: row[c] for c in cols}, "victims": row["n"],
                                  **dict(zip(("p25", "median", "p75"), qs, strict=True))})
            out["groupings"][name] = published
        return out
    if method != "dp":
        raise InvalidPrivacyParameter(f"Unknown fees method {method!r}: use 'threshold' or 'dp'.",
                                      {"method": method})
    if budget is None or budget.rho is None or not budget.delta > 0:
        raise InvalidPrivacyParameter("The dp method needs a DP budget (Budget.dp) with delta > 0.", {})
    rho_counts, rho_quartile = budget.rho / 2, budget.rho / 2 / (len(GROUPINGS) * len(QUARTILES))
    # Two counts per cell: its victims, and those of them with a total (a fee in a currency or year the shipped
    # tables cannot convert leaves a victim without one). A victim moves at most one of each per grouping.
    sensitivity = math.sqrt(2 * len(GROUPINGS))
    counts = make_gaussian_counts(sensitivity=sensitivity, rho=rho_counts)
    sigma = sensitivity / math.sqrt(2 * rho_counts)
    # A cell of one victim crosses the bar with probability at most delta / 2 in each grouping.
    bar = k + sigma * NormalDist().inv_cdf(1 - budget.delta / 2 / len(GROUPINGS))
    victims = np.concatenate([frame["n"].to_numpy() for frame in cells.values()]).astype(np.int64)
    with_total = np.concatenate([frame["total_usd"].list.drop_nulls().list.len().to_numpy()
                                 for frame in cells.values()]).astype(np.int64)
    noisy_both = add_noise(counts, np.concatenate([victims, with_total])) if len(victims) else np.array([])
    noisy, noisy_with_total = noisy_both[:len(victims)], noisy_both[len(victims):]
    p = int(CAP // STEP)
    quantile = {q: make_private_count_quantile(p, q, rho_quartile) for q in QUARTILES}
    at = 0
    for name, frame in cells.items():
        cols = GROUPINGS[name]
        published = []
        for row, n, m in zip(frame.iter_rows(named=True), noisy[at:at + frame.height],
                             noisy_with_total[at:at + frame.height], strict=True):
            if n < bar:
                continue
            # Quartiles of a cell whose victims (nearly) all lack a total would be the mechanism's noise over an
            # empty list, shown as a median: withheld, as the threshold statistics withhold them below k totals.
            if m >= k:
                grid = _grid(pl.Series(row["total_usd"], dtype=pl.Float64))
                qs = sorted(float(quantile[q](grid)) * STEP for q in QUARTILES)
            else:
                qs = [None] * len(QUARTILES)
            published.append({**{c: row[c] for c in cols}, "victims": int(round(n)),
                              **dict(zip(("p25", "median", "p75"), qs, strict=True))})
        at += frame.height
        out["groupings"][name] = published
    out["bar"] = bar
    out["spent"] = Budget(epsilon=epsilon_of(budget.rho, budget.delta), delta=2 * budget.delta, rho=budget.rho)
    return out


# --- the release folder ------------------------------------------------------------------------------------------
# Release methods of `ctdc release build` -> fee_statistics methods: the k-based ones publish threshold statistics,
# dp-synthetic DP statistics (a fees release is a table of statistics, never rows).
METHODS = {"k-anonymity": "threshold", "k-synthetic": "threshold", "dp-synthetic": "dp"}
COLUMNS = ("grouping", "origin", "destination", "sector", "victims", "p25", "median", "p75", "unit")


def statistics_frame(stats: dict) -> pl.DataFrame:
    """The published cells as one table (`data.csv`): sector blank in the `corridor` grouping."""
    rows = [{"grouping": name, "sector": None, **cell, "unit": stats["unit"]}
            for name, cells in stats["groupings"].items() for cell in cells]
    schema = {"grouping": pl.String, "origin": pl.String, "destination": pl.String, "sector": pl.String,
              "victims": pl.Int64, "p25": pl.Float64, "median": pl.Float64, "p75": pl.Float64, "unit": pl.String}
    return pl.DataFrame(rows, schema=schema).select(COLUMNS)


def _data_schema() -> dict:
    text = {"grouping": "corridor_sector (origin, destination, sector) or corridor (all sectors)",
            "origin": "Country the victims left (ISO 3166-1 alpha-2)",
            "destination": "Country the victims were recruited to work in (ISO 3166-1 alpha-2)",
            "sector": "The victims' first labour sector (code list labour_sector; not_recorded when none)",
            "victims": "Victims who paid fees in the cell (protected: at least k, or noisy above the DP bar)",
            "p25": "25th percentile of a victim's total fees", "median": "Median of a victim's total fees",
            "p75": "75th percentile of a victim's total fees", "unit": "Currency and year of the amounts"}
    types = {"victims": "integer", "p25": "number", "median": "number", "p75": "number"}
    return {"fields": [{"name": c, "type": types.get(c, "string"), "description": text[c]} for c in COLUMNS],
            "missingValues": [""]}


def build_fee_release(table: pl.DataFrame, *, root, version: str, method: str, params, notes: str = "",
                      now=None, previous: dict | None = None, progress=None, dataset: str = "recruitment_fees"):
    """Write release `version` of the fee statistics of `table` (`victim_fee_table`) under `root`.

    `params` is a `ctdc.release.methods.MethodParams` (k, budget, ledger, purpose). A DP release is charged to the
    victims' ledger before anything is written; a refused charge (`BudgetExceeded`) writes nothing. Layout as
    `ctdc.release.published` (data.csv, data.parquet, datapackage.json, report, metadata, summary, checksums).
    """
    progress = progress or (lambda pct, msg: None)
    now = now or datetime.now(UTC)
    if method not in METHODS:
        raise InvalidPrivacyParameter(f"Fees are released with {', '.join(METHODS)}; not {method!r}.",
                                      {"method": method})
    root = Path(root)
    final = new_release_folder(root, dataset, version, table)
    progress(20, f"Protecting the fees of {table.height} victims ({METHODS[method]})")
    stats = fee_statistics(table, method=METHODS[method], k=params.k,
                           budget=params.budget if METHODS[method] == "dp" else None)
    steward_engine = {}
    if stats["spent"] is not None and params.ledger is not None:
        entry = params.ledger.charge(dataset=LEDGER_DATASET, purpose=params.purpose, budget=stats["spent"])
        steward_engine["ledger_entry"] = {"dataset": entry.dataset, "epsilon": entry.epsilon, "delta": entry.delta}
    data = statistics_frame(stats)
    std = load_standard()
    created = now.isoformat(timespec="seconds")
    spent = stats["spent"]
    guarantee = {"privacy_unit": PRIVACY_UNIT, "contribution_bound": 1, "k_victims": params.k,
                 "cap": CAP, "step": STEP, "unit": stats["unit"],
                 **({"epsilon": spent.epsilon, "delta": spent.delta, "rho": spent.rho, "bar": stats["bar"],
                     "ledger": LEDGER_DATASET} if spent else {})}
    run_params = {"k": params.k, "contribution_bound": 1, "statistics": METHODS[method], "cap": CAP, "step": STEP,
                  **({"epsilon": params.budget.epsilon, "delta": params.budget.delta} if spent else {})}
    metadata = {"dataset": dataset, "version": version, "method": method, "params": run_params,
                "standard_version": std.version, "records": data.height, "created": created, "notes": notes,
                "privacy_unit": PRIVACY_UNIT, "previous_version": previous["version"] if previous else None,
                "checks_passed": True, "normalisation": sources()}
    summary = {"unit": stats["unit"], "method": METHODS[method], "k": params.k, "cap": CAP,
               "corridors": stats["groupings"]["corridor"], "corridor_sectors": stats["groupings"]["corridor_sector"]}
    report = {"release": metadata, "checks": [], "records": {"cells in the release": data.height},
              "engine": {"guarantee": guarantee}}
    title = f"ctdc recruitment fees statistics, release {version} ({method})"
    (root / dataset).mkdir(parents=True, exist_ok=True)
    write_table_release(final, progress, stage=(60, "Writing data.csv, data.parquet, data package and report"),
                        table=data, files={"summary.json": summary, "metadata.json": metadata}, report=report,
                        metadata=metadata, previous=previous, dataset=dataset, version=version, method=method,
                        created=created, title=title, description=notes or title,
                        sources=[{"title": f"{m['producer']}: {m['title']} ({m['data_date']})", "path": m["url"]}
                                 for m in (sources()["exchange_rates"], sources()["deflator"])],
                        resource_title="Protected fee statistics, one cell per row", schema=_data_schema())
    progress(100, f"Release {dataset} {version} written")
    steward = {"release": {k: metadata[k] for k in ("dataset", "version", "method", "params", "created")},
               "input": {"victims_with_fees": table.height,
                         "victims_without_a_converted_total": int(table["total_usd"].null_count())},
               "checks": [], "engine": steward_engine}
    return BuiltRelease(dataset, version, final, summary, metadata, [], steward)
