"""The age bands, the majority rule and the bounds of an age come from the standard alone (issue 14, item 6):
every place that applies them agrees with the code lists, for every possible age."""

import polars as pl

from ctdc.ingest.derive import age_band, majority_status
from ctdc.privacy.hierarchy import age_band_hierarchy, age_hierarchy
from ctdc.standard import load_standard
from ctdc.standard.hierarchies import generalize
from ctdc.standard.rules import age_bounds, age_of_majority, majority_of_age


def test_every_place_applies_the_standard_majority_rule_to_every_age():
    youngest, oldest = age_bounds()
    ages = list(range(youngest, oldest + 1))
    bands = load_standard().codelist("age_band")
    frame = pl.DataFrame({"age": ages}).select(band=age_band(pl.col("age")), majority=majority_status(pl.col("age")))
    expected = [bands.entry(b).extra["majority"] for b in frame["band"].to_list()]
    assert frame["majority"].to_list() == expected == [majority_of_age(a) for a in ages]
    assert [generalize(a, "age", "majority_status") for a in ages] == expected
    assert [age_hierarchy().generalize(str(a), 2) for a in ages] == expected
    assert [age_band_hierarchy().generalize(b, 1) for b in frame["band"].to_list()] == expected
    assert expected.index("adult") == age_of_majority() - youngest


def test_one_upper_bound_for_an_age(tmp_path):
    from ctdc.ingest.mapping import parse_mapping
    from ctdc.ingest.pipeline import ingest_file

    path = tmp_path / "ages.csv"
    path.write_text("id,year,minor\nA,2020,17\nB,2020,18\nC,2020,110\nD,2020,111\n")
    spec = parse_mapping("dataset: victims\nrecord_id: id\ncolumns:\n  year: {field: registration_year}\n"
                         "  minor: {field: majority_status, from_age: true}\n")
    result = ingest_file(path, spec, identity_key=b"k")
    assert result.records.sort("source_row")["majority_status"].to_list() == ["minor", "adult", "adult"]
    assert result.report.flatten() == [(5, "minor", "impossible-age")]
    assert result.report.problems["expected"].to_list() == [f"0 to {age_bounds()[1]}"]
