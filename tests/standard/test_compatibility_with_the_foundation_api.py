"""Intake, the simulator and releases were built against the 0.1.0 API, field names and codes: keep them."""

from ctdc.standard import CodeList, Dataset, Field, Standard, load_standard
from ctdc.standard.schema import country_codelist
from ctdc.standard.versioning import load_snapshot


def test_every_field_and_code_of_version_0_1_0_still_exists_with_the_same_type_and_role():
    old = load_snapshot("0.1.0")
    victims = load_standard().dataset("victims")
    for name, spec in old["datasets"]["victims"].items():
        f = victims.field(name)
        assert (f.type, f.role) == (spec["type"], spec["role"]), name
        if spec["codelist"]:
            assert f.codelist.name == spec["codelist"]
            assert set(old["codelists"][spec["codelist"]]) <= set(f.codelist.codes), name


def test_the_foundation_api_still_answers_as_before():
    std = load_standard()
    assert isinstance(std, Standard) and isinstance(std.dataset("victims"), Dataset)
    victims = std.dataset("victims")
    assert isinstance(victims.field("age"), Field)
    assert victims.direct_identifiers == (
        "full_name",
        "birth_date",
        "phone",
        "email",
        "address",
        "narrative",
        "registration_date",
    )
    assert "registration_year" in victims.field_names
    assert all(not f.is_direct_identifier for f in victims.stored_fields)
    assert {"age", "age_band", "gender", "citizenship", "country_of_exploitation"} <= set(
        victims.quasi_identifiers
    )
    gender = std.codelist("gender")
    assert isinstance(gender, CodeList) and "female" in gender and gender.label_of("female") == "Female"
    f = victims.field("age")
    assert (f.min, f.max, f.hierarchy, f.required) == (0, 110, ("age", "age_band", "majority_status"), False)
    assert "PH" in country_codelist()


def test_as_of_0_1_0_gives_back_exactly_the_stored_fields_the_foundation_had():
    old = load_snapshot("0.1.0")["datasets"]["victims"]
    expected = tuple(n for n, spec in old.items() if spec["role"] != "direct_identifier")
    victims = load_standard().dataset("victims")
    assert tuple(f.name for f in victims.as_of("0.1.0").stored_fields) == expected
    assert len(victims.stored_fields) > len(expected)
