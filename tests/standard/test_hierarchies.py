"""Generalization hierarchies of quasi-identifiers (issue 5: age -> band -> minor/adult, country -> M49, date)."""

import pytest

from ctdc.errors import CodebookError
from ctdc.standard import load_standard
from ctdc.standard.hierarchies import generalize, generalize_field

SAMPLES = {"age": 17, "age_band": "18-20", "perpetrator_age_band": "30-38", "majority_status": "adult",
           "country": "SL", "subregion": "202", "region": "002", "date": "2012-05-06", "year": 2012,
           "period": "2010-2014", "gender": "male", "month": 5, "ctdc_region": "americas_oceania"}  # fmt: skip


def test_every_quasi_identifier_generalizes_to_each_level_of_its_hierarchy_with_a_valid_value():
    std = load_standard()
    for ds in std.datasets.values():
        for name in ds.quasi_identifiers:
            f = ds.field(name)
            start = SAMPLES[f.hierarchy[0]]
            for level in f.hierarchy:
                value = generalize_field(f, start, level)
                assert value is not None, (ds.name, name, level)
                codelist = {"age_band": "age_band", "majority_status": "majority_status", "region": "un_m49_region",
                            "subregion": "un_m49_subregion", "period": "period",
                            "perpetrator_age_band": "perpetrator_age_band", "ctdc_region": "ctdc_region"}.get(level)  # fmt: skip
                if codelist:
                    assert value in std.codelist(codelist), (ds.name, name, level, value)


@pytest.mark.parametrize(
    ("value", "level", "to", "expected"),
    [
        (8, "age", "age_band", "0-8"),
        (9, "age", "age_band", "9-17"),
        (17, "age", "majority_status", "minor"),
        (18, "age", "majority_status", "adult"),
        ("9-17", "age_band", "majority_status", "minor"),
        (29, "age", "perpetrator_age_band", "0-29"),
        ("SL", "country", "subregion", "202"),
        ("SL", "country", "region", "002"),
        ("SL", "country", "ctdc_region", "africa"),
        ("009", "region", "ctdc_region", "americas_oceania"),
        ("MX", "country", "subregion", "419"),
        ("2004-12-31", "date", "year", 2004),
        (1999, "year", "period", "1900-1999"),
        (2023, "year", "period", "2020-2024"),
        (None, "country", "region", None),
    ],
)
def test_values_generalize_to_the_expected_coarser_level(value, level, to, expected):
    assert generalize(value, level, to) == expected


def test_antarctica_has_no_m49_region_and_generalizes_to_suppression():
    assert generalize("AQ", "country", "region") is None


def test_generalizing_downwards_is_an_error():
    with pytest.raises(CodebookError):
        generalize("002", "region", "country")
