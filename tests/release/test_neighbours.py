"""Neighbour experiments on DP releases: the `dp-synthetic` method and `build_release`.

Neighbouring relation (docs/privacy.md): one victim added or removed with all their rows (the snapshot holds
one row per victim). The release table D is simulated victims in the standard's vocabulary; its neighbours add
one victim with a citizenship no one else has, an exploitation type no one else has (a flag column that D
leaves empty), a combination no one else has, or nothing special. Whatever is deterministic in what a release
publishes must be identical for D and its neighbour: the released columns, the categories (the domain), the
1-way candidate count, delta and rho, the noise sd written on every row of aggregates.csv, the codebook and the
data package's table schemas. The noise sds depend on the contribution bound m*, itself a DP output: they are
checked to be the documented function of m* and public numbers (`neighbour_view`) instead of compared.

The presence rate of a unique value over repeated runs is tested on the engine
(`tests/privacy/test_neighbours.py`): a release build takes about half a second, too slow for the hundreds of
runs a sound statistical test needs, and the release only post-processes the engine's output.

On the engine before issue 13 (7c3564b) these fail: the candidates came from the release table (a flag column
no one sets had no candidate, a unique citizenship was a candidate only with its victim), and delta was
1/(n ln n) of the exact input size.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from ctdc.fixtures.population import simulate_cases
from ctdc.privacy.budget import Budget
from ctdc.release.build import build_release, released_columns
from ctdc.release.methods import MethodParams, as_text, get_method, to_flags
from ctdc.standard import load_standard

from ..privacy.neighbour_view import public_protection, row_sds

DS = load_standard().dataset("victims")


def params(epsilon: float = 1.0, length: int = 2) -> MethodParams:
    """The only engine-API call of this module (adapt it, and only it, to run the suite on another API)."""
    return MethodParams(budget=Budget.dp(epsilon), length=length)


def _frame() -> pl.DataFrame:
    f = simulate_cases(200, seed=4)
    return f.select(released_columns(f, DS))


BASE = _frame()
# The engine's table: one column per released single-valued field and per code of each multi-valued field.
WIDTH = to_flags(as_text(BASE), DS).width


def _absent(column: str, codes: tuple[str, ...]) -> str:
    present = set(BASE[column].drop_nulls().str.split(";").explode().to_list())
    return next(c for c in codes if c not in present)


UNIQUE_COUNTRY = _absent("citizenship", DS.field("citizenship").codelist.codes)
UNIQUE_TYPE = _absent("exploitation_types", DS.field("exploitation_types").codelist.codes)


def plus(**values) -> pl.DataFrame:
    row = BASE.head(1).with_columns(pl.lit(v).cast(BASE.schema[c]).alias(c) for c, v in values.items())
    return pl.concat([BASE, row])


def _unique_combination() -> dict[str, str]:
    seen = set(BASE.select("gender", "age_band", "citizenship").rows())
    for g in BASE["gender"].drop_nulls().unique().sort():
        for a in BASE["age_band"].drop_nulls().unique().sort():
            for c in BASE["citizenship"].drop_nulls().unique().sort():
                if (g, a, c) not in seen:
                    return {"gender": g, "age_band": a, "citizenship": c}
    raise AssertionError("no absent combination")  # pragma: no cover


NEIGHBOURS = {
    "unique value": plus(citizenship=UNIQUE_COUNTRY),
    "flag no one else sets": plus(exploitation_types=UNIQUE_TYPE),
    "unique combination": plus(**_unique_combination()),
    "one extra record": plus(),
}


def _view(result) -> dict:
    """What the method's output publishes that is neither noise nor a function of the noisy m*."""
    g = result.report["guarantee"]
    row_sds(result.aggregates, g)  # every row's stated sd is the guarantee's sigma for its length or column
    return {"microdata": result.microdata.schema, "aggregates": result.aggregates.schema,
            "guarantee": public_protection(g, WIDTH)}


@pytest.mark.parametrize("case", list(NEIGHBOURS))
def test_dp_synthetic_method_publishes_nothing_deterministic_that_depends_on_one_victim(case):
    method = get_method("dp-synthetic")
    va, vb = (_view(method(df, params(), DS)) for df in (BASE, NEIGHBOURS[case]))
    assert va["guarantee"].get("domain") == vb["guarantee"].get("domain")
    assert va["guarantee"]["delta"] == vb["guarantee"]["delta"]
    assert va == vb


def test_the_release_domain_holds_every_code_of_the_standard_whatever_the_data():
    result = get_method("dp-synthetic")(BASE, params(length=1), DS)
    domain = result.report["guarantee"]["domain"]
    assert domain["citizenship"].startswith("code list 'country' of the standard (250 values)")
    assert domain[f"exploitation_types__{UNIQUE_TYPE}"].endswith("(1 values)")
    assert domain["registration_year"] == "bounds of the field in the standard: 2000-2030 (31 values)"
    assert result.report["guarantee"]["domain_public"] is True


def _public_structure(path: Path) -> dict:
    """What a reader of the release folder sees that carries no noise: file names, codebook, table schemas,
    parameters, aggregates.csv's header and its record-count row's protection text, and the public part of the
    protection record (domain, candidates, delta; `public_protection`) when the folder's report holds it. Each
    row's stated sd is checked against the sigma the report gives for its length or column."""
    package = json.loads((path / "datapackage.json").read_text())
    meta = json.loads((path / "metadata.json").read_text())
    aggregates = pl.read_csv(path / "aggregates.csv", infer_schema=False).with_columns(pl.col("length").cast(int))
    guarantee = _find(json.loads((path / "report.json").read_text()), "rho_spent")  # either DP mechanism
    if guarantee is not None:  # the protection record, wherever the public report holds it
        row_sds(aggregates, guarantee)
    return {
        "guarantee": public_protection(guarantee, WIDTH) if guarantee is not None else None,
        "files": sorted(p.name for p in path.iterdir()),
        "codebook": (path / "codebook.json").read_text(),
        "schemas": [(r["name"], r.get("schema")) for r in package["resources"]],
        "params": meta["params"],
        "aggregates_header": aggregates.columns,
        "count_row": aggregates.filter(pl.col("length") == 0)["protection"].to_list(),
    }


@pytest.mark.parametrize("case", ["unique value", "flag no one else sets"])
def test_a_dp_release_folder_has_the_same_structure_with_and_without_one_victim(case, tmp_path):
    a = build_release(BASE, root=tmp_path / "a", dataset="victims", version="2026.12.1", method="dp-synthetic",
                      params=params())
    b = build_release(NEIGHBOURS[case], root=tmp_path / "b", dataset="victims", version="2026.12.1",
                      method="dp-synthetic", params=params())
    assert _public_structure(a.path) == _public_structure(b.path)


def _find(obj, key: str):
    """The dict holding `key` anywhere in a JSON document (the report's layout may change around it)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            found = _find(v, key)
            if found is not None:
                return found
    return None
