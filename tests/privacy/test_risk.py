"""Risk assessment numbers, each recomputed independently with polars."""

from __future__ import annotations

import polars as pl
import pytest

from ctdc.errors import EmptyData, InvalidPrivacyParameter
from ctdc.privacy.risk import assess_risk

from .brute import combination_counts

QI = ["gender", "age_band", "citizenship", "registration_year"]


def test_class_sizes_k_uniques_and_records_at_risk_match_a_group_by(victims):
    report = assess_risk(victims, QI, sensitive=["exploitation_type"], k=5, length=2)
    sizes = victims.group_by(QI).len().get_column("len")
    per_record = victims.select(pl.len().over(QI)).to_series()
    assert report.k == sizes.min()
    assert report.n_classes == len(sizes)
    assert report.records_at_risk == (per_record < 5).sum()
    assert report.sample_uniques == (per_record == 1).sum()
    assert report.expected_reidentifications == pytest.approx(len(sizes))
    assert report.record_risk["max"] == pytest.approx(1 / sizes.min())
    assert sum(b["records"] for b in report.class_sizes) == victims.height


def test_l_diversity_is_the_smallest_number_of_distinct_sensitive_values_in_a_class(victims):
    report = assess_risk(victims, QI, sensitive=["exploitation_type", "labour_sector"], k=5, length=1)
    for col in ["exploitation_type", "labour_sector"]:
        distinct = victims.group_by(QI).agg(pl.col(col).drop_nulls().n_unique()).get_column(col)
        assert report.l_diversity[col] == distinct.min()


def test_rare_combinations_are_counted_per_length_over_the_quasi_identifiers(victims):
    report = assess_risk(victims, QI, k=11, length=3)
    raw = combination_counts(victims.select(QI), 3)
    expected = {size: sum(1 for c, n in raw.items() if len(c) == size and n < 11) for size in (1, 2, 3)}
    assert report.rare_combinations == expected


def test_the_report_serializes_and_prints_its_headline_numbers(victims):
    report = assess_risk(victims, QI, k=11)
    d = report.as_dict()
    assert d["k_threshold"] == 11 and set(d["rare_combinations"]) == {"1", "2", "3"}
    assert any("sample uniques" in line for line in report.summary_lines())


def test_a_single_row_is_unique_and_fully_at_risk():
    report = assess_risk(
        pl.DataFrame({"a": ["x"], "b": [None]}, schema={"a": pl.String, "b": pl.String}), ["a", "b"]
    )
    assert (report.k, report.records_at_risk, report.sample_uniques) == (1, 1, 1)


def test_zero_records_and_bad_parameters_are_refused():
    with pytest.raises(EmptyData):
        assess_risk(pl.DataFrame({"a": []}, schema={"a": pl.String}), ["a"])
    with pytest.raises(InvalidPrivacyParameter):
        assess_risk(pl.DataFrame({"a": ["x"]}), [], k=2)
    with pytest.raises(InvalidPrivacyParameter):
        assess_risk(pl.DataFrame({"a": ["x"]}), ["a"], k=0)
