"""Semantic versioning of the standard: a record valid under N stays valid under N+1 (issue 5)."""

import copy
import json
from importlib import resources
from pathlib import Path

from ctdc.standard import load_standard
from ctdc.standard.versioning import (
    breaking_changes,
    check_record,
    load_snapshot,
    parse_version,
    released_versions,
    snapshot,
)

DATA = Path(__file__).parent / "data"


def test_the_current_version_has_a_snapshot_equal_to_the_standard_so_changes_need_a_new_version():
    std = load_standard()
    assert load_snapshot(std.version) == json.loads(json.dumps(snapshot(std)))


def test_the_changelog_has_an_entry_for_every_released_version():
    changelog = resources.files("ctdc.standard").joinpath("CHANGELOG.md").read_text(encoding="utf-8")
    for version in released_versions():
        assert f"## {version}" in changelog


def test_each_version_is_compatible_with_every_earlier_one_of_the_same_major():
    versions = released_versions()
    assert versions[:2] == ["0.1.0", "0.2.0"]
    for old, new in zip(versions, versions[1:], strict=False):
        if parse_version(old)[0] == parse_version(new)[0]:
            assert breaking_changes(load_snapshot(old), load_snapshot(new)) == [], (old, new)


def test_records_valid_under_0_1_0_are_still_valid_under_the_current_version():
    records = json.loads((DATA / "victims-valid-under-0.1.0.json").read_text(encoding="utf-8"))
    victims = load_standard().dataset("victims")
    assert len(records) >= 3
    for record in records:
        assert check_record(victims, record) == [], record


def test_removing_a_code_or_requiring_a_field_is_reported_as_breaking():
    old = load_snapshot("0.1.0")
    new = copy.deepcopy(old)
    new["codelists"]["gender"].remove("trans_nonconforming")
    new["datasets"]["victims"]["gender"]["required"] = True
    del new["datasets"]["victims"]["phone"]
    assert breaking_changes(old, new) == [
        "victims.phone removed or renamed",
        "victims.gender became required",
        "victims.gender lost code 'trans_nonconforming'",
    ]


def test_check_record_reports_each_problem_without_echoing_direct_identifiers():
    victims = load_standard().dataset("victims")
    problems = check_record(
        victims,
        {"birth_date": 12, "age": 140, "exploitation_types": ["forced_labour", "x"], "nickname": "a"},
    )
    assert problems == [
        ("nickname", "unknown-field", "victims has no field nickname"),
        ("birth_date", "type-error", "(value withheld) is not a valid date"),
        ("age", "out-of-range", "140 is outside 0..110"),
        ("exploitation_types", "unknown-code", "'x' is not a code of exploitation_types"),
    ]


def test_what_is_required_is_a_decision_of_each_dataset_type():
    std = load_standard()
    # A victim record may leave any field blank (a k-anonymized file suppresses years, ages, genders): 0.3.0.
    assert [f.name for f in std.dataset("victims").fields if f.required] == []
    assert check_record(std.dataset("victims"), {"gender": "female"}) == []
    assert breaking_changes(load_snapshot("0.2.0"), load_snapshot("0.3.0")) == []
    assert load_snapshot("0.2.0")["datasets"]["victims"]["registration_year"]["required"] is True
    # A recruitment fee without its amount means nothing.
    assert ("amount", "missing-required", "amount is required") in check_record(
        std.dataset("recruitment_fees"), {"currency": "USD"})
