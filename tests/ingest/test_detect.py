"""Detection that says when it is unsure: a preset that would drop columns holding standard fields is refused,
and files that are not tables at all are named for what they are."""

from __future__ import annotations

import zipfile

import pytest

from ctdc.errors import IngestError, MappingError, MappingNeeded, NotATable
from ctdc.ingest.detect import Detection, detect_mapping, detect_preset
from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file
from ctdc.ingest.readers import read_table
from tests.conftest import DATA

NGO = DATA / "ngo-simple.csv"


def test_the_simple_ngo_file_of_issue_19_is_not_silently_read_with_the_public_ctdc_preset():
    # What happened before: the preset matched 4 columns, and 5 rows were accepted without age and exploitation.
    accepted = ingest_file(NGO, load_preset("ctdc-public"), identity_key=b"k")
    assert accepted.report.stats["accepted"] == 5 and {"age", "type of exploitation"} <= set(accepted.ignored_columns)
    found = detect_mapping(NGO)
    assert found.spec.name == "ctdc-public" and not found.confident
    assert dict(found.missed) == {"name": "full_name", "age": "age", "type of exploitation": "exploitation_types"}
    with pytest.raises(MappingNeeded) as info:
        detect_preset(NGO)
    assert info.value.code == "mapping-needed" and info.value.extra["preset"] == "ctdc-public"
    assert {m["column"] for m in info.value.extra["missed"]} == {"name", "age", "type of exploitation"}
    assert "--suggest-mapping" in info.value.message  # the core speaks to the command line


def test_columns_nothing_in_the_standard_resembles_do_not_make_detection_unsure(tmp_path):
    # Three columns the preset reads, five that neither the preset nor the suggester can place: no mapping could
    # read them, so they take nothing away from the preset's coverage.
    wide = tmp_path / "wide.csv"
    wide.write_text("gender,citizenship,yearOfRegistration,colour,size,mood,shoe,hat\n"
                    "Female,NG,2021,red,3,calm,41,none\n")
    found = detect_mapping(wide)
    assert found.missed == [] and found.coverage == 1.0 and found.confident
    assert detect_preset(wide).name == "ctdc-public"


def test_a_preset_reading_under_half_of_the_columns_that_hold_standard_fields_is_not_trusted():
    found = detect_mapping(NGO)
    # The preset reads a and b; the suggester places c and d on fields the preset already fills from a and b (so
    # nothing is "missed"), and e is a phone number, dropped anyway.
    thin = Detection(spec=found.spec, columns=["a", "b", "c", "d", "e"], matched=["a", "b"], missed=[],
                     dropped=["e"], placed=["a", "b", "c", "d"])
    assert thin.coverage == pytest.approx(2 / 4) and thin.confident
    thinner = Detection(spec=found.spec, columns=["a", "b", "c", "d", "e"], matched=["a"], missed=[],
                        dropped=["e"], placed=["a", "b", "c", "d"])
    assert thinner.coverage == pytest.approx(1 / 4) and not thinner.confident


def test_files_the_presets_were_made_for_are_still_detected_with_confidence(simulated):
    folder, _ = simulated
    for name, preset in (("harbour-light.xlsx", "htcds"), ("open-roads.csv", "kobo-htcds")):
        found = detect_mapping(folder / name)
        assert (found.spec.name, found.confident, found.missed) == (preset, True, [])
    for name in ("ctdc-public-synthetic.csv", "ctdc-public-kanon-quirks.csv"):
        assert detect_preset(DATA / name).name == "ctdc-public"
    with pytest.raises(MappingError) as info:
        detect_preset(DATA / "wrong-columns.csv")
    assert info.value.extra["reason"] == "no-preset-matches"


def _docx(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")


@pytest.mark.parametrize("name, content, looks_like", [
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
    ("cases.csv", b"%PDF-1.4\n", "a PDF document"),  # by content, not by name
    ("scan.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "an image (PNG)"),
    ("photo.csv", b"\xff\xd8\xff\xe0\x00\x10JFIF", "an image (JPEG)"),
    ("data.csv", b"name,age\n\x00\x01\x02\x03binary", "a binary file"),
    ("export.csv.gz", b"\x1f\x8b\x08\x00", "a compressed (gzip) archive"),
    ("letter.xlsx", None, "a Word document"),
])
def test_a_file_that_is_not_a_table_is_named_for_what_it_is(tmp_path, name, content, looks_like):
    path = tmp_path / name
    _docx(path) if content is None else path.write_bytes(content)
    for read in (lambda: read_table(path), lambda: detect_preset(path),
                 lambda: ingest_file(path, load_preset("htcds"), identity_key=b"k")):
        with pytest.raises(NotATable) as info:
            read()
        assert info.value.extra["looks_like"] == looks_like and info.value.code == "ingest-error"
        assert info.value.message == f"{name} looks like {looks_like}, not a spreadsheet or CSV file of case records."


def test_text_saved_under_a_spreadsheet_name_is_still_refused_as_before():
    with pytest.raises(IngestError, match="not a readable spreadsheet") as info:
        read_table(DATA / "not-a-spreadsheet.xlsx")
    assert not isinstance(info.value, NotATable) and info.value.extra["reason"] == "bad-spreadsheet"
