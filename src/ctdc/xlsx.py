"""A minimal, fast XLSX writer: release packages and the simulated contributor files.

openpyxl writes about 10^5 cells a second, far too slow for a 1,000,000-case simulation, so this module renders the
sheet XML with vectorised polars string expressions and zips it. It writes what a case-management export needs:
inline strings, numbers and dates (as Excel serial numbers with a date style). The archive is byte-for-byte
deterministic (fixed timestamps), so re-simulating with the same seed gives the same file and the same sha256.

>>> import tempfile, pathlib, polars as pl
>>> p = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
>>> write_xlsx(p, "cases", [["id", "name"]], pl.DataFrame({"id": [1, 2], "name": ["a&b", None]}))
>>> from python_calamine import CalamineWorkbook
>>> CalamineWorkbook.from_path(str(p)).get_sheet_by_name("cases").to_python()
[['id', 'name'], [1.0, 'a&b'], [2.0, '']]
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import polars as pl

_FIXED_TIME = (2025, 1, 1, 0, 0, 0)
_EXCEL_EPOCH = date(1899, 12, 30)

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
# Style 0 is the default; style 1 shows a serial number as a date (built-in number format 14).
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="1"><fill><patternFill patternType="none"/></fill></fills>
<borders count="1"><border/></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
</styleSheet>"""


def column_letter(i: int) -> str:
    """Spreadsheet column name of 0-based index `i` (0 -> A, 26 -> AA).

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701), column_letter(702)
    ('A', 'Z', 'AA', 'ZZ', 'AAA')
    """
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _escape(expr: pl.Expr) -> pl.Expr:
    # Control characters other than tab/newline are not allowed in XML 1.0.
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "")
    )


def _text_cell(ref: pl.Expr, text: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit('<c r="'), ref, pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
                          _escape(text), pl.lit("</t></is></c>")])


def _cell(name: str, dtype: pl.DataType, letter: str, row: pl.Expr, fallback: str | None = None) -> pl.Expr:
    ref = pl.concat_str([pl.lit(letter), row])
    col = pl.col(name)
    if dtype == pl.Date:
        serial = (col - pl.lit(_EXCEL_EPOCH)).dt.total_days().cast(pl.String)
        body = pl.concat_str([pl.lit('<c r="'), ref, pl.lit('" s="1"><v>'), serial, pl.lit("</v></c>")])
        if fallback:
            return (pl.when(col.is_not_null()).then(body)
                    .when(pl.col(fallback).is_not_null()).then(_text_cell(ref, pl.col(fallback)))
                    .otherwise(pl.lit("")))
    elif dtype.is_numeric():
        body = pl.concat_str([pl.lit('<c r="'), ref, pl.lit('"><v>'), col.cast(pl.String), pl.lit("</v></c>")])
    else:
        body = _text_cell(ref, col.cast(pl.String))
    return pl.when(col.is_null()).then(pl.lit("")).otherwise(body)


def _header_xml(rows: list[list[str]]) -> str:
    out = []
    for r, values in enumerate(rows, start=1):
        cells = "".join(
            f'<c r="{column_letter(i)}{r}" t="inlineStr"><is><t>{v.replace("&", "&amp;").replace("<", "&lt;")}</t></is></c>'
            for i, v in enumerate(values) if v
        )
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def write_xlsx(path: Path, sheet: str, header_rows: list[list[str]], frame: pl.DataFrame,
               text_fallback: dict[str, str] | None = None) -> None:
    """Write `frame` under `header_rows` (one or more rows of header text) as a one-sheet workbook.

    `text_fallback` maps a date column to a text column whose value is written, as text, where the date is null
    (how a typing error looks in a real export). Fallback columns are not written on their own.
    """
    text_fallback = text_fallback or {}
    hidden = set(text_fallback.values())
    columns = [n for n in frame.columns if n not in hidden]
    first_data_row = len(header_rows) + 1
    row = (pl.int_range(pl.len()) + first_data_row).cast(pl.String)
    cells = [_cell(n, frame.schema[n], column_letter(i), row, text_fallback.get(n)) for i, n in enumerate(columns)]
    rows = frame.select(
        pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")]).alias("x")
    ).to_series()
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _RELS,
        "xl/workbook.xml": _WORKBOOK.format(name=sheet),
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
        "xl/styles.xml": _STYLES,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in parts.items():
            zf.writestr(zipfile.ZipInfo(name, _FIXED_TIME), text)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", _FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        # A ZipInfo opened for writing ignores the archive's compresslevel; level 1 is 3x faster than the
        # default 6 on this repetitive XML for a file about 15 % larger. (Python 3.13 renames the attribute.)
        setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
        with zf.open(info, "w", force_zip64=True) as fh:
            fh.write((head + _header_xml(header_rows)).encode())
            # Write in slices so a million-row sheet never becomes one giant Python string.
            step = 50_000
            for start in range(0, rows.len(), step):
                fh.write("".join(rows.slice(start, step).to_list()).encode())
            fh.write(b"</sheetData></worksheet>")
