"""A large XLSX sheet is read in blocks of rows (`ctdc.ingest.xlsx_pieces`, issue 14: bounded memory, the sheet
parsed once), and the table is the one the whole sheet gives: every cell converted as calamine converts it (shared
strings, inline and rich text, numbers as text, dates in both date systems, booleans, errors, formula strings),
the same header, the same rows, numbered as the sheet numbers them.

The files are small; the block size is made smaller still so that each is read in many blocks.
"""

import zipfile
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ctdc.errors import UploadTooLarge
from ctdc.ingest import xlsx_pieces
from ctdc.ingest.mapping import ReaderOptions, load_preset
from ctdc.ingest.pipeline import ingest_file
from ctdc.ingest.readers import read_table, read_table_chunks
from ctdc.ingest.stages.columns import resolve, wanted_columns

DATA = Path(__file__).parent.parent / "data"
KEY = b"test-identity-key"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _workbook(path: Path, rows: str, *, strings: str = "", styles: str = "", date1904: bool = False) -> Path:
    """A one-sheet workbook written part by part, so that every kind of cell can be put in it."""
    parts = {
        "[Content_Types].xml": xlsx_pieces._CONTENT_TYPES,
        "_rels/.rels": xlsx_pieces._RELS,
        "xl/workbook.xml": f'<workbook xmlns="{NS}" xmlns:r="{RNS}">'
                           + ('<workbookPr date1904="1"/>' if date1904 else "")
                           + '<sheets><sheet name="Cases" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": xlsx_pieces._WORKBOOK_RELS,
        "xl/styles.xml": f'<styleSheet xmlns="{NS}">{styles}</styleSheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{NS}">{strings}</sst>',
        # A stored dimension of A1, as UNODC's workbooks have: the cells say where the data is.
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{NS}"><dimension ref="A1"/><sheetData>{rows}</sheetData>'
                                    '<mergeCells count="0"/></worksheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


def _select(preset: str):
    wanted = wanted_columns(load_preset(preset))

    def select(header: list[str]) -> list[str]:
        found = {c for w in wanted if (c := resolve(header, w, prefix=""))}
        return [c for c in header if c in found]
    return select


def _compare(path: Path, options: ReaderOptions, select, block_bytes: int) -> list:
    whole = read_table(path, options, select)
    pieces = list(read_table_chunks(path, options, select, xlsx_block_bytes=block_bytes))
    assert len(pieces) > 1, "the file was not read in blocks"
    assert_frame_equal(whole.frame, pl.concat([p.frame for p in pieces]))
    assert all(p.header == whole.header and p.preamble == whole.preamble for p in pieces)
    assert all(p.sheet == whole.sheet and p.format == whole.format for p in pieces)
    # Each piece starts where the one before it ended.
    assert [p.first_data_row for p in pieces[1:]] == [
        p.first_data_row + p.frame.height for p in pieces[:-1]]
    return pieces


STYLES = ('<numFmts count="3"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
          '<numFmt numFmtId="165" formatCode="[h]:mm:ss"/><numFmt numFmtId="166" formatCode="&quot;Day&quot; 0"/>'
          '</numFmts><cellXfs count="6"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
          '<xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="49"/></cellXfs>')
STRINGS = ('<si><t>plain</t></si><si><r><t>ri</t></r><r><rPr/><t xml:space="preserve">ch </t></r>'
           '<rPh><t>PHONETIC</t></rPh></si><si><t>a_x000D_b &amp; &#233; &#x41;</t></si><si><t/></si>'
           '<si><t>  padded  </t></si><si><t>F</t></si>')
# Every kind of cell: column A varies, column B says what it is, column C is a shared string on every row.
CELLS = [
    '<c r="A{r}" t="e"><v>#DIV/0!</v></c>', '<c r="A{r}" t="e"><v>#N/A</v></c>',
    '<c r="A{r}" t="str"><f>X1</f><v>formula text</v></c>', '<c r="A{r}" t="d"><v>2020-01-05T10:00:00</v></c>',
    '<c r="A{r}" t="s"><v>1</v></c>', '<c r="A{r}" t="s"><v>2</v></c>', '<c r="A{r}" t="s"><v>3</v></c>',
    '<c r="A{r}" t="s"><v>4</v></c>', '<c r="A{r}" s="2"><v>43835</v></c>', '<c r="A{r}" s="3"><v>1.5</v></c>',
    '<c r="A{r}" s="4"><v>7</v></c>', '<c r="A{r}" s="5"><v>7</v></c>', '<c r="A{r}" s="1"><v>59</v></c>',
    '<c r="A{r}" s="1"><v>60</v></c>', '<c r="A{r}" s="1"><v>61</v></c>', '<c r="A{r}" s="1"><v>0</v></c>',
    '<c r="A{r}"><v>1E-7</v></c>', '<c r="A{r}"><v>1.50</v></c>', '<c r="A{r}"><v>0.30000000000000004</v></c>',
    '<c r="A{r}"><v>12345678901234567890</v></c>', '<c r="A{r}"><v></v></c>', '<c r="A{r}" s="1"/>',
    '<c r="A{r}" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c>',
    '<c r="A{r}" t="inlineStr"><is><t>a&lt;b&gt;&quot;&apos;</t></is></c>',
    '<c r="A{r}" t="inlineStr"><is><t>two\nlines</t></is></c>', '<c r="A{r}" s="1"><v>43835.99999999</v></c>',
    '<c r="A{r}" t="b"><v>1</v></c>', '<c r="A{r}" t="b"><v>0</v></c>', '<c r="A{r}" t="s"><v>0</v></c>',
    '<c r="A{r}" s="2" t="s"><v>5</v></c>', '<c t="s" r="A{r}"><v>5</v></c>',
    '<c r="A{r}" t="inlineStr"><is><t>_x0041_</t></is></c>', '<c r="A{r}"><v>-0</v></c>',
]


def _cells_file(path: Path, *, date1904: bool = False, repeat: int = 3) -> Path:
    header = ('<row r="1"><c r="A1" t="inlineStr"><is><t>value</t></is></c><c r="B1" t="inlineStr"><is>'
              '<t>what</t></is></c><c r="C1" t="s"><v>5</v></c></row>')
    rows, r = [header], 2
    for _ in range(repeat):
        for i, cell in enumerate(CELLS):
            rows.append(f'<row r="{r}">{cell.format(r=r)}<c r="B{r}"><v>{i}</v></c><c r="C{r}" t="s"><v>{i % 6}</v>'
                        "</c></row>")
            r += 1
        r += 2  # two rows with no cells at all: empty rows of the table
    return _workbook(path, "".join(rows), strings=STRINGS, styles=STYLES, date1904=date1904)


@pytest.mark.parametrize("date1904", [False, True])
def test_every_kind_of_cell_reads_the_same_in_blocks(tmp_path, date1904):
    path = _cells_file(tmp_path / "cells.xlsx", date1904=date1904)
    for block in (200, 700, 5000):
        _compare(path, ReaderOptions(), None, block)
    pieces = list(read_table_chunks(path, ReaderOptions(), None, xlsx_block_bytes=300))
    column = pl.concat([p.frame for p in pieces])["value"].to_list()
    assert column[:8] == [None, None, "formula text", "2020-01-05T10:00:00", "rich", "a\rb & é A", None, "padded"]
    # A shared string's index never leaks: every shared-string cell holds its text.
    assert not any(v and v.startswith(xlsx_pieces._MARK) for v in column)


def test_only_the_mapped_columns_of_a_simulated_ngo_workbook_read_in_blocks(simulated):
    folder, _ = simulated
    path = folder / "harbour-light.xlsx"
    pieces = _compare(path, load_preset("htcds").reader, _select("htcds"), 64 << 10)
    assert "cas_CaseOwner" not in pieces[0].frame.columns  # not mapped: never read
    assert pieces[0].first_data_row == 3  # two header rows


def test_a_glotip_workbook_finds_its_header_in_the_first_block(monkeypatch):
    """Title rows above the header, a stored dimension of A1, text values: as read whole."""
    path = DATA / "unodc-glotip-quirks.xlsx"
    pieces = _compare(path, load_preset("unodc-glotip").reader, _select("unodc-glotip"), 1000)
    assert pieces[0].first_data_row == 4 and pieces[0].preamble[1][0] == "14/04/2025"


def test_the_pipeline_gives_the_same_result_in_blocks(monkeypatch, simulated):
    folder, _ = simulated
    spec = load_preset("htcds")
    path = folder / "harbour-light.xlsx"
    monkeypatch.setattr(xlsx_pieces, "BLOCK_BYTES", 1 << 40)
    whole = ingest_file(path, spec, identity_key=KEY, organisation="org:1")
    monkeypatch.setattr(xlsx_pieces, "BLOCK_BYTES", 32 << 10)
    seen: list[int] = []
    pieces = ingest_file(path, spec, identity_key=KEY, organisation="org:1", progress=seen.append)
    assert_frame_equal(whole.records, pieces.records)
    assert_frame_equal(whole.quarantine, pieces.quarantine)
    assert whole.report.flatten() == pieces.report.flatten()
    assert whole.report.stats == pieces.report.stats
    # Progress by rows: after each block, the rows read so far, up to all of them.
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1] == whole.report.stats["rows_read"]


def test_rows_are_numbered_as_the_sheet_numbers_them(tmp_path):
    """A sheet whose first rows are empty: the pieces' row numbers are the sheet's, as read whole."""
    rows = "".join(f'<row r="{r}"><c r="B{r}" t="inlineStr"><is><t>{"id" if r == 3 else r}</t></is></c>'
                   f'<c r="C{r}"><v>{r}</v></c></row>' for r in range(3, 400))
    path = _workbook(tmp_path / "late.xlsx", rows)
    pieces = _compare(path, ReaderOptions(), None, 2000)
    frame = pl.concat([p.frame for p in pieces])
    numbers = pl.concat([p.row_numbers() for p in pieces]).cast(pl.String)
    values = frame.to_series(0)
    assert (numbers == values).sum() == 396 and values.to_list().index("4") == 2


def test_a_zip_bomb_is_refused_before_any_block_is_read(tmp_path):
    path = tmp_path / "bomb.xlsx"
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>' + "<row/>" * 20_000_000
    _workbook(path, rows)
    with pytest.raises(UploadTooLarge) as caught:
        list(read_table_chunks(path, ReaderOptions(), None, xlsx_block_bytes=1 << 20))
    assert caught.value.extra["reason"] == "zip-bomb"


def test_a_sheet_over_the_row_cap_is_refused_while_it_is_read(tmp_path):
    from ctdc.ingest.limits import UploadLimits

    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 3000))
    path = _workbook(tmp_path / "many.xlsx", rows)
    with pytest.raises(UploadTooLarge) as caught:
        list(read_table_chunks(path, ReaderOptions(), None, limits=UploadLimits(max_rows=1000),
                               xlsx_block_bytes=4000))
    assert caught.value.extra["reason"] == "too-many-rows"


def test_a_large_sheets_header_and_sample_come_from_its_first_blocks(monkeypatch, simulated):
    """Preset detection reads the header once per preset, mapping suggestions a sample of rows: from a large
    sheet, its first block(s) only, and the same as from the whole sheet."""
    from ctdc.fixtures.formats import NGO_COLUMNS
    from ctdc.ingest import readers
    from ctdc.ingest.detect import detect_preset

    folder, _ = simulated
    path = folder / "harbour-light.xlsx"
    reader = xlsx_pieces.PieceReader.open(path, 0)
    assert reader.sheet_size() > readers._HEADER_BLOCK  # read in blocks
    reader.close()
    options = load_preset("htcds").reader
    whole = readers.read_spreadsheet(path, options, select=lambda header: header[:1]).header
    assert readers.read_header(path, options) == whole and len(whole) == len(NGO_COLUMNS)  # 24 since issue 17
    assert detect_preset(path).name == "htcds"
    monkeypatch.setattr(xlsx_pieces, "BLOCK_BYTES", 64 << 10)
    sample = read_table(path, options, limit=700)
    monkeypatch.setattr(xlsx_pieces, "BLOCK_BYTES", 1 << 40)
    expected = read_table(path, options, limit=700)
    assert_frame_equal(sample.frame, expected.frame)
    assert (sample.header, sample.first_data_row) == (expected.header, expected.first_data_row)
