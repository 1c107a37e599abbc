"""Every data file of the standard passes its JSON Schema, and the loaded standard is complete (issue 5)."""

import copy
import json
from importlib import resources

import pytest

from ctdc.standard import load_standard
from ctdc.standard.model import LANGUAGES
from ctdc.standard.schema import read_data_file, schema_name_for, validate_file

ROOT = resources.files("ctdc.standard")
YAML_FILES = sorted(
    f"{folder}/{p.name}" if folder else p.name
    for folder in ("", "datasets", "codelists", "crosswalks", "translations")
    for p in (ROOT.joinpath(folder) if folder else ROOT).iterdir()
    if p.name.endswith(".yaml")
)
ISSUE_DATASETS = {
    "victims",
    "perpetrators",
    "victim_perpetrator_links",
    "journey_events",
    "recruitment_fees",
    "government_response",
}


def test_there_is_a_yaml_file_of_every_kind():
    kinds = {schema_name_for(f) for f in YAML_FILES}
    assert kinds == {
        "standard",
        "dataset",
        "codelist",
        "crosswalk-fields",
        "crosswalk-columns",
        "crosswalk-condensed",
        "translations",
    }


@pytest.mark.parametrize("relpath", YAML_FILES)
def test_every_yaml_file_is_valid_against_its_json_schema(relpath):
    assert validate_file(relpath, read_data_file(relpath)) == []


def test_the_json_schemas_are_themselves_valid_draft_2020_12():
    import jsonschema

    for p in ROOT.joinpath("schemas").iterdir():
        jsonschema.Draft202012Validator.check_schema(json.loads(p.read_text(encoding="utf-8")))


def test_a_field_without_a_french_label_fails_the_schema():
    data = copy.deepcopy(read_data_file("datasets/victims.yaml"))
    del data["fields"][0]["fr"]
    problems = validate_file("datasets/victims.yaml", data)
    assert len(problems) == 1 and "'fr' is a required property" in problems[0]


def test_a_quasi_identifier_without_a_hierarchy_fails_the_schema():
    data = copy.deepcopy(read_data_file("datasets/victims.yaml"))
    gender = next(f for f in data["fields"] if f["name"] == "gender")
    del gender["hierarchy"]
    assert validate_file("datasets/victims.yaml", data) != []


def test_the_standard_defines_every_dataset_type_of_the_issue():
    assert set(load_standard().datasets) == ISSUE_DATASETS


def test_every_field_has_a_label_in_english_french_and_spanish_and_a_description():
    for ds in load_standard().datasets.values():
        assert set(ds.labels) == set(LANGUAGES)
        for f in ds.fields:
            assert all(f.label_in(lang).strip() for lang in LANGUAGES), f.name
            assert f.description, f"{ds.name}.{f.name}"


def test_every_code_of_every_used_code_list_has_english_french_and_spanish_labels():
    missing = [
        (cl.name, e.code, lang)
        for cl in load_standard().used_codelists()
        for e in cl.entries
        for lang in LANGUAGES
        if not e.labels.get(lang)
    ]
    assert missing == []


def test_country_names_are_translated_from_pycountrys_catalogues():
    country = load_standard().codelist("country")
    assert (country.label_of("DE"), country.label_of("DE", "fr"), country.label_of("DE", "es")) == (
        "Germany",
        "Allemagne",
        "Alemania",
    )
    translated = sum(e.labels["fr"] != e.label for e in country.entries)
    assert translated > 150


def test_every_country_but_antarctica_has_a_un_m49_subregion_and_region():
    std = load_standard()
    country = std.codelist("country")
    assert len(country) == 250
    no_region = [e.code for e in country.entries if not e.extra["region"]]
    assert no_region == ["AQ"]
    for e in country.entries:
        if e.extra["subregion"]:
            assert (
                std.codelist("un_m49_subregion").entry(e.extra["subregion"]).extra["region"]
                == e.extra["region"]
            )


def test_currencies_come_from_iso_4217():
    currency = load_standard().codelist("currency")
    assert {"EUR", "USD", "PHP", "XOF"} <= set(currency.codes)
    assert currency.label_of("USD", "fr") == "Dollar américain"


def test_every_dataset_type_has_each_disclosure_role_it_needs():
    std = load_standard()
    for name in ISSUE_DATASETS - {"government_response", "victim_perpetrator_links"}:
        ds = std.dataset(name)
        assert ds.quasi_identifiers, name
        assert ds.sensitive_attributes, name
    assert {f.role for f in std.dataset("government_response").fields} == {"non_identifying"}


def test_link_fields_reference_the_key_of_another_dataset_type():
    std = load_standard()
    links = std.dataset("victim_perpetrator_links")
    assert links.field("victim_id").references == "victims.victim_id"
    assert std.dataset("victims").key == "victim_id"
    assert std.dataset("perpetrators").key == "perpetrator_id"


def test_every_labour_sector_names_its_isic_sections():
    std = load_standard()
    isic = std.codelist("isic_section")
    assert len(isic) == 21
    for e in std.codelist("labour_sector").entries:
        assert all(s in isic for s in e.extra["isic"]), e.code
    assert std.codelist("labour_sector").entry("domestic_work").extra["isic"] == ["T"]


def test_every_means_of_control_names_a_group_of_the_synthetic_dataset():
    std = load_standard()
    groups = std.codelist("means_of_control_group")
    assert all(e.extra["group"] in groups for e in std.codelist("means_of_control").entries)


def test_every_dataset_type_and_field_has_a_french_and_a_spanish_description():
    for ds in load_standard().datasets.values():
        assert set(ds.descriptions) == set(LANGUAGES), ds.name
        for f in ds.fields:
            assert set(f.descriptions) == set(LANGUAGES), f"{ds.name}.{f.name}"
            assert f.description_in("fr") != f.description_in("en"), f"{ds.name}.{f.name}"


def test_a_translation_of_a_field_the_standard_lacks_is_refused():
    from ctdc.errors import CodebookError
    from ctdc.standard import schema

    original = schema._translations

    def extra():
        t = original()
        t["fr"]["victims"]["fields"]["no_such_field"] = "x"
        return t

    schema._translations = extra
    schema.load_standard.cache_clear()
    try:
        with pytest.raises(CodebookError, match="no_such_field"):
            schema.load_standard()
    finally:
        schema._translations = original
        schema.load_standard.cache_clear()
