"""Privacy methods of a release: a small registry, name -> function(frame, params) -> MethodResult.

NOTE: pure Python on polars; never import Django here (tests/test_core_is_pure.py enforces it).

A method takes the release table (the dataset's released columns, one row per record, values in the standard's
vocabulary, multi-valued fields `;`-joined) and a `MethodParams`, and returns:

    microdata        the protected rows, same columns as the input, every value as text
    aggregates       the protected combination counts: `combination, length, count, protection`
    report           public, JSON-ready: the guarantee, and risk and utility measured on the output alone
    steward_report   JSON-ready, for data stewards only: everything computed on the input (its record count,
                     what was dropped or suppressed from it, the comparison with its exact counts, its risk)

The engine (`ctdc.privacy`) does the work; this module only adapts the release table to it:

- `k-anonymity`: `make_k_anonymous` generalizes and suppresses the quasi-identifiers (year -> 5-year period,
  age band -> majority status, any of them -> `*`, records dropped as a last resort); the sensitive columns are
  kept as they are. Aggregates: k-rounded counts (`protect_k_rounding`) of the k-anonymous rows.
- `k-synthetic` / `dp-synthetic`: `make_synthetic_release` samples synthetic rows from k-protected or
  (epsilon, delta)-DP counts of every combination up to length L, over the release's public domain
  (`release_domain`: the standard's code lists and declared ranges, never the data). Multi-valued fields are first spread into one
  flag column per code (`1` or missing, as in Synthetic Data Showcase and the public CTDC synthetic data), and
  gathered back afterwards, so a victim's set of means of control is synthesised attribute by attribute.

Register another method with `register("name")` on a function of the same shape.

>>> sorted(METHODS)
['dp-synthetic', 'k-anonymity', 'k-synthetic']
>>> MethodParams(k=11).as_dict("k-anonymity")
{'k': 11}
>>> MethodParams(budget=Budget.dp(2.0, delta=1e-7)).as_dict("dp-synthetic")["delta"]
1e-07
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
from ctdc.privacy.budget import Budget
from ctdc.privacy.domain import Domain
from ctdc.privacy.hierarchy import age_band_hierarchy, year_hierarchy
from ctdc.privacy.kanon import make_k_anonymous
from ctdc.privacy.pipeline import make_synthetic_release
from ctdc.privacy.risk import assess_risk
from ctdc.privacy.suppression import suppress_rare_combinations
from ctdc.privacy.table import encode_table
from ctdc.standard import Dataset

FLAG_SEP = "__"


@dataclass(frozen=True)
class MethodParams:
    """Privacy parameters of a release (the release spec). `budget` is the DP budget (privacy unit: one victim).

    `ranges` declares integer ranges for the release's public domain, e.g. `{"registration_year": (2010, 2025)}`;
    integer fields without one use the bounds the standard gives them (registration_year: 2000-2030), a year
    field (unit `year`) ending at `years_to` when it is set: `build_release` sets it to the year the release is
    built, a public fact, so no synthetic record is registered in a year that has not happened yet.
    """

    k: int = 11
    budget: Budget = field(default_factory=Budget.dp)
    length: int = 3
    resolution: int = 10
    seed: int = 0
    # Where DP releases are charged (ctdc.privacy.ledger.PrivacyLedger); None charges nothing (standalone use).
    ledger: Any = field(default=None, compare=False)
    purpose: str = "release"
    ranges: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    years_to: int | None = None

    def as_dict(self, method: str) -> dict[str, Any]:
        """The parameters that matter for `method`, as recorded in metadata and the catalogue."""
        if method == "k-anonymity":
            return {"k": self.k}
        if method == "k-synthetic":
            return {"k": self.k, "length": self.length, "resolution": self.resolution, "seed": self.seed}
        return {"epsilon": self.budget.epsilon, "delta": self.budget.delta, "delta_rule": self.budget.delta_rule,
                "length": self.length, "k": self.k, "seed": self.seed,
                **({"ranges": {c: list(r) for c, r in self.ranges.items()}} if self.ranges else {})}


def release_domain(columns: list[str], ds: Dataset, params: MethodParams) -> Domain:
    """The public domain of the release table's columns (after `to_flags`): the standard's code lists, flags
    `1`, booleans, and integer ranges declared in `params.ranges` or else the standard's bounds. Never the data.

    >>> from ctdc.standard import load_standard
    >>> d = release_domain(["gender", "registration_year"], load_standard().dataset("victims"), MethodParams())
    >>> d.describe()["registration_year"]
    'bounds of the field in the standard: 2000-2030 (31 values)'
    >>> d = release_domain(["registration_year"], load_standard().dataset("victims"), MethodParams(years_to=2026))
    >>> d.describe()["registration_year"]
    'range declared for the release: 2000-2026 (27 values)'
    """
    return Domain.from_standard(ds, columns, ranges={**_years_to_date(columns, ds, params), **params.ranges})


def _years_to_date(columns: list[str], ds: Dataset, params: MethodParams) -> dict[str, tuple[int, int]]:
    """Year fields whose standard bounds run past `params.years_to`, ended there."""
    if params.years_to is None:
        return {}
    out = {}
    for name in columns:
        if name not in ds.field_names:
            continue
        f = ds.field(name)
        if f.unit == "year" and f.min is not None and f.max is not None and int(f.max) > params.years_to:
            out[name] = (int(f.min), max(int(f.min), params.years_to))
    return out


@dataclass(frozen=True, eq=False)
class MethodResult:
    microdata: pl.DataFrame
    aggregates: pl.DataFrame
    report: dict[str, Any]
    steward_report: dict[str, Any] = field(default_factory=dict)


Method = Callable[[pl.DataFrame, MethodParams, Dataset], MethodResult]
METHODS: dict[str, Method] = {}


def register(name: str) -> Callable[[Method], Method]:
    """Decorator adding a method to the registry under `name`."""
    def deco(fn: Method) -> Method:
        METHODS[name] = fn
        return fn
    return deco


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise InvalidPrivacyParameter(f"Unknown release method '{name}'. Known: {', '.join(sorted(METHODS))}.",
                                      {"method": name}) from None


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (booleans as `true`/`false`), empty strings as missing."""
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.len_chars() == 0).then(None)
        .otherwise(pl.col(c).cast(pl.String)).alias(c) for c in frame.columns)


def multi_valued(frame: pl.DataFrame, ds: Dataset) -> list[str]:
    return [f.name for f in ds.fields if f.type == "codes" and f.name in frame.columns]


def to_flags(frame: pl.DataFrame, ds: Dataset) -> pl.DataFrame:
    """Spread each multi-valued field into `<field>__<code>` columns holding `1` or missing.

    >>> from ctdc.standard import load_standard
    >>> ds = load_standard().dataset("victims")
    >>> f = to_flags(pl.DataFrame({"recruiter_relations": ["friend;family", None]}), ds)
    >>> f.select("recruiter_relations__friend", "recruiter_relations__other").rows()
    [('1', None), (None, None)]
    """
    exprs = []
    for name in multi_valued(frame, ds):
        parts = pl.col(name).str.split(";")
        for code in ds.field(name).codelist.codes:
            exprs.append(pl.when(parts.list.contains(code)).then(pl.lit("1")).otherwise(None)
                         .alias(f"{name}{FLAG_SEP}{code}"))
    return frame.with_columns(exprs).drop(multi_valued(frame, ds))


def from_flags(flags: pl.DataFrame, columns: list[str], ds: Dataset) -> pl.DataFrame:
    """Gather flag columns back into `;`-joined fields (codes in code-list order); no flag set -> missing.

    >>> from ctdc.standard import load_standard
    >>> ds = load_standard().dataset("victims")
    >>> f = to_flags(pl.DataFrame({"recruiter_relations": ["family;friend", None]}), ds)
    >>> from_flags(f, ["recruiter_relations"], ds)["recruiter_relations"].to_list()
    ['friend;family', None]
    """
    exprs = []
    for name in columns:
        if ds.field(name).type != "codes":
            continue
        parts = [pl.when(pl.col(f"{name}{FLAG_SEP}{code}") == "1").then(pl.lit(code)).otherwise(None)
                 for code in ds.field(name).codelist.codes]
        joined = pl.concat_str(parts, separator=";", ignore_nulls=True)
        exprs.append(pl.when(joined == "").then(None).otherwise(joined).alias(name))
    flag_cols = [c for c in flags.columns if FLAG_SEP in c]
    return flags.with_columns(exprs).drop(flag_cols).select(columns)


def _aggregates_frame(agg) -> pl.DataFrame:
    """The aggregates with a short `protection` text on every row: the method and, for DP, the row's noise.

    The whole protection record is in report.json; repeating it on each of 100,000+ rows would only bloat the
    file. A DP row states its noise standard deviation (`sd`): its length's, and for a 1-way count measured
    column by column its column's, so a researcher can put an interval around any count.
    """
    p = agg.protection
    frame = agg.to_frame()
    method = p.get("method", "none")
    if method == "k-rounding":
        return frame.with_columns(pl.lit(f"k-rounding k={p['k']} resolution={p['resolution']}").alias("protection"))
    if method != "differential-privacy":
        return frame.with_columns(pl.lit(method).alias("protection"))
    head = f"differential privacy epsilon={p['epsilon']:g} delta={p['delta']:.3g}"
    if "aggregates" in p:  # dp-synthetic: counts of the released DP rows (post-processing), no noise of their own
        return frame.with_columns(pl.lit(f"{head}; counts of the DP synthetic rows").alias("protection"))
    by_length = {int(k): v for k, v in p.get("sigma_by_length", {}).items()}
    by_column = {name: v["sigma"] for name, v in p.get("one_way_by_column", {}).items()}
    sd = pl.col("length").replace_strict(by_length, default=None, return_dtype=pl.Float64)
    if by_column:
        column = pl.col("combination").str.extract(r"^([^:]*):", 1)
        sd = pl.when(pl.col("length") == 1).then(column.replace_strict(by_column, default=None,
                                                                        return_dtype=pl.Float64)).otherwise(sd)
    text = pl.when(sd.is_null()).then(pl.lit(head)).otherwise(pl.lit(head + " sd=") + sd.round(1).cast(pl.String))
    return frame.with_columns(text.alias("protection"))


@register("k-anonymity")
def k_anonymity(frame: pl.DataFrame, params: MethodParams, ds: Dataset) -> MethodResult:
    """k-anonymous microdata (real records, quasi-identifiers generalized or suppressed) and k-rounded counts."""
    text = as_text(frame)
    qi = [c for c in ds.quasi_identifiers if c in text.columns]
    hierarchies = [age_band_hierarchy()] if "age_band" in qi else []
    if "registration_year" in qi:
        years = [int(y) for y in text["registration_year"].drop_nulls().unique().to_list()]
        if years:
            hierarchies.append(year_hierarchy(min(years), max(years), width=5))
    result = make_k_anonymous(text, qi, k=params.k, hierarchies=hierarchies)
    # The other released columns join the quasi-identifiers in short combinations: suppress their rare values
    # until no combination of up to L released values describes fewer than k rows (checks.py recounts it).
    others = [c for c in text.columns if c not in qi]
    micro, rare_cells = suppress_rare_combinations(result.data.select(text.columns), qi, others, k=params.k,
                                                   length=params.length, multi=multi_valued(text, ds))
    flags = to_flags(micro, ds)
    table = encode_table(flags)
    agg = protect_k_rounding(count_combinations(table, params.length, min_count=params.k), k=params.k,
                             resolution=params.resolution)
    recoding = result.as_dict()
    # What the rows themselves show (their number, the generalization levels) is public; what needs the input
    # (records in and dropped, cells and codes suppressed, loss over them, the search) is for stewards.
    shown = ("k", "quasi_identifiers", "levels", "records_retained")
    report = {
        "guarantee": {"method": "k-anonymity", "privacy_unit": ds.privacy_unit,
                      **{key: recoding[key] for key in shown},
                      "rare_combinations": f"no combination of up to {params.length} released values is held by "
                                           f"1 to {params.k - 1} rows (rarer values suppressed: '*')"},
        "risk_output": assess_risk(micro, qi, k=params.k, length=min(params.length, len(qi))).as_dict(),
        "output": {"records": micro.height},
    }
    steward = {
        "recoding": {**{key: v for key, v in recoding.items() if key not in shown},
                     "rare_values_suppressed": rare_cells},
        "risk_input": assess_risk(text, qi, k=params.k, length=min(params.length, len(qi))).as_dict(),
    }
    return MethodResult(micro, _aggregates_frame(agg), report, steward)


def _synthetic(frame: pl.DataFrame, params: MethodParams, ds: Dataset, engine_method: str) -> MethodResult:
    text = as_text(frame)
    flags = to_flags(text, ds)
    qi = [c for c in ds.quasi_identifiers if c in flags.columns]
    # The candidates of the counts come from the standard, never from the release table (issue 13): a value or
    # flag held by one victim is a candidate whether or not that victim is in the table.
    rel = make_synthetic_release(flags, method=engine_method, k=params.k, resolution=params.resolution,
                                 budget=params.budget, length=params.length, seed=params.seed,
                                 quasi_identifiers=qi, ledger=params.ledger, dataset=ds.name,
                                 purpose=params.purpose, domain=release_domain(flags.columns, ds, params))
    # The input's flag table and then the synthetic rows' (~100 text columns of every row each) are freed as
    # soon as they are used, and flag columns (already `1` or missing text) are not copied by `as_text`: three
    # fewer copies of the widest table keep a 250,000-victim release under 2 GB.
    del flags
    synthetic = rel.synthetic
    copy = [c for c in synthetic.columns if FLAG_SEP not in c or synthetic.schema[c] != pl.String]
    micro = from_flags(synthetic.with_columns(as_text(synthetic.select(copy))), text.columns, ds)
    report = dict(rel.report)
    report["guarantee"] = {**report["guarantee"], "privacy_unit": ds.privacy_unit}
    steward = dict(rel.steward_report)
    aggregates = rel.aggregates
    del rel, synthetic
    if engine_method == "k-synthetic":
        # A synthetic row can equal, on every column, a record that is unique in the input even though each of
        # its short combinations is common. Blanking that row's rarest cell keeps the k-synthetic guarantee (it
        # removes a value), spares one victim's whole record, and keeps the row count and every count at or
        # below the published ones. Not done for dp-synthetic: a filter that reads the input is not
        # post-processing and would void the DP guarantee.
        micro, blanked = blank_unique_copies(text, micro)
        steward["unique_record_copies_blanked"] = blanked  # counted on the input
    # The public risk is that of the rows as published (after any blanking), so that every number in it can be
    # recomputed from the published file alone; the engine's was measured before the blanking.
    length = min(params.length, len(qi))
    # Only the columns the quasi-identifiers come from are spread into flags: the risk reads nothing else.
    sources = [c for c in micro.columns if c in qi or any(q.startswith(f"{c}{FLAG_SEP}") for q in qi)]
    report["risk_synthetic"] = (assess_risk(to_flags(as_text(micro.select(sources)), ds), qi, k=params.k,
                                            length=length).as_dict() if micro.height else None)
    return MethodResult(micro, _aggregates_frame(aggregates), report, steward)


def blank_unique_copies(source: pl.DataFrame, rows: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """`rows` where each row identical (every column, missing included) to a record unique in `source` has its
    rarest value (fewest rows of `rows` hold it) made missing; and the number of rows changed.

    >>> src = pl.DataFrame({"a": ["x", "y", "y"], "b": [None, "u", "u"]})
    >>> out, n = blank_unique_copies(src, pl.DataFrame({"a": ["x", "y", "x", "x"], "b": [None, "u", "v", "v"]}))
    >>> out.rows(), n
    ([(None, None), ('y', 'u'), ('x', 'v'), ('x', 'v')], 1)
    """
    cols = rows.columns
    changed: set[int] = set()

    def filled(f: pl.DataFrame) -> pl.DataFrame:
        return f.select(pl.col(c).cast(pl.String).fill_null("\x00") for c in cols)

    unique = filled(source).group_by(cols).len().filter(pl.col("len") == 1).drop("len")
    for _ in range(len(cols)):  # each round blanks one more cell of a row that still copies a unique record
        copies = filled(rows).with_row_index("_row").join(unique, on=cols, how="semi")["_row"].to_list()
        if not copies:
            break
        freq = rows.select(pl.len().over(c).alias(c) for c in cols)  # rows sharing each cell's value
        masked = freq.select(pl.when(rows[c].is_null()).then(None).otherwise(pl.col(c)).alias(c) for c in cols)
        picks = masked[copies].select(pl.concat_list(cols).list.arg_min().alias("col"))["col"].to_list()
        data = {c: rows[c].to_list() for c in cols}
        for r, j in zip(copies, picks, strict=True):
            if j is not None:
                data[cols[j]][r] = None
            changed.add(r)
        rows = pl.DataFrame(data, schema=rows.schema)
    return rows, len(changed)


@register("k-synthetic")
def k_synthetic(frame: pl.DataFrame, params: MethodParams, ds: Dataset) -> MethodResult:
    """Synthetic rows whose every combination up to length L occurs at least k times in the input."""
    return _synthetic(frame, params, ds, "k-synthetic")


@register("dp-synthetic")
def dp_synthetic(frame: pl.DataFrame, params: MethodParams, ds: Dataset) -> MethodResult:
    """Synthetic rows sampled from (epsilon, delta)-differentially private counts (privacy unit: one victim)."""
    return _synthetic(frame, params, ds, "dp")
