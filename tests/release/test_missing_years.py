"""Records without a registration year (standard 0.3.0: the year is not required) still make a release that
passes its checks, with every method (issue 14, item 4)."""

import polars as pl
import pytest

from ctdc.fixtures.population import simulate_cases
from ctdc.release.build import build_release, verify_release

IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")


@pytest.fixture(scope="module")
def frame():
    cases = simulate_cases(500, seed=3).drop(*IDENTIFIERS).with_row_index("i")
    return cases.with_columns(
        pl.when(pl.col("i") % 9 == 0).then(None).otherwise(pl.col("registration_year")).alias("registration_year"),
    ).drop("i")


@pytest.mark.parametrize("method", ["k-anonymity", "k-synthetic", "dp-synthetic"])
def test_a_release_builds_and_verifies_when_some_records_have_no_registration_year(tmp_path, frame, method):
    assert frame["registration_year"].null_count() == 56
    built = build_release(frame, root=tmp_path, dataset="victims", version="2026.12.1", method=method)
    assert verify_release(built.path) == []
    if method == "dp-synthetic":  # its checks inform (DP is the guarantee); they must not block
        assert not any(c.blocking for c in built.checks if c.id != "unique-record-copies")
    else:
        assert [(c.id, c.passed) for c in built.checks] == [
            ("quasi-identifier-k", True), ("rare-combinations", True), ("unique-record-copies", True)]
    micro = pl.read_parquet(built.path / "microdata.parquet")
    assert micro.height > 0 and "registration_year" in micro.columns
    if method == "k-anonymity":  # a missing year is a value like any other: its rows form groups of k too
        qi = ["registration_year", "gender", "age_band", "majority_status", "majority_status_at_exploitation",
              "citizenship", "country_of_exploitation"]
        assert micro.group_by(qi).len()["len"].min() >= 11
