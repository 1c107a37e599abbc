"""Neighbour experiments on the DP engine: what an attacker who knows every record but one can learn.

Neighbouring relation (docs/privacy.md): one victim added or removed with all their rows (one row each). For
every DP entry point of `ctdc.privacy` (the aggregates `make_dp_aggregates`, DP synthesis
`make_synthetic_release(method="dp")`, `ctdc synth --method dp --domain FILE`), we take a base table D and neighbours D + v where the extra victim v has

- a value no one else has (a citizenship),
- a flag no one else sets (a flag column that is missing everywhere in D),
- a combination no one else has (each of its values common),
- nothing special (a copy of a typical record),

and check two things:

1. everything deterministic in the output is identical for D and D + v: columns, categories (the domain),
   length-1 candidate count, delta, rho, the report's guarantee section. The contribution bound m* is itself
   a noisy (DP) output and the noise sds depend on it: those are checked to be exactly the documented function
   of m* and public numbers (`neighbour_view.public_protection`) instead of compared;
2. the rate at which the unique value appears in the output, over repeated runs, is within the DP bound
   (`dp_bound.dp_violation`: exact binomial bounds, false-failure probability 1e-6).

The engine before issue 13 (7c3564b) failed both: the candidates were the values present in the data, so the
unique value was never a candidate without v (and never released), and delta was 1/(n ln n) of the exact n.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from ctdc.cli.main import cli
from ctdc.privacy.budget import Budget
from ctdc.privacy.domain import ColumnDomain, Domain
from ctdc.privacy.dp import DPSettings, make_dp_aggregates
from ctdc.privacy.pipeline import make_synthetic_release
from ctdc.privacy.table import encode_table
from ctdc.standard import load_standard

from .dp_bound import dp_violation
from .neighbour_view import public_protection

UNIQUE_COUNTRY = "IS"  # Iceland: in the ISO list, held by no one in the base table
COMMON = ["PH", "VN", "TH", "UA", "NG"]
EMPTY_FLAG = "exploitation_types__organ_removal"  # no record of the base table sets it

# --- the only calls into the engine (adapt these, and only these, to run the suite on another API) ---------


def domain() -> Domain:
    cl = load_standard().codelists
    return Domain({
        "gender": ColumnDomain(cl["gender"].codes, "code list 'gender'"),
        "age_band": ColumnDomain(cl["age_band"].codes, "code list 'age_band'"),
        "citizenship": ColumnDomain(cl["country"].codes, "code list 'country' (ISO 3166-1)"),
        "exploitation_types__forced_labour": ColumnDomain(("1",), "flag"),
        EMPTY_FLAG: ColumnDomain(("1",), "flag"),
        "registration_year": ColumnDomain(tuple(str(y) for y in range(2015, 2025)), "declared range 2015-2024"),
    })


_ENCODED: dict[int, tuple[pl.DataFrame, object]] = {}


def dp_aggregates(df: pl.DataFrame, epsilon: float, length: int, threshold: tuple[float, ...] = (1.0, 2.5)):
    # Encoding is deterministic: done once per table (the runs repeat only the DP mechanism).
    if id(df) not in _ENCODED:
        _ENCODED[id(df)] = (df, encode_table(df, domain=domain()))
    table = _ENCODED[id(df)][1]
    return make_dp_aggregates(table, DPSettings(budget=Budget.dp(epsilon, 1e-6), length=length,
                                                threshold=threshold))


def dp_synthesis(df: pl.DataFrame, epsilon: float, length: int, seed: int = 0):
    return make_synthetic_release(df, method="dp", budget=Budget.dp(epsilon, 1e-6), length=length, seed=seed,
                                  domain=domain())


# --- the tables --------------------------------------------------------------------------------------------


def base_table(n: int = 300, seed: int = 1) -> pl.DataFrame:
    """Simulated victims (seeded data, never noise); no male aged 0-8 from PH, no organ removal, no IS."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["female", "male"], size=n, p=[0.7, 0.3])
    band = rng.choice(["0-8", "9-17", "18-20", "21-23", "24-26"], size=n)
    country = rng.choice(COMMON, size=n)
    clash = (gender == "male") & (band == "0-8") & (country == "PH")
    country[clash] = "VN"
    labour = np.where(rng.random(n) < 0.4, "1", None)
    year = rng.integers(2016, 2024, size=n).astype(str)
    return pl.DataFrame({
        "gender": gender.tolist(), "age_band": band.tolist(), "citizenship": country.tolist(),
        "exploitation_types__forced_labour": labour.tolist(), EMPTY_FLAG: [None] * n,
        "registration_year": year.tolist(),
    }, schema={c: pl.String for c in domain().names})


def plus(df: pl.DataFrame, **values: str | None) -> pl.DataFrame:
    """`df` plus one victim: the first record with `values` changed."""
    row = df.head(1).with_columns(pl.lit(v, dtype=pl.String).alias(c) for c, v in values.items())
    return pl.concat([df, row])


BASE = base_table()
NEIGHBOURS = {
    "unique value": plus(BASE, citizenship=UNIQUE_COUNTRY),
    "flag no one else sets": plus(BASE, **{EMPTY_FLAG: "1"}),
    "unique combination": plus(BASE, gender="male", age_band="0-8", citizenship="PH"),
    "one extra record": plus(BASE),
}


# The repeated runs use three columns only (fewer OpenDP calls per run: about 15 ms).
_NARROW = ["gender", "citizenship", EMPTY_FLAG]
STATISTICAL = {case: (BASE.select(_NARROW), NEIGHBOURS[case].select(_NARROW))
               for case in ("unique value", "flag no one else sets")}


def public_view(agg) -> dict:
    """Everything in the aggregates that is neither a noisy count nor a function of the (noisy) m*: must not
    depend on any one victim (`neighbour_view.public_protection` checks the m*-dependent entries)."""
    return {"columns": agg.columns, "categories": agg.categories,
            "protection": public_protection(agg.protection, len(agg.columns))}


# --- 1. deterministic parts --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(NEIGHBOURS))
def test_dp_aggregates_deterministic_parts_do_not_depend_on_one_victim(case):
    va, vb = (public_view(dp_aggregates(df, epsilon=1.0, length=2)) for df in (BASE, NEIGHBOURS[case]))
    assert va["categories"] == vb["categories"]
    assert va["protection"]["candidates_by_length"] == vb["protection"]["candidates_by_length"]
    assert va["protection"]["delta"] == vb["protection"]["delta"]
    assert va == vb


@pytest.mark.parametrize("case", list(NEIGHBOURS))
def test_dp_synthesis_deterministic_parts_do_not_depend_on_one_victim(case):
    a, b = (dp_synthesis(df, epsilon=1.0, length=2) for df in (BASE, NEIGHBOURS[case]))
    assert a.synthetic.schema == b.synthetic.schema
    assert public_view(a.aggregates) == public_view(b.aggregates)
    ga, gb = ({k: v for k, v in public_protection(x.report["guarantee"], BASE.width).items() if k != "ledger_entry"}
              for x in (a, b))
    assert ga == gb
    assert a.aggregates.to_frame().schema == b.aggregates.to_frame().schema


def test_every_column_of_the_domain_is_a_candidate_even_when_no_record_holds_it():
    agg = dp_aggregates(BASE, epsilon=1.0, length=1)
    cats = dict(zip(agg.columns, agg.categories, strict=True))
    assert UNIQUE_COUNTRY in cats["citizenship"] and len(cats["citizenship"]) == len(domain()["citizenship"].values)
    assert cats[EMPTY_FLAG] == ("1",)
    assert agg.protection["domain_public"] is True


def test_the_released_record_count_is_noisy_and_delta_does_not_depend_on_the_input_size():
    # The released total is a noisy estimate (it moves from run to run), and delta is the same for 300 records
    # as for 100: a delta of 1/(n ln n) published the exact n.
    totals = {round(dp_aggregates(BASE, epsilon=1.0, length=1).total, 6) for _ in range(5)}
    assert len(totals) > 1
    deltas = {dp_aggregates(df, epsilon=1.0, length=1).protection["delta"] for df in (BASE, BASE.head(100))}
    assert len(deltas) == 1


# --- 2. presence of a unique value, over repeated runs ------------------------------------------------------


def _released(agg, column: str, value: str) -> bool:
    j = agg.columns.index(column)
    code = agg.categories[j].index(value) if value in agg.categories[j] else None
    m = agg.marginals.get((j,))
    return code is not None and m is not None and bool((m.values[:, 0] == code).any())


@pytest.mark.parametrize("case,column,value", [("unique value", "citizenship", UNIQUE_COUNTRY),
                                               ("flag no one else sets", EMPTY_FLAG, "1")])
def test_presence_of_a_unique_value_in_dp_aggregates_stays_within_the_dp_bound(case, column, value):
    # epsilon 0.5 keeps e^epsilon small, so a leak is visible in 150 runs; threshold 0 keeps every count >= 1,
    # which makes the unique value's presence frequent on both sides (about half the runs). Power: a value
    # never released without the victim and half the time with them fails at about 55 of 150 (old engine).
    runs, epsilon = 150, 0.5
    hits = [sum(_released(dp_aggregates(df, epsilon, 1, threshold=(0.0,)), column, value) for _ in range(runs))
            for df in STATISTICAL[case]]
    problem = dp_violation(hits[0], hits[1], runs, epsilon=epsilon, delta=1e-6)
    assert problem is None, problem


def test_presence_of_a_unique_value_in_dp_synthetic_rows_stays_within_the_dp_bound():
    # The synthetic rows and the published aggregates together: the value appears in either. With the default
    # thresholds (1 sigma at length 1) the value shows in about one run in six on either side, too rare for
    # 100 runs to expose a leak of that size; this guards against gross leaks (always with the victim, never
    # without), the deterministic test above against the subtle ones.
    runs, epsilon = 100, 0.5
    small = BASE.head(120).select(_NARROW)
    pair = (small, plus(small, citizenship=UNIQUE_COUNTRY))

    def present(df: pl.DataFrame) -> bool:
        rel = dp_synthesis(df, epsilon, 1)
        return _released(rel.aggregates, "citizenship", UNIQUE_COUNTRY) or bool(
            (rel.synthetic["citizenship"] == UNIQUE_COUNTRY).any())

    hits = [sum(present(df) for _ in range(runs)) for df in pair]
    problem = dp_violation(hits[0], hits[1], runs, epsilon=epsilon, delta=1e-6)
    assert problem is None, problem


# --- 3. ctdc synth --method dp ------------------------------------------------------------------------------


def _synth_cli(tmp_path, name: str, df: pl.DataFrame, *extra: str):
    csv = tmp_path / f"{name}.csv"
    df.write_csv(csv)
    out = tmp_path / f"{name}-out"
    # Through the `ctdc` group, as a user runs it (a command invoked on its own caches a help option without
    # the group's `-h`, which then shows in the generated CLI reference).
    result = CliRunner().invoke(cli, ["synth", str(csv), "--method", "dp", "--epsilon", "1", "--length", "2",
                                      "-o", str(out), *extra])
    return result, out


def _domain_file(tmp_path) -> str:
    path = tmp_path / "domain.yaml"
    path.write_text(yaml.safe_dump({"columns": {c: list(domain()[c].values) for c in domain().names}}))
    return str(path)


@pytest.mark.parametrize("case", ["unique value", "flag no one else sets", "one extra record"])
def test_synth_cli_with_a_domain_file_writes_the_same_structure_for_neighbours(case, tmp_path):
    views = []
    for name, df in (("base", BASE), ("neighbour", NEIGHBOURS[case])):
        result, out = _synth_cli(tmp_path, name, df, "--domain", _domain_file(tmp_path))
        assert result.exit_code == 0, result.output
        assert "not formally differentially private" not in result.output
        report = json.loads((out / "report.json").read_text())
        aggregates = pl.read_csv(out / "aggregates.csv", infer_schema=False)
        views.append({
            "guarantee": public_protection(report["guarantee"], BASE.width),
            "synthetic_header": pl.read_csv(out / "synthetic.csv", n_rows=0).columns,
            "aggregates_header": aggregates.columns,
        })
    assert views[0]["guarantee"]["domain_public"] is True
    assert views[0] == views[1]


def test_synth_cli_without_a_domain_says_the_output_is_not_formally_private(tmp_path):
    result, out = _synth_cli(tmp_path, "bare", BASE)
    assert result.exit_code == 0, result.output
    assert "treated as public" in result.stderr and "not formally differentially private" in result.stderr
    guarantee = json.loads((out / "report.json").read_text())["guarantee"]
    assert guarantee["domain_public"] is False and "not formally differentially private" in guarantee["domain_warning"]


def test_synth_cli_refuses_a_column_missing_from_the_domain_file(tmp_path):
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"columns": {"gender": ["female", "male"]}}))
    result, out = _synth_cli(tmp_path, "partial", BASE, "--domain", str(path))
    assert result.exit_code == 1
    assert "citizenship" in result.stderr and "No public list of values" in result.stderr
    assert not out.exists()  # nothing written
