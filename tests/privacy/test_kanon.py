"""k-anonymization by global recoding and local suppression: the guarantee, checked outside the engine."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdc.errors import KAnonymityNotMet
from ctdc.privacy.hierarchy import SUPPRESSED, Hierarchy, age_band_hierarchy, year_hierarchy
from ctdc.privacy.kanon import make_k_anonymous, suppress_only
from ctdc.privacy.simulated import COUNTRY_SUBREGION, SUBREGION_REGION

REGIONS, CONTINENT = COUNTRY_SUBREGION, SUBREGION_REGION
QI = ["gender", "age_band", "citizenship", "registration_year"]


def hierarchies(column_country: str = "citizenship") -> list[Hierarchy]:
    return [
        age_band_hierarchy("age_band"),
        Hierarchy(column_country, [REGIONS, CONTINENT], names=["country", "subregion", "region"]),
        year_hierarchy(2010, 2022, width=5, column="registration_year"),
    ]


def smallest_class(df: pl.DataFrame, qi: list[str]) -> float:
    """Smallest class of the frame (infinite for an empty frame, which is trivially k-anonymous)."""
    return df.group_by(qi).len().get_column("len").min() if df.height else float("inf")


def test_every_quasi_identifier_combination_of_the_output_has_at_least_k_records(victims):
    res = make_k_anonymous(victims, QI, k=11, hierarchies=hierarchies())
    assert smallest_class(res.data, QI) >= 11
    assert res.data.height == res.records_retained <= victims.height


def test_recoding_keeps_more_records_than_suppression_alone_on_the_simulated_victims(victims):
    res = make_k_anonymous(victims, QI, k=11, hierarchies=hierarchies())
    baseline = suppress_only(victims, QI, k=11)
    print(
        f"simulated victims: k-anonymization keeps {res.records_retained}, suppression alone {baseline.height}"
    )
    assert smallest_class(baseline, QI) >= 11
    assert res.baseline_records_retained == baseline.height
    assert res.records_retained > baseline.height


def test_recoding_keeps_more_records_than_suppression_alone_on_the_public_ctdc_layout(ctdc_public):
    qi = ["gender", "ageBroad", "citizenship", "CountryOfExploitation", "yearOfRegistration"]
    band = {c.replace("-", "--"): v for c, v in age_band_hierarchy().levels[0].items()}
    hs = [
        Hierarchy("ageBroad", [band]),
        Hierarchy("citizenship", [REGIONS, CONTINENT]),
        Hierarchy("CountryOfExploitation", [REGIONS, CONTINENT]),
        year_hierarchy(2002, 2021, width=5, column="yearOfRegistration"),
    ]
    res = make_k_anonymous(ctdc_public, qi, k=11, hierarchies=hs)
    baseline = suppress_only(ctdc_public, qi, k=11)
    print(
        f"public CTDC layout: k-anonymization keeps {res.records_retained}, suppression alone {baseline.height}"
    )
    assert smallest_class(res.data, qi) >= 11
    assert res.records_retained > baseline.height


def test_the_search_picks_the_lattice_node_with_the_least_information_loss(victims):
    res = make_k_anonymous(victims, QI, k=11, hierarchies=hierarchies())
    bottom = make_k_anonymous(victims, QI, k=11, hierarchies=hierarchies(), max_nodes=1)
    assert res.nodes_evaluated > 1 and bottom.nodes_evaluated == 1
    assert res.information_loss <= bottom.information_loss
    assert 0 <= res.information_loss <= 1


values = st.sampled_from(["2010", "2011", "2012", "2013", "2014", None])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(values, st.sampled_from(["f", "m", None]), st.sampled_from(["9-17", "18-20", "30-38"])),
                  min_size=1, max_size=60),
    k=st.integers(1, 6),
)  # fmt: skip
def test_generalization_never_creates_rows_or_categories_and_every_class_reaches_k(rows, k):
    df = pl.DataFrame(rows, schema={"year": pl.String, "sex": pl.String, "age": pl.String}, orient="row")
    hs = [year_hierarchy(2010, 2014, 5, "year"), age_band_hierarchy("age")]
    try:
        res = make_k_anonymous(df, ["year", "sex", "age"], k=k, hierarchies=hs)
    except KAnonymityNotMet:
        assert df.height < k  # only a table smaller than k cannot be made k-anonymous
        return
    assert res.data.height <= df.height
    assert smallest_class(res.data, ["year", "sex", "age"]) >= k
    allowed = {
        "year": {None, SUPPRESSED, "2010-2014", *[r[0] for r in rows]},
        "sex": {None, SUPPRESSED, "f", "m"},
        "age": {None, SUPPRESSED, "minor", "adult", *[r[2] for r in rows]},
    }
    for col, ok in allowed.items():
        assert set(res.data.get_column(col).to_list()) <= ok


def test_a_table_smaller_than_k_is_refused():
    with pytest.raises(KAnonymityNotMet):
        make_k_anonymous(pl.DataFrame({"a": ["x", "y"]}), ["a"], k=3)
