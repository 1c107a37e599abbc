"""Read a contributor file into a table of text cells, reporting how it was read.

Every cell comes back as a string (or null for an empty cell): typing happens in `normalize`, where a bad value
becomes a reported problem instead of a silent coercion. Formula-looking cells (`=`, `+`, `-`, `@`) stay text.

CSV: encoding (UTF-8, UTF-8 with BOM, then Windows-1252/Latin-1) and delimiter (`,` `;` tab `|`) are detected when
the mapping does not fix them. XLSX/ODS: read with calamine; dates become ISO text, whole numbers lose their `.0`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
from python_calamine import CalamineWorkbook

from ctdc.errors import IngestError
from ctdc.ingest.mapping import ReaderOptions

_SPREADSHEET = {".xlsx", ".xlsm", ".xls", ".ods"}
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class ReadResult:
    frame: pl.DataFrame
    first_data_row: int
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def row_numbers(self) -> pl.Series:
        """1-based row numbers in the file, as a spreadsheet program shows them."""
        return pl.int_range(self.first_data_row, self.first_data_row + self.frame.height, eager=True).alias("row")


def detect_format(path: Path, options: ReaderOptions) -> str:
    if options.format:
        return options.format
    suffix = path.suffix.lower()
    if suffix in _SPREADSHEET:
        return "xlsx"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    head = path.read_bytes()[:8]
    if head.startswith(b"PK"):
        return "xlsx"
    return "csv"


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode with the given encoding, or detect: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise IngestError(f"The file is not valid {encoding}: {exc}", {"encoding": encoding}) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for enc in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise IngestError("The file's text encoding could not be recognised.")  # latin-1 decodes anything; unreachable


def sniff_delimiter(sample: str) -> str:
    first_line = sample.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(sample[:65536], delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: first_line.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_csv(path: Path, options: ReaderOptions) -> ReadResult:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise IngestError(f"{path.name} does not look like a text (CSV) file.", {"file": path.name})
    text, encoding = decode(data, options.encoding)
    if not text.strip():
        raise IngestError(f"{path.name} is empty: there is no header row.", {"file": path.name})
    delimiter = options.delimiter or sniff_delimiter(text)
    skip = options.header_row - 1
    try:
        frame = pl.read_csv(
            io.StringIO(text), separator=delimiter, infer_schema=False, skip_rows=skip, has_header=True,
            truncate_ragged_lines=False, quote_char='"',
        )
    except pl.exceptions.PolarsError as exc:
        raise IngestError(
            f"{path.name} could not be parsed as CSV (delimiter {delimiter!r}): {str(exc).splitlines()[0]}",
            {"file": path.name, "delimiter": delimiter},
        ) from None
    if options.skip_rows:
        frame = frame.slice(options.skip_rows)
    frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
    return ReadResult(frame, options.header_row + 1 + options.skip_rows, "csv", encoding, delimiter)


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value).strip() or None


def read_spreadsheet(path: Path, options: ReaderOptions) -> ReadResult:
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for non-workbooks
        raise IngestError(f"{path.name} is not a readable spreadsheet: {exc}", {"file": path.name}) from None
    sheet = options.sheet or wb.sheet_names[0]
    if sheet not in wb.sheet_names:
        raise IngestError(f"{path.name} has no sheet '{sheet}'. Sheets: {', '.join(wb.sheet_names)}.",
                          {"file": path.name, "sheet": sheet})
    rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    h = options.header_row - 1
    if len(rows) <= h or not any(v not in (None, "") for v in rows[h]):
        raise IngestError(f"{path.name}, sheet '{sheet}': no header row found at row {options.header_row}.",
                          {"file": path.name, "sheet": sheet})
    header = [_cell_text(v) or f"column_{i + 1}" for i, v in enumerate(rows[h])]
    body = rows[h + 1 + options.skip_rows:]
    width = len(header)
    columns = {name: [_cell_text(r[i]) if i < len(r) else None for r in body] for i, name in enumerate(header[:width])}
    frame = pl.DataFrame(columns, schema={n: pl.String for n in columns})
    return ReadResult(frame, options.header_row + 1 + options.skip_rows, "xlsx", sheet=sheet)


def read_table(path: Path, options: ReaderOptions | None = None) -> ReadResult:
    """Read `path` (CSV/TSV/XLSX/ODS) as text cells. Raises `IngestError` when it cannot be read at all."""
    options = options or ReaderOptions()
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"File not found: {path}", {"file": str(path)})
    fmt = detect_format(path, options)
    result = read_spreadsheet(path, options) if fmt == "xlsx" else read_csv(path, options)
    # Trailing rows with no value at all are padding, not records.
    frame = result.frame
    if frame.width:
        nonempty = frame.select(pl.any_horizontal(pl.all().is_not_null()).alias("x")).to_series()
        last = nonempty.arg_true()
        frame = frame.slice(0, int(last[-1]) + 1) if last.len() else frame.clear()
    return ReadResult(frame, result.first_data_row, result.format, result.encoding, result.delimiter,
                      result.sheet)
