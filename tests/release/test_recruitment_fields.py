"""Recruitment methods and online platforms are released with the rest (issue 17, item 7), in every method.

The simulator fills them (`ctdc.fixtures.population`): about 60 % of victims have a method of recruitment, online
recruitment and online exploitation name platforms. Each release of simulated victims must carry the three fields
in its microdata (CSV, Parquet), its codebook, its data package schema and its protected aggregates, with values.

k-anonymity suppresses a value of a released field wherever it makes, with up to two other released values, a
combination of fewer than k rows (k^m-anonymity, `ctdc.privacy.suppression`), and it suppresses the rarest value
of such a combination first. Platforms are rare (each under 4 % of victims), so on 10,000 simulated victims every
platform code of the k-anonymous rows is suppressed (`*`, "codes not shown") while methods of recruitment keep
hundreds of values; the test asserts that much (on 250,000 victims most platform codes survive).

k-synthesis refuses a value wherever it would make, with one or two of the row's earlier values, a combination
that fewer than k victims of the input hold (the k-synthetic guarantee), so on 10,000 victims its rows hold
methods of recruitment but no platform (a known limit of k-synthesis on small tables, docs/privacy.md); its
protected aggregates carry the platform counts. The test asserts that much.

Why 10,000 victims for dp-synthetic: a flag survives the DP model's compression when its noisy one-way count
reaches 3 sigma (sigma about 20 at epsilon 4 over the release's ~100 flag and value columns). With 10,000
simulated victims the most common code of each field is held by 250 or more of them (the test asserts it on the
input), 9 sigma above the cut or more, so the test cannot fail by chance.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from ctdc.fixtures.population import simulate_cases
from ctdc.release.build import build_release
from ctdc.release.methods import FLAG_SEP

FIELDS = ("recruitment_methods", "recruitment_platforms", "exploitation_platforms")
IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")
SIZES = {"k-anonymity": 10_000, "k-synthetic": 10_000, "dp-synthetic": 10_000}


@pytest.fixture(scope="module")
def population():
    return simulate_cases(10_000, seed=5).drop(*IDENTIFIERS)


def test_the_simulator_fills_recruitment_methods_and_platforms(population):
    for name in FIELDS:
        codes = population[name].drop_nulls().str.split(";").explode()
        assert codes.len() > 0.05 * population.height, name
        # the margin the dp-synthetic case below relies on
        assert codes.value_counts(sort=True)["count"][0] >= 250, name
    both = population.filter(pl.col("recruitment_platforms").is_not_null())
    online = both["recruitment_methods"].str.contains("online_social_network|online_advertisement")
    assert online.all()  # platforms of recruitment only for victims recruited online


@pytest.mark.parametrize("method", ["k-anonymity", "k-synthetic", "dp-synthetic"])
def test_every_method_releases_recruitment_methods_and_platforms(tmp_path, population, method):
    b = build_release(population.head(SIZES[method]), root=tmp_path, dataset="victims", version="2026.12.1",
                      method=method)
    micro = pl.read_parquet(b.path / "microdata.parquet")
    csv = pl.read_csv(b.path / "microdata.csv", infer_schema=False)
    for name in FIELDS:
        held = micro[name].drop_nulls()
        assert name in micro.columns and name in csv.columns
        assert csv[name].drop_nulls().len() == held.len()
        if method == "k-synthetic" and name != "recruitment_methods":
            continue  # see the module docstring: counted in the aggregates below
        assert held.len() > 0, f"{method}: {name} is empty"
        # values are codes of the field's code list, `;`-joined, or k-anonymity's suppression mark
        codes = set(held.str.split(";").explode().to_list()) - {"*"}
        assert codes <= _codes(b.path, name), codes
        if method != "k-anonymity" or name == "recruitment_methods":
            assert codes, f"{method}: {name} holds no code"
        else:  # every row that had a platform still says so: '*', codes not shown
            source = population.head(SIZES[method])[name].drop_nulls().len()
            assert held.len() >= source - (population.height - micro.height)
    package = json.loads((b.path / "datapackage.json").read_text())
    schema = {f["name"] for f in next(r for r in package["resources"] if r["name"] == "microdata")["schema"]["fields"]}
    assert set(FIELDS) <= schema
    # The protected counts hold them too, one flag per code (what the portal reads).
    combos = pl.read_csv(b.path / "aggregates.csv", infer_schema=False).filter(pl.col("length") == "1")["combination"]
    for name in FIELDS if method != "k-anonymity" else ("recruitment_methods",):
        assert combos.str.starts_with(f"{name}{FLAG_SEP}").any(), f"{method}: no aggregate of {name}"
    assert b.checks_passed


def _codes(path, name: str) -> set[str]:
    book = json.loads((path / "codebook.json").read_text())
    entry = next(f for f in book["fields"] if f["name"] == name)
    assert entry["type"] == "codes"
    return {c["code"] for c in entry["codes"]}
