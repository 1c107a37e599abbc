"""Bad input, generated (issue 18, item 1): malformed contributor files through the intake and `ctdc ingest`.

Hypothesis mangles two real layouts: a fictional hotline's Latin-1 CSV full of direct identifiers (names, phone
numbers, birth dates, narratives) and the public CTDC layout with its quirks. Encodings (right, wrong, mixed,
UTF-16), truncation, mixed delimiters and line ends, ragged rows, giant cells, control characters, formula
cells, stray quotes, repeated or empty header names, empty and header-only files, another format under the
right extension; XLSX with formulas, repeats and a zip bomb. For every file:

- no exception other than `IngestError` (from the pipeline) and no traceback (from the CLI, exit code 0 or 1);
- rows_read = accepted + quarantined + duplicates, every problem on a row the file has;
- no direct identifier of the file in an error message, a problem, a quarantined row or an accepted record;
- through the CLI, the submission never stays `uploaded` or `processing`.

Examples are derandomised and bounded (the whole file runs in seconds): CI sees the same cases every run.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context, event

from ctdc.errors import IngestError, UploadTooLarge
from ctdc.fixtures.simulate import simulate
from ctdc.ingest.limits import UploadLimits, refuse_zip_bomb
from ctdc.ingest.mapping import load_mapping, load_preset, parse_mapping
from ctdc.ingest.pipeline import ingest_file

ITEM = "1 bad input"  # its row in the summary table (conftest.py)

DATA = Path(__file__).parent.parent / "data"
PUBLIC = (DATA / "ctdc-public-kanon-quirks.csv").read_text()
ROWS = 40
IDENTIFIER_COLUMNS = ("Nom complet", "Téléphone", "Date de naissance", "Résumé")
# make resilience multiplies every example count (CTDC_RESILIENCE_SCALE); make test runs the bounded default.
SCALE = int(os.environ.get("CTDC_RESILIENCE_SCALE") or 1)
FAST = settings(max_examples=100 * SCALE, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def hotline(tmp_path_factory):
    """The first rows of the simulated hotline file (text), its mapping, and the direct identifiers it holds."""
    folder = tmp_path_factory.mktemp("hotline")
    simulate(folder, cases=300, seed=18)
    lines = (folder / "lakeside-helpline.csv").read_bytes().decode("latin-1").splitlines()
    text = "\n".join(lines[: ROWS + 1]) + "\n"
    frame = pl.read_csv(io.StringIO(text), separator=";", infer_schema=False)
    secrets = set()
    for column in IDENTIFIER_COLUMNS:
        for value in frame[column].drop_nulls().to_list():
            secrets.add(value)
            if column == "Nom complet":  # each part of a name, too (a surname alone identifies)
                secrets.update(t for t in value.split() if len(t) >= 4)
    spec_text = (folder / "lakeside-helpline.mapping.yml").read_text()
    return {"text": text, "secrets": secrets, "fixed": load_mapping(folder / "lakeside-helpline.mapping.yml"),
            # The same mapping with nothing fixed about the reader: encoding and delimiter are detected.
            "detect": parse_mapping(re.sub(r"reader: \{[^}]*\}", "reader: {format: csv}", spec_text),
                                    name="hotline-detect")}


# --- mutations of a CSV text ------------------------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return line.split(";")


@st.composite
def mangled_csv(draw, text: str) -> tuple[str, bytes]:
    """(file name, bytes): `text` after a few mutations, encoded one way or another."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from([
            "truncate-lines", "delimiter", "ragged-short", "giant", "control", "formula", "quote", "repeat-header",
            "blank-header", "header-only", "blank-lines", "swap-header",
        ]))
        row = draw(st.integers(0, max(len(lines) - 1, 0))) if lines else 0
        if not lines:
            break
        cells = _cells(lines[row])
        col = draw(st.integers(0, max(len(cells) - 1, 0)))
        if kind == "truncate-lines":
            lines = lines[: draw(st.integers(0, len(lines)))]
        elif kind == "delimiter":
            lines[row] = lines[row].replace(";", draw(st.sampled_from([",", "\t", "|", "; "])))
        elif kind == "ragged-short":
            lines[row] = ";".join(cells[: draw(st.integers(0, len(cells)))])
        elif kind == "giant":
            cells[col] = "x" * draw(st.sampled_from([40_000, 300_000]))
            lines[row] = ";".join(cells)
        elif kind == "control":
            cells[col] = cells[col] + draw(st.text(st.characters(codec="utf-8", max_codepoint=0x1F,
                                                                 exclude_characters="\n\r"), min_size=1, max_size=3))
            lines[row] = ";".join(cells)
        elif kind == "formula":
            cells[col] = draw(st.sampled_from(["=1+1", "+33 1 23", "-2", "@SUM(A1:A9)", "=cmd|' /C calc'!A0"]))
            lines[row] = ";".join(cells)
        elif kind == "quote":
            at = draw(st.integers(0, len(lines[row])))
            lines[row] = lines[row][:at] + '"' + lines[row][at:]
        elif kind == "repeat-header":
            header = _cells(lines[0])
            header[draw(st.integers(0, len(header) - 1))] = header[draw(st.integers(0, len(header) - 1))]
            lines[0] = ";".join(header)
        elif kind == "blank-header":
            header = _cells(lines[0])
            header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["", " "]))
            lines[0] = ";".join(header)
        elif kind == "header-only":
            lines = lines[:1]
        elif kind == "blank-lines":
            lines.insert(row, draw(st.sampled_from(["", ";;;", " "])))
        elif kind == "swap-header":
            # Case changes anywhere; swapped names only among columns that hold no identifier. A header that
            # calls the names column "age" is a lie no reader can see through: that value would be echoed.
            header = _cells(lines[0])
            free = [i for i, h in enumerate(header) if h not in IDENTIFIER_COLUMNS]
            i, j = draw(st.sampled_from(free)), draw(st.sampled_from(free))
            header[i], header[j] = header[j].upper(), header[i].lower()
            lines[0] = ";".join(header)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    body = newline.join(lines) + (newline if lines else "")
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "mixed"]))
    if encoding == "mixed":  # a UTF-8 file with Windows-1252 lines appended by another program
        half = len(body) // 2
        data = body[:half].encode("utf-8") + body[half:].encode("cp1252", errors="replace")
    else:
        data = body.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # a file cut short, possibly inside a character
    return draw(st.sampled_from(["cases.csv", "cases.txt", "CASES.CSV"])), data


OTHER_FORMATS = {
    "empty.csv": b"",
    "pdf.csv": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n",
    "png.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
    "zip.csv": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)),
    "spaces.csv": b"   \n\n \t \n",
    "utf16-garbage.csv": b"\xff\xfe\x00\xd8",
}


def _note(text: str) -> None:
    if currently_in_test_context():  # shown by --hypothesis-show-statistics: what the examples ran into
        event(text)


def _check(path: Path, spec, secrets: set[str], figures=None) -> dict:
    """Run the pipeline; assert the invariants; return what happened."""
    if figures is not None:
        figures(cases=1)
    try:
        result = ingest_file(path, spec, identity_key=b"fuzz", organisation="fuzz")
    except IngestError as exc:
        _note(f"refused: {exc.extra.get('code', exc.message.split(':')[-1][:40])}")
        assert exc.message.strip() and "Traceback" not in exc.message
        leaked = [s for s in secrets if s in exc.message or s in json.dumps(exc.extra, default=str)]
        assert not leaked, (exc.message, leaked)
        return {"error": exc.message}
    stats = result.report.stats
    _note(f"read, {'some' if stats['quarantined'] else 'no'} rows quarantined")
    assert stats["rows_read"] == stats["accepted"] + stats["quarantined"] + stats["duplicates"]
    problems = result.report.problems
    if problems.height:  # rows as a spreadsheet shows them: the header is row 1
        assert problems["row"].min() >= 2 and problems["message"].str.len_chars().min() > 0
    text = " ".join([*problems["value"].drop_nulls().to_list(), *problems["message"].to_list(),
                     *result.quarantine.cast(pl.String).fill_null("").to_numpy().ravel().tolist()])
    stored = result.records.select(pl.col(pl.String)).fill_null("")
    text += " " + " ".join(str(v) for v in stored.to_numpy().ravel().tolist())
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked[:5]
    return {"rows_read": stats["rows_read"]}


@FAST
@given(data=st.data())
def test_mangled_hotline_csv_never_crashes_nor_leaks(hotline, tmp_path_factory, data, figures):
    name, content = data.draw(mangled_csv(hotline["text"]))
    spec = hotline[data.draw(st.sampled_from(["fixed", "detect"]))]
    path = tmp_path_factory.mktemp("f") / name
    path.write_bytes(content)
    _check(path, spec, hotline["secrets"], figures)


@FAST
@given(data=st.data())
def test_mangled_public_layout_never_crashes(tmp_path_factory, data, figures):
    name, content = data.draw(mangled_csv(PUBLIC))
    path = tmp_path_factory.mktemp("f") / name
    path.write_bytes(content)
    _check(path, load_preset("ctdc-public"), set(), figures)


@pytest.mark.parametrize("name", sorted(OTHER_FORMATS))
def test_another_format_under_a_csv_name_is_a_clear_error(tmp_path, hotline, name):
    path = tmp_path / name
    path.write_bytes(OTHER_FORMATS[name])
    outcome = _check(path, hotline["detect"], hotline["secrets"])
    assert "error" in outcome or outcome["rows_read"] == 0


# --- spreadsheets ----------------------------------------------------------------------------------------------

HTCDS_HEADER = ["Case ID", "prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender", "prs_Citizenship",
                "cas_IncomingReferralDate", "vic_LocationOfExploitation"]


def _mangled_rows(draw, *, most: int, also: tuple = ()) -> list[list]:
    """An HTCDS sheet's two header rows and up to `most` cases, then up to three cells anywhere made bad (formulas,
    huge text, blanks, a header in the data, numbers; `also` adds values a format can hold)."""
    rows = [list(HTCDS_HEADER), ["Case ID", "First name", "Last name", "Birth date", "Gender", "Citizenship",
                                 "Referral date", "Country of exploitation"]]
    for i in range(draw(st.integers(0, most))):
        rows.append([f"C-{i}", "Ileana", "KOWALCZYK", "1990-02-03", draw(st.sampled_from(["Feminine", "Masculine", ""])),
                     draw(st.sampled_from(["PH", "Philippines", "Atlantis", ""])), "2021-05-06", "AE"])
    for _ in range(draw(st.integers(0, 3))):
        r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(HTCDS_HEADER) - 1))
        rows[r][c] = draw(st.sampled_from(["=1/0", "=A1&B1", "x" * 40_000, "", None, "prs_Gender", 3.5, -1, *also]))
    return rows


@st.composite
def mangled_xlsx(draw) -> bytes:
    rows = _mangled_rows(draw, most=12)
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@settings(max_examples=30 * SCALE, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=mangled_xlsx())
def test_mangled_xlsx_never_crashes_nor_leaks(tmp_path_factory, content, figures):
    path = tmp_path_factory.mktemp("x") / "cases.xlsx"
    path.write_bytes(content)
    _check(path, load_preset("htcds"), {"Ileana", "KOWALCZYK", "1990-02-03"}, figures)


def test_a_zip_bomb_under_an_xlsx_name_is_refused_before_it_is_unpacked(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(HTCDS_HEADER)
    plain = io.BytesIO()
    book.save(plain)
    bomb = tmp_path / "cases.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, part)
                continue
            head, tail = part.split(b"</sheetData>")
            with out.open(item.filename, "w") as fh:  # streamed: 64 MB of blanks never sit in memory
                fh.write(head)
                for _ in range(64):
                    fh.write(b" " * (1 << 20))
                fh.write(b"</sheetData>" + tail)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(IngestError, match="would unpack from 0.1 MB to 64 MB, which is what a zip bomb does"):
        ingest_file(bomb, load_preset("htcds"), identity_key=b"k")


# --- through the CLI --------------------------------------------------------------------------------------------

@pytest.mark.django_db
@settings(max_examples=30 * SCALE, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_ctdc_ingest_answers_every_mangled_file_with_a_result_or_one_clear_error(run_cli, hotline, tmp_path_factory,
                                                                             data, figures):
    from ctdc.web.accounts.services import organisation_create
    from ctdc.web.submissions.models import Problem, QuarantinedRow, Submission

    if not _org_exists():  # the database lives as long as the test, across its examples
        organisation_create(slug="lakeside-helpline", name="Lakeside Helpline", kind="hotline")
    name, content = data.draw(mangled_csv(hotline["text"]))
    folder = tmp_path_factory.mktemp("cli")
    path = folder / name
    path.write_bytes(content)
    mapping = folder / "mapping.yml"
    mapping.write_text(hotline[data.draw(st.sampled_from(["fixed", "detect"]))].text)
    result = run_cli("ingest", str(path), "--org", "lakeside-helpline", "--mapping", str(mapping), "--json")
    figures(cases=1)
    assert result.exit_code in (0, 1), result.output
    out = json.loads(result.stdout)
    if result.exit_code == 0:
        assert out["rows_read"] == out["accepted"] + out["quarantined"] + out["duplicates"]
    else:
        assert out["code"].endswith("error") and out["message"]
    assert not Submission.objects.filter(status__in=["uploaded", "processing"]).exists()
    stored = " ".join([*Submission.objects.values_list("error", flat=True),
                       *(v or "" for v in Problem.objects.values_list("value", flat=True)),
                       *Problem.objects.values_list("message", flat=True),
                       *QuarantinedRow.objects.values_list("record_id", flat=True), result.output])
    leaked = [s for s in hotline["secrets"] if s in stored]
    assert not leaked, leaked[:5]


def _org_exists() -> bool:
    from ctdc.web.accounts.models import Organisation

    return Organisation.objects.filter(slug="lakeside-helpline").exists()


# --- each bug the generator found, kept as a plain regression test ----------------------------------------------

def _public(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "cases.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _hotline_row_with_another_delimiter(hotline) -> str:
    lines = hotline["text"].splitlines()
    cells = lines[1].split(";")
    # The row's tail written with commas: the age cell holds the rest of the row, phone number and all.
    lines[1] = ";".join(cells[:4]) + ";" + ",".join(cells[4:])
    return "\n".join(lines) + "\n"


def test_header_names_with_spaces_around_them_are_read(tmp_path):
    header, *rows = PUBLIC.splitlines()
    spaced = ";".join(f" {h} " if h == "gender" else h for h in header.split(";"))
    spec = load_preset("ctdc-public")
    result = ingest_file(_public(tmp_path, "\n".join([spaced, *rows])), spec, identity_key=b"k")
    plain = ingest_file(_public(tmp_path, PUBLIC, name="plain.csv"), spec, identity_key=b"k")
    assert result.records["gender"].to_list() == plain.records["gender"].to_list()
    assert result.records["gender"].drop_nulls().len() == 4


def test_utf16_and_bare_cr_line_ends_are_read(tmp_path):
    spec = load_preset("ctdc-public")
    utf16 = ingest_file(_public(tmp_path, PUBLIC, "utf-16", "a.csv"), spec, identity_key=b"k")
    cr = ingest_file(_public(tmp_path, PUBLIC.replace("\n", "\r"), name="b.csv"), spec, identity_key=b"k")
    assert utf16.read_info["encoding"] == "utf-16"
    assert utf16.report.stats["rows_read"] == cr.report.stats["rows_read"] == 6


def test_a_row_with_more_cells_than_the_header_is_named_not_silently_cut(tmp_path):
    header, *rows = PUBLIC.splitlines()
    rows[2] += ";Ileana KOWALCZYK;+40 721 000 000"
    with pytest.raises(IngestError) as caught:
        ingest_file(_public(tmp_path, "\n".join([header, *rows])), load_preset("ctdc-public"), identity_key=b"k")
    assert caught.value.message.startswith("cases.csv: row 4 has more cells than the header has columns (64)")
    assert "KOWALCZYK" not in caught.value.message


def test_a_stray_quote_is_reported_at_its_row_without_quoting_the_cells(tmp_path):
    header, *rows = PUBLIC.splitlines()
    rows[1] = rows[1].replace(";Hotline;", ';"Ileana KOWALCZYK;', 1)
    with pytest.raises(IngestError) as caught:
        ingest_file(_public(tmp_path, "\n".join([header, *rows])), load_preset("ctdc-public"), identity_key=b"k")
    assert "could not be read as CSV (delimiter ';'), near row 3" in caught.value.message
    assert "KOWALCZYK" not in caught.value.message


def test_a_row_written_with_another_delimiter_echoes_none_of_its_cells(tmp_path, hotline):
    path = tmp_path / "cases.csv"
    path.write_bytes(_hotline_row_with_another_delimiter(hotline).encode("latin-1"))
    result = ingest_file(path, hotline["fixed"], identity_key=b"k")
    flagged = result.report.problems.filter(pl.col("row") == 2)
    assert flagged["code"].to_list() == ["not-a-number"] and flagged["value"].to_list() == [None]
    shown = " ".join(result.report.problems["message"].to_list())
    assert not [s for s in hotline["secrets"] if s in shown]


# --- ODS (LibreOffice's format) ---------------------------------------------------------------------------------

def _ods(rows: list[list]) -> bytes:
    """An ODS file of `rows`: strings as text cells, numbers as floats, '=...' as formulas with a cached 0."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Cases")
    for row in rows:
        tr = TableRow()
        for value in row:
            if value is None:
                cell = TableCell()
            elif isinstance(value, float | int):
                cell = TableCell(valuetype="float", value=value)
            elif value.startswith("="):
                cell = TableCell(valuetype="float", value=0, formula=f"of:{value}")
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    doc.write(buffer)
    return buffer.getvalue()


@st.composite
def mangled_ods(draw) -> bytes:
    rows = _mangled_rows(draw, most=10, also=("\x07bell", "line\nbreak"))
    if draw(st.booleans()):
        rows[draw(st.integers(0, len(rows) - 1))] = rows[-1][: draw(st.integers(0, len(HTCDS_HEADER)))]  # ragged
    content = _ods(rows)
    if draw(st.integers(0, 4)) == 0:  # cut short: a damaged download
        content = content[: draw(st.integers(0, len(content)))]
    return content


@settings(max_examples=20 * SCALE, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=mangled_ods())
def test_mangled_ods_never_crashes_nor_leaks(tmp_path_factory, content, figures):
    path = tmp_path_factory.mktemp("o") / "cases.ods"
    path.write_bytes(content)
    _check(path, load_preset("htcds"), {"Ileana", "KOWALCZYK", "1990-02-03"}, figures)


def _bomb(tmp_path: Path, suffix: str) -> Path:
    """A real spreadsheet whose sheet part is padded with 64 MB of blanks (0.1 MB packed)."""
    if suffix == ".ods":
        plain, sheet, close = io.BytesIO(_ods([HTCDS_HEADER])), "content.xml", b"</table:table>"
    else:
        book = openpyxl.Workbook()
        book.active.append(HTCDS_HEADER)
        plain = io.BytesIO()
        book.save(plain)
        sheet, close = "xl/worksheets/sheet1.xml", b"</sheetData>"
    bomb = tmp_path / f"cases{suffix}"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename != sheet:
                out.writestr(item, part)
                continue
            head, tail = part.split(close)
            with out.open(item.filename, "w") as fh:  # streamed: 64 MB of blanks never sit in memory
                fh.write(head)
                for _ in range(64):
                    fh.write(b" " * (1 << 20))
                fh.write(close + tail)
    return bomb


def test_a_zip_bomb_under_an_ods_name_is_refused_before_it_is_unpacked(tmp_path):
    bomb = _bomb(tmp_path, ".ods")
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(IngestError, match="would unpack from 0.1 MB to 64 MB, which is what a zip bomb does"):
        ingest_file(bomb, load_preset("htcds"), identity_key=b"k")



def _lie_about_sizes(path: Path, declared: int) -> Path:
    """Write `declared` as every part's unpacked size, in its local header and in the central directory, as a
    crafted archive would: the deflate streams, and what they inflate to, are unchanged."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
    for part in parts:
        assert data[part.header_offset:part.header_offset + 4] == b"PK\x03\x04"
        struct.pack_into("<I", data, part.header_offset + 22, declared)
    entry = data.find(b"PK\x01\x02")
    while entry != -1:  # central directory entries: unpacked size at +24, name length at +28
        struct.pack_into("<I", data, entry + 24, declared)
        entry = data.find(b"PK\x01\x02", entry + 46 + struct.unpack_from("<H", data, entry + 28)[0])
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert {part.file_size for part in archive.infolist()} == {declared}
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_a_zip_bomb_whose_directory_declares_small_sizes_is_refused_by_what_it_inflates_to(tmp_path, suffix):
    # Regression: the check read the sizes the archive declares; this one says 1,000 bytes for each part, and the
    # spreadsheet reader inflated the 64 MB regardless (+90 MB of memory, rows_read 0). Now the parts are inflated
    # in slices and counted, stopped past 50 MB.
    bomb = _lie_about_sizes(_bomb(tmp_path, suffix), 1000)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(UploadTooLarge, match="would unpack from 0.1 MB to more than 50 MB, which is what a zip bomb "
                                             "does") as refused:
        ingest_file(bomb, load_preset("htcds"), identity_key=b"k")
    assert refused.value.extra["reason"] == "zip-bomb"
    with bomb.open("rb") as upload, pytest.raises(UploadTooLarge, match="to more than 50 MB"):
        refuse_zip_bomb(upload, UploadLimits(), name=bomb.name)  # the web's check of an upload, before it is kept


def test_a_workbook_whose_directory_understates_it_is_held_to_the_unpacked_limit_by_what_it_inflates_to(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(HTCDS_HEADER)
    for i in range(2000):
        book.active.append([f"R{i}", "2021-01-01"])
    path = tmp_path / "cases.xlsx"
    book.save(path)
    _lie_about_sizes(path, 10)
    with pytest.raises(UploadTooLarge, match="would unpack to") as refused:
        refuse_zip_bomb(path, UploadLimits(max_unpacked_bytes=20_000))
    assert refused.value.extra["reason"] == "unpacked-too-large" and refused.value.extra["unpacked_bytes"] > 20_000
    refuse_zip_bomb(path, UploadLimits())  # a lie in the directory alone is not a refusal: the reader decides

# --- through the web upload and its background worker ------------------------------------------------------------

WEB_FILES = {"csv": "cases.csv", "xlsx": "cases.xlsx", "ods": "cases.ods"}


@pytest.mark.django_db(transaction=True)  # the worker commits, and on_commit queues the task, as in production
@settings(max_examples=25 * SCALE, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_the_web_upload_answers_every_mangled_file_without_a_server_error(client, hotline, tmp_path_factory, data,
                                                                          figures):
    from ctdc.web.submissions.models import Problem, Submission
    from tests.web.intake import make_people, run_worker, upload

    if not _org_exists():
        make_people()
    kind = data.draw(st.sampled_from(["csv", "csv", "xlsx", "ods"]))
    if kind == "csv":
        name, content = data.draw(mangled_csv(hotline["text"]))
        name = name.rsplit(".", 1)[0] + ".csv"  # the form takes .csv/.xlsx/.ods names; the bytes are anything
    else:
        name, content = WEB_FILES[kind], data.draw(mangled_xlsx() if kind == "xlsx" else mangled_ods())
    path = tmp_path_factory.mktemp("web") / name
    path.write_bytes(content)
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="lakeside-helpline"))
    mapping = data.draw(st.sampled_from(["detect", "preset:ctdc-public", "preset:htcds"]))
    response = upload(client, path, "lakeside-helpline", mapping=mapping)
    statuses = [response.status_code]
    run_worker()
    submission = Submission.objects.order_by("-pk").first()
    if response.status_code == 302:
        pk = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
        submission = Submission.objects.get(pk=pk)
        for page in ("", "progress.json", "report/", "report.csv", "report.json", "quarantine.csv"):
            statuses.append(client.get(f"/intake/submissions/{pk}/{page}").status_code)
        assert submission.status not in ("uploaded", "processing"), submission.status
        assert submission.rows_read == submission.accepted + submission.quarantined + submission.duplicates
        stored = " ".join([submission.error, *Problem.objects.filter(submission=submission).values_list(
            "message", flat=True), *(v or "" for v in Problem.objects.filter(submission=submission).values_list(
                "value", flat=True))])
        leaked = [s for s in hotline["secrets"] | {"KOWALCZYK", "Ileana"} if s in stored]
        assert not leaked, leaked[:5]
    figures(cases=1, server_errors=sum(s >= 500 for s in statuses))
    assert max(statuses) < 500, statuses
    assert not [s for s in statuses if s not in (200, 302, 404)], statuses
