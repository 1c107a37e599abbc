"""The `unodc-glotip` preset on files in the layout of UNODC's GLOTIP country data, with every quirk of the real one.

The files (tests/data/unodc-glotip-quirks.xlsx and .csv) are written by `ctdc.fixtures.glotip` with made-up
figures; the first test keeps them equal to what the builder writes.
"""

from pathlib import Path

import polars as pl
import pytest

from ctdc.fixtures import glotip
from ctdc.ingest.category import resolve_category
from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file

DATA = Path(__file__).resolve().parents[1] / "data"
XLSX, CSV = DATA / "unodc-glotip-quirks.xlsx", DATA / "unodc-glotip-quirks.csv"
KEY = b"k" * 32
ROWS = glotip.rows()


def _ingest(path: Path):
    return ingest_file(path, load_preset("unodc-glotip"), identity_key=KEY, organisation="org-1")


@pytest.fixture(scope="module")
def both():
    return {"xlsx": _ingest(XLSX), "csv": _ingest(CSV)}


def test_the_test_files_are_what_the_fixture_builder_writes(tmp_path):
    written = glotip.write(tmp_path)
    assert [p.read_bytes() for p in written] == [XLSX.read_bytes(), CSV.read_bytes()]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_every_row_is_accepted_quarantined_or_a_duplicate_and_none_is_lost(both, kind):
    result = both[kind]
    first = 4 if kind == "xlsx" else 2  # two title rows above the workbook's header; none in its CSV conversion
    stats = result.report.stats
    assert stats["rows_read"] == len(ROWS) == stats["accepted"] + stats["quarantined"] + stats["duplicates"]
    duplicates = result.report.problems.filter(pl.col("code") == "duplicate-row")["row"].to_list()
    seen = sorted([*result.records["source_row"], *result.quarantine["row"], *duplicates])
    assert seen == list(range(first, first + len(ROWS)))


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_every_quirk_of_the_layout_is_in_the_validation_report(both, kind):
    result = both[kind]
    offset = 3 if kind == "xlsx" else 1
    problems = result.report.problems

    def rows(code: str) -> list[int]:
        return sorted(set(problems.filter(pl.col("code") == code)["row"].to_list()))

    def file_rows(indices: list[int]) -> list[int]:
        return [i + offset for i in indices]

    # <5 on every row that has it (none dropped, none read as 5 or 0), thousands commas on every one that has them.
    assert rows("censored-value") == file_rows(glotip.QUIRKS["censored"])
    assert rows("thousands-separator") == file_rows(glotip.QUIRKS["thousands"])
    # The questionnaire cell reference in the millions: held back for the steward.
    assert rows("implausible-value") == file_rows(glotip.QUIRKS["questionnaire-reference"])
    # Sark has no ISO code; CAR/Caribbean and Aruba/Curacao are aggregates, never countries.
    assert rows("unknown-country") == file_rows(glotip.QUIRKS["no-iso-code"] + glotip.QUIRKS["pseudo-code"])
    assert rows("not-a-country") == file_rows(glotip.QUIRKS["pseudo-code"])
    # Repeated key with other values: both rows reported and held back; the exact copy is a duplicate.
    conflicts = problems.filter(pl.col("code") == "conflicting-values")
    assert conflicts.height == 2 and all("have the same" in m for m in conflicts["message"])
    copies = [i + 1 for i, r in enumerate(ROWS) if ROWS.count(r) > 1]
    dup = problems.filter(pl.col("code") == "duplicate-row").row(0, named=True)
    assert dup["row"] == copies[1] + offset
    assert dup["message"] == f"This row is an exact copy of row {copies[0] + offset}; it was not imported again."
    codes = set(problems["code"])
    assert {"category-read-as", "encoding-damage", "own-nationals", "subtotal-category", "unmapped-category"} <= codes
    assert set(result.quarantine["codes"].str.split(";").explode()) == {
        "implausible-value", "conflicting-values", "unknown-country", "not-a-country"}
    notes = {n["code"] for n in result.report.stats.get("notes", [])}
    if kind == "xlsx":
        assert notes == {"title-rows", "release-date", "wrong-sheet-dimension", "formula-without-value"}
    else:
        assert notes == {"no-release-date"}


def test_a_censored_figure_stays_the_interval_1_to_4(both):
    records = both["xlsx"].records
    censored = records.filter(pl.col("value_censored"))
    assert censored.height > 0
    assert censored.select(pl.col("value").is_null().all(), (pl.col("value_lower") == 1).all(),
                           (pl.col("value_upper") == 4).all()).row(0) == (True, True, True)
    exact = records.filter(~pl.col("value_censored"))
    assert (exact["value"] == exact["value_lower"]).all() and (exact["value"] == exact["value_upper"]).all()
    first = records.row(0, named=True)
    assert (first["country"], first["indicator"], first["value"]) == ("MX", "victims_detected", 1192)
    assert records.filter(pl.col("indicator") == "persons_formal_contact")["value"].to_list() == [32022]


def test_citizenship_text_resolves_to_a_country_only_where_it_names_one(both):
    records = both["xlsx"].records.filter(pl.col("breakdown") == "citizenship")
    got = {(r["country"], r["category"]): (r["category_country"], r["category_status"])
           for r in records.iter_rows(named=True)}
    expect = {
        "Albania": ("AL", "country"), "Albanians": ("AL", "country"), "Albanie": ("AL", "country"),
        "ALBANIA": ("AL", "country"), "Abania": ("AL", "country"), "VENEZOLANA": ("VE", "country"),
        "brésilien": ("BR", "country"), "roumain": ("RO", "country"), "ukrainien": ("UA", "country"),
        "UK": ("GB", "country"), "UAE": ("AE", "country"), "Benin Rep": ("BJ", "country"),
        "(Oman)": ("OM", "country"), "Domestic (Myanmar)": ("MM", "country"), "Mumbai, India": ("IN", "country"),
        "Nationals": ("MX", "own_nationals"), "own country": ("MX", "own_nationals"),
        "Espa\ufffda": ("ES", "country"), "M\ufffdXICO": ("MX", "country"), "C\ufffdte d\ufffdIvoire": ("CI", "country"),
        "TOTAL": (None, "subtotal"), "TOTAL POR AÑO": (None, "subtotal"),
        "Africa": (None, "unmapped"), "Amercias": (None, "unmapped"), "foreigners": (None, "unmapped"),
        "stateless": (None, "unmapped"), "N/A": (None, "unmapped"), "0": (None, "unmapped"),
        "(specify the country)": (None, "unmapped"), None: (None, "unmapped"),
    }
    for text, outcome in expect.items():
        assert got[("MX", text)] == outcome, text
    # Nationals means the reporting country's own citizens, whichever country reports.
    assert got[("ES", "Nationals")] == ("ES", "own_nationals") and got[("CI", "Nationals")] == ("CI", "own_nationals")


def test_the_workbook_and_its_csv_conversion_give_the_same_figures(both):
    def figures(result):
        return result.records.drop("record_id", "source_row", "identity_hash", "release_date").sort(pl.all())

    assert figures(both["xlsx"]).equals(figures(both["csv"]))
    assert [str(d) for d in both["xlsx"].records["release_date"].unique()] == ["2025-04-14"]
    assert both["csv"].records["release_date"].null_count() == both["csv"].records.height


def test_text_that_could_be_two_countries_or_none_is_never_guessed():
    for text in ("Congolese", "Dominican", "Americas", "N/A", "IN", "Abania", "Guinea-ish", "3"):
        assert resolve_category(text, "FR")[:2] == (None, "unmapped"), text
    # A damaged text matching two countries' names stays unmapped too (Gambia, Zambia); one match is taken.
    assert resolve_category("\ufffdambia", "FR")[:2] == (None, "unmapped")
    assert resolve_category("\ufffdndia", "FR")[:2] == ("IN", "country")
    assert resolve_category("\ufffd\ufffd\ufffd", "FR")[:2] == (None, "unmapped")
