"""The `ctdc-vp` preset on a file in the layout of the public CTDC victim-perpetrator dataset, every quirk included.

The file (tests/data/ctdc-vp-quirks.csv) is written by `ctdc.fixtures.ctdc_vp` with made-up rows; the first test
keeps it equal to what the builder writes.
"""

from pathlib import Path

import polars as pl
import pytest

from ctdc.fixtures import ctdc_vp
from ctdc.ingest.detect import detect_preset
from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file

DATA = Path(__file__).resolve().parents[1] / "data"
CSV = DATA / "ctdc-vp-quirks.csv"
KEY = b"k" * 32


def _file_row(index: int) -> int:
    return index + 1  # data row index (1-based) -> file row (the header is row 1)


@pytest.fixture(scope="module")
def result():
    return ingest_file(CSV, load_preset("ctdc-vp"), identity_key=KEY, organisation="org-1")


def test_the_test_file_is_what_the_fixture_builder_writes(tmp_path):
    assert ctdc_vp.write(tmp_path).read_bytes() == CSV.read_bytes()


def test_the_layout_is_detected_from_its_header():
    assert detect_preset(CSV).name == "ctdc-vp"


def test_every_row_is_accepted_or_quarantined_and_none_is_lost(result):
    stats = result.report.stats
    assert stats["rows_read"] == len(ctdc_vp.ROWS) == stats["accepted"] + stats["quarantined"] + stats["duplicates"]
    assert stats["duplicates"] == 0  # exact copies are victims of their own in this layout
    seen = sorted([*result.records["source_row"], *result.quarantine["row"]])
    assert seen == [_file_row(i) for i in range(1, len(ctdc_vp.ROWS) + 1)]
    held = dict(zip(result.quarantine["row"], result.quarantine["codes"], strict=True))
    assert held == {_file_row(i): code for i, code in ctdc_vp.QUIRKS["held-back"].items()}


def test_every_quirk_of_the_layout_is_in_the_validation_report(result):
    problems = result.report.problems

    def rows(code: str) -> list[int]:
        return sorted(set(problems.filter(pl.col("code") == code)["row"].to_list()))

    assert rows("censored-value") == [_file_row(i) for i in ctdc_vp.QUIRKS["year-bin"]]
    assert rows("condensed-values") == [_file_row(i) for i in ctdc_vp.QUIRKS["joined"]]
    copies = problems.filter(pl.col("code") == "exact-copy-row").sort("row")
    assert copies["row"].to_list() == [_file_row(i) for i in ctdc_vp.QUIRKS["exact-copy"]]
    assert [m.removeprefix("This row is an exact copy of row ").split(".")[0] for m in copies["message"]] == [
        str(_file_row(first)) for first in ctdc_vp.QUIRKS["exact-copy"].values()]
    notes = {n["code"] for n in result.report.stats["notes"]}
    assert notes == {"region-only", "no-linked-record"}
    encodings = result.report.stats["flag_encodings"]
    assert encodings["exploitation_types"]["not_recorded"] == 1  # row 7: both flags empty
    assert encodings["role_groups"]["one_empty"] == len(ctdc_vp.ROWS) - 1


def test_nothing_the_file_says_is_lost_years_regions_and_every_joined_value_are_kept(result):
    victims = {r["source_row"]: r for r in result.records.iter_rows(named=True)}
    binned = victims[_file_row(1)]
    assert (binned["registration_year"], binned["registration_year_lower"], binned["registration_year_upper"],
            binned["registration_year_censored"]) == (None, 2005, 2013, True)
    exact = victims[_file_row(2)]
    assert (exact["registration_year"], exact["registration_year_censored"]) == (2019, False)
    assert (exact["citizenship_region"], exact["exploitation_region"], exact["citizenship"]) == ("asia", "asia", None)
    assert victims[_file_row(3)]["citizenship_region"] == "americas_oceania"
    assert victims[_file_row(7)]["exploitation_types"] is None  # not recorded, not "none"
    perps = {r["source_row"]: r for r in result.linked["perpetrators"].iter_rows(named=True)}
    joined = perps[_file_row(11)]
    assert joined["condensed"] is True
    assert (joined["genders"], joined["age_bands"], joined["citizenship_regions"]) == (
        "female;male", "0-29;48+", "africa;americas_oceania")
    assert (joined["gender"], joined["age_band"], joined["citizenship_region"]) == (None, None, None)  # not guessed
    assert joined["relation_to_victim"] == "intimate_partner;friend;family"
    assert joined["role_groups"] == "exploiter;recruiter_broker;transaction_process;control_abuse_kidnap"
    single = perps[_file_row(1)]
    assert (single["gender"], single["age_band"], single["citizenship_region"]) == ("male", "30-38", "europe")
    # Row 6 records no perpetrator: the victim only, no empty perpetrator and no link.
    assert _file_row(6) in victims and _file_row(6) not in perps
    links = result.linked["victim_perpetrator_links"]
    assert sorted(links["source_row"]) == sorted(perps)
    pay = dict(zip(links["source_row"], links["victim_paid_perpetrator"], strict=True))
    assert (pay[_file_row(1)], pay[_file_row(2)]) == (True, None)  # empty is not recorded, never "no"


def test_links_join_the_rows_own_records_through_keyed_hashes_never_row_numbers(result):
    links = result.linked["victim_perpetrator_links"]
    victim_ids = set(result.records["record_id"])
    perpetrator_ids = set(result.linked["perpetrators"]["record_id"])
    assert set(links["victim_id"]) <= victim_ids and set(links["perpetrator_id"]) <= perpetrator_ids
    assert all(len(v) == 64 and not v.startswith("row") for v in links["victim_id"])
