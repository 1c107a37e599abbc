"""Read a contributor file into a table of text cells, reporting how it was read.

Every cell comes back as a string (or null for an empty cell): typing happens in `normalize`, where a bad value
becomes a reported problem instead of a silent coercion. Formula-looking cells (`=`, `+`, `-`, `@`) stay text.

CSV: encoding (UTF-8, UTF-8 with BOM, then Windows-1252/Latin-1) and delimiter (`,` `;` tab `|`) are detected when
the mapping does not fix them. XLSX/XLS/ODS: read with fastexcel (calamine); dates become ISO text.

A *notice cell* (the public CTDC files put a terms-of-use sentence where the first column name should be, and
leave that column empty on every row) is dropped when `notice_cell` is set, or detected with `auto`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from ctdc.errors import IngestError, NotATable
from ctdc.ingest.limits import UploadLimits, refuse_oversize, refuse_too_many_rows, refuse_zip_bomb
from ctdc.ingest.mapping import ReaderOptions
from ctdc.ingest.xlsx_pieces import (
    PieceReader,
    anchor,
    first_column,
    first_row,
    mark_shared,
    unmark_shared,
)
from ctdc.xlsx import column_letter

# Given the file's header, the columns to read: unneeded columns (narratives, say) are never even parsed.
Selector = Callable[[list[str]], list[str]]
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
    header: list[str] | None = None  # every column name in the file, read or not
    preamble: tuple[tuple[str, ...], ...] = ()  # rows above the header (`find_header`): titles, a release date

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


# Leading bytes of files people upload by mistake instead of their case spreadsheet: what each one is.
_MAGIC = (
    (b"%PDF", "a PDF document"), (b"\x89PNG", "an image (PNG)"), (b"\xff\xd8\xff", "an image (JPEG)"),
    (b"GIF8", "an image (GIF)"), (b"II*\x00", "an image (TIFF)"), (b"MM\x00*", "an image (TIFF)"),
    (b"{\\rtf", "a Rich Text (RTF) document"), (b"%!PS", "a PostScript document"),
    (b"\x1f\x8b", "a compressed (gzip) archive"), (b"7z\xbc\xaf", "a compressed (7-Zip) archive"),
    (b"Rar!", "a compressed (RAR) archive"), (b"\x7fELF", "a program"),
)
# Inside a ZIP container, the folder that says which office format it is.
_ZIP_KINDS = (("word/", "a Word document"), ("ppt/", "a PowerPoint presentation"))


def sniff_not_a_table(path: Path) -> str | None:
    """What `path` looks like when it is clearly not a table (e.g. "a PDF document"), or None.

    By content, never by name: a PDF renamed .csv is still a PDF. Spreadsheets (XLSX/ODS in a ZIP, old XLS in an
    OLE container) and text files pass; a file with NUL bytes in its first kilobytes that is neither is binary.
    """
    with Path(path).open("rb") as fh:
        head = fh.read(4096)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return "a damaged ZIP archive"
        if any(n.startswith("xl/") for n in names) or "content.xml" in names:
            return None
        return next((kind for folder, kind in _ZIP_KINDS if any(n.startswith(folder) for n in names)),
                    "a ZIP archive")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return None  # OLE: an old .xls (read by calamine), or a .doc it will refuse clearly
    lowered = head.lstrip()[:64].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "a binary file"
    return None


def refuse_if_not_a_table(path: Path) -> None:
    kind = sniff_not_a_table(path)
    if kind:
        raise NotATable(f"{Path(path).name} looks like {kind}, not a spreadsheet or CSV file of case records.",
                        {"file": Path(path).name, "looks_like": kind})


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode with the given encoding, or detect: UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise IngestError(f"The file is not valid {encoding}: {exc}", {"encoding": encoding, "reason": "bad-encoding"}) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for enc in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise IngestError("The file's text encoding could not be recognised.")  # latin-1 decodes anything; unreachable


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields.

    csv.Sniffer on a large sample costs most of a second; counting on 20 lines is enough and ignores quoting
    only where a quoted field holds the delimiter on every line, which then still wins on consistency.

    >>> sniff_delimiter("a;b;c\\n1;2;3\\n")
    ';'
    """
    lines = [ln for ln in sample.splitlines()[:20] if ln.strip()]
    best, best_score = ",", (0, 0)
    for d in _DELIMITERS:
        counts = [ln.count(d) for ln in lines]
        if not counts or counts[0] == 0:
            continue
        consistent = sum(c == counts[0] for c in counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = d, score
    return best


_SAMPLE = 1 << 20


def _sample_text(data: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode the first megabyte to detect the encoding; a cut multi-byte character at the end is tolerated."""
    head = data[:_SAMPLE]
    for trim in range(4):
        try:
            return decode(head[: len(head) - trim] if trim else head, encoding)
        except IngestError:
            if encoding:
                raise
        except UnicodeDecodeError:
            continue
    return decode(head, encoding)


def _csv_setup(path: Path, options: ReaderOptions, data: bytes | None = None) -> tuple[bytes, str, str, list[str]]:
    """The file's bytes, its encoding and delimiter, and its header as written (names not yet stripped).

    UTF-16 with a byte order mark (Excel's "Unicode text") is transcoded to UTF-8 here; a file whose lines end
    with a bare CR (old Mac exports) gets LF line ends, which is all polars reads. `data`: the bytes to look at
    instead of the whole file (its start, for a file read in chunks).
    """
    data = path.read_bytes() if data is None else data
    forced = options.encoding
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and (forced or "utf-16").lower().replace("-", "") == "utf16":
        try:  # a file cut short may end inside a character: its last odd byte goes, as a cut line would
            data = data[: len(data) - len(data) % 2].decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise IngestError(f"{path.name} starts like a UTF-16 text file but is not valid UTF-16.",
                              {"file": path.name, "reason": "bad-utf16"}) from None
        forced = "utf-8"
    if b"\x00" in data[:4096]:
        raise IngestError(f"{path.name} does not look like a text (CSV) file.", {"file": path.name, "reason": "not-text"})
    if b"\r" in data and b"\n" not in data:
        data = data.replace(b"\r", b"\n")
    sample, encoding = _sample_text(data, forced)
    if forced != options.encoding:
        encoding = "utf-16"
    if not sample.strip():
        raise IngestError(f"{path.name} is empty: there is no header row.", {"file": path.name, "reason": "empty"})
    delimiter = options.delimiter or sniff_delimiter(sample[:65536])
    # The csv module, not splitlines(): a quoted header cell may hold a line break, and splitlines() also breaks
    # at characters (form feed, U+2028...) that are no line end in CSV.
    rows = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    header: list[str] = []
    try:
        for _ in range(options.header_row):
            header = next(rows, [])
    except csv.Error:
        header = []
    return data, encoding, delimiter, header


def _locate_csv_error(text: str, delimiter: str, lines_before: int = 0) -> str:
    """Where the csv module, in strict mode, first stumbles: ', near row N', or '' if it does not. `text` may be
    a piece of the file that starts after `lines_before` lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error:
        return f", near row {lines_before + reader.line_num}"
    return ""


def _selected(path: Path, header: list[str], select: Selector | None, raw: list[str] | None = None) -> list[str] | None:
    """The columns `select` wants from `header`; `IngestError` when one of them shares its name with another.

    Which of two same-named columns holds the data is anyone's guess, so we ask instead of choosing. Repeated
    names among columns nobody reads do not matter. `raw` is the header as the file spells it, where a reader
    renamed repeats (fastexcel reads 'sex', 'sex' as 'sex', 'sex_1').
    """
    if select is None:
        return None
    raw = raw if raw is not None and len(raw) == len(header) else header
    columns = list(dict.fromkeys(select(header)))
    for name in columns:
        spelled = raw[header.index(name)] if name in header else name
        at = [i for i, h in enumerate(raw) if h == spelled]
        if spelled and len(at) > 1:
            letters = [column_letter(i) for i in at]
            where = ", ".join(letters[:-1]) + " and " + letters[-1]
            raise IngestError(
                f"{path.name}: {len(at)} columns of the header are named '{spelled}' (columns {where}). Each column "
                "needs its own name: rename or delete the extra ones, then send the file again.",
                {"file": path.name, "code": "duplicate-header", "column": spelled, "positions": [i + 1 for i in at]},
            )
    return columns


def read_csv(path: Path, options: ReaderOptions, select: Selector | None = None, limit: int | None = None) -> ReadResult:
    data, encoding, delimiter, written = _csv_setup(path, options)
    header = [h.strip() for h in written]
    columns = _selected(path, header, select)
    if encoding in ("utf-8", "utf-8-sig", "utf-16"):
        payload = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    else:
        # polars parses UTF-8 only: transcode single-byte encodings once.
        payload = decode(data, encoding)[0].encode("utf-8")
    del data
    # Columns are read by position under names of our own (the header may hold spaces, repeats or nothing),
    # plus one more than the header has: a row with a value there has more cells than the header has columns.
    width = len(header)
    wanted = list(range(width)) if columns is None else [header.index(c) for c in columns]
    try:
        frame = pl.read_csv(
            io.BytesIO(payload), separator=delimiter, has_header=False, skip_rows=options.header_row,
            schema={f"c{i}": pl.String for i in range(width + 1)}, missing_columns="insert", extra_columns="ignore",
            truncate_ragged_lines=True, quote_char='"', columns=[*wanted, width], n_rows=limit,
        )
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower() and encoding == "utf-8" and not options.encoding:
            # The first megabyte was UTF-8 but a later byte is not: the file is Windows-1252 after all.
            return read_csv(path, ReaderOptions(**{**options.__dict__, "encoding": "cp1252"}), select, limit)
        raise _parse_error(path, payload, delimiter) from None
    except pl.exceptions.PolarsError:
        raise _parse_error(path, payload, delimiter) from None
    _refuse_extra_cells(path, frame, width, options.header_row + 1, delimiter)
    frame = frame.drop(f"c{width}").rename({f"c{i}": header[i] for i in wanted})
    if options.skip_rows:
        frame = frame.slice(options.skip_rows)
    frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
    return ReadResult(frame, options.header_row + 1 + options.skip_rows, "csv", encoding, delimiter,
                      header=header)


def _refuse_extra_cells(path: Path, frame: pl.DataFrame, width: int, first_row: int, delimiter: str) -> None:
    """`IngestError` when a row has a value past the header's last column (read as column `c<width>`)."""
    extra = frame.select(pl.col(f"c{width}").str.strip_chars().replace("", None).is_not_null()).to_series()
    if extra.any():
        rows = [first_row + i for i in extra.arg_true().head(5).to_list()]
        more = int(extra.sum()) - len(rows)
        listed = ", ".join(map(str, rows)) + (f" and {more} more" if more else "")
        raise IngestError(
            f"{path.name}: row{'s' if len(rows) > 1 else ''} {listed} ha{'ve' if len(rows) > 1 else 's'} more "
            f"cells than the header has columns ({width}), so the cells no longer sit under their column names. A "
            f"value that holds the delimiter {delimiter!r} must be in double quotes: fix th"
            f"{'ose rows' if len(rows) > 1 else 'at row'}, or save the file again from the spreadsheet program.",
            {"file": path.name, "code": "extra-cells", "rows": rows, "columns": width, "reason": "extra-cells"})


def _parse_error(path: Path, payload: bytes, delimiter: str, lines_before: int = 0) -> IngestError:
    """Our own words for a CSV that polars cannot parse: its message can quote a cell, a victim's name say."""
    where = _locate_csv_error(payload.decode("utf-8", errors="replace"), delimiter, lines_before)
    return IngestError(
        f"{path.name} could not be read as CSV (delimiter {delimiter!r}){where}: a double quote is not where CSV "
        'expects it. A cell that starts with " must end with ", and a " inside a cell is written twice (""). '
        "Fix that row, or save the file again from the spreadsheet program.",
        {"file": path.name, "delimiter": delimiter, "code": "csv-malformed", "reason": "misplaced-quote"})


def read_spreadsheet(path: Path, options: ReaderOptions, select: Selector | None = None,
                     limit: int | None = None, limits: UploadLimits | None = None) -> ReadResult:
    """XLSX/XLS/ODS through fastexcel (calamine in Rust): cells arrive as Arrow strings, never as Python objects.

    The zip parts are checked against `limits` first (declared sizes, then bytes counted while inflating, nothing
    kept): the spreadsheet reader never sees a file they refuse."""
    refuse_zip_bomb(path, limits or UploadLimits())
    try:
        reader = fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as exc:
        first = str(exc).splitlines()[0]
        raise IngestError(f"{path.name} is not a readable spreadsheet ({first}).",
                          {"file": path.name, "reason": "bad-spreadsheet"}) from None
    sheet = options.sheet or reader.sheet_names[0]
    if sheet not in reader.sheet_names:
        raise IngestError(f"{path.name} has no sheet '{sheet}'. Sheets: {', '.join(reader.sheet_names)}.",
                          {"file": path.name, "sheet": sheet, "sheets": list(reader.sheet_names),
                           "reason": "no-sheet"})
    try:
        header = [c.name for c in reader.load_sheet(sheet, header_row=options.header_row - 1, n_rows=0).available_columns()]
        raw = _spreadsheet_header(reader, sheet, options.header_row) if select is not None else None
        columns = _selected(path, header, select, raw)
        loaded = reader.load_sheet(sheet, header_row=options.header_row - 1, skip_rows=options.skip_rows,
                                   dtypes="string", use_columns=columns, n_rows=limit)
        frame = pl.from_arrow(loaded.to_arrow())
    except fastexcel.FastExcelError as exc:
        raise IngestError(f"{path.name}, sheet '{sheet}': no header row found at row {options.header_row} "
                          f"({str(exc).splitlines()[0]}).",
                          {"file": path.name, "sheet": sheet, "row": options.header_row, "reason": "no-header"}) from None
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.all().cast(pl.String).str.strip_chars().replace("", None))
    kind = {".ods": "ods", ".xls": "xls"}.get(path.suffix.lower(), "xlsx")
    return ReadResult(frame, options.header_row + 1 + options.skip_rows, kind, sheet=sheet, header=header)


def _spreadsheet_header(reader, sheet: str, header_row: int) -> list[str]:
    """The header row's cells as written (empty cells as '')."""
    rows = reader.load_sheet(sheet, header_row=None, n_rows=header_row, dtypes="string").to_arrow()
    if rows.num_rows < header_row:
        return []
    return [("" if v is None else str(v)) for v in (col[header_row - 1].as_py() for col in rows.columns)]


def read_header(path: Path, options: ReaderOptions | None = None) -> list[str]:
    """Only the column names of `path`, cheaply (for preset detection and mapping suggestions)."""
    options = options or ReaderOptions()
    path = Path(path)
    if detect_format(path, options) in ("xlsx", "xls", "ods"):
        if _blockwise(path):
            # A large sheet: its first megabyte of XML holds the header (detection asks once per preset).
            plan = _xlsx_plan(path, options, lambda header: header[:1], UploadLimits(), _HEADER_BLOCK)
            if plan is not None:
                plan.reader.close()
                return list(plan.first.header or [])
        return read_spreadsheet(path, options, select=lambda header: header[:1]).header or []
    return _csv_setup(path, options)[3]


_HEADER_BLOCK = 1 << 20


def _blockwise(path: Path) -> bool:
    """Whether `path` is a workbook whose sheets `xlsx_pieces` can read in blocks (not .xls/.ods)."""
    return path.suffix.lower() not in (".xls", ".ods")


def read_table(path: Path, options: ReaderOptions | None = None, select: Selector | None = None,
               limit: int | None = None, limits: UploadLimits | None = None) -> ReadResult:
    """Read `path` (CSV/TSV/XLSX/ODS) as text cells. Raises `IngestError` when it cannot be read at all, and its
    subclass `UploadTooLarge` when it is over `limits` (default: `UploadLimits()`, see `ctdc.ingest.limits`).

    `select`, given the header, names the columns to read; the others are never parsed. `limit` reads only the
    first rows (a sample).
    """
    options = options or ReaderOptions()
    limits = limits or UploadLimits()
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"File not found: {path}", {"file": str(path), "reason": "not-found"})
    refuse_oversize(name=path.name, size=path.stat().st_size, limits=limits)
    refuse_if_not_a_table(path)
    fmt = detect_format(path, options)
    spreadsheet = fmt in ("xlsx", "xls", "ods")
    if limit is not None and fmt == "xlsx" and _blockwise(path):
        # A sample of a large sheet (mapping suggestions): its first blocks, not the whole sheet.
        plan = _xlsx_plan(path, options, select, limits, None)
        if plan is not None:
            return _xlsx_sample(path, plan, limits, limit)
    preamble: tuple[tuple[str, ...], ...] = ()
    if options.find_header and select is not None:
        first = _first_rows(path, options, spreadsheet, limits)
        found = next((i + 1 for i, row in enumerate(first) if len(select([c.strip() for c in row])) >= 2), None)
        if found is not None:
            preamble = tuple(tuple(c.strip() for c in row) for row in first[:found - 1])
            options = ReaderOptions(**{**options.__dict__, "header_row": found, "find_header": False})
    # A spreadsheet: one row past the cap is read, never the rest. A CSV is read whole (its bytes are capped
    # already): polars given a row limit stops before it can see a quote left open, which must be refused.
    n_rows = limits.max_rows + 1 if limit is None else min(limit, limits.max_rows + 1)
    result = (read_spreadsheet(path, options, select, n_rows, limits) if spreadsheet
              else read_csv(path, options, select, limit))
    frame = result.frame
    if limit is None or limit > limits.max_rows:
        refuse_too_many_rows(name=path.name, rows=frame.height, limits=limits)
    header, frame = _drop_notice(options, list(result.header or frame.columns), frame)
    # Trailing rows with no value at all are padding, not records.
    frame = frame.slice(0, _filled_height(frame))
    return ReadResult(frame, result.first_data_row, result.format, result.encoding, result.delimiter,
                      result.sheet, header, preamble)


def _drop_notice(options: ReaderOptions, header: list[str], frame: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    if options.notice_cell and header and (options.notice_cell is True or len(header[0]) > 40):
        # A sentence where the first column name should be: the public CTDC files' terms-of-use notice.
        notice = header.pop(0)
        if notice in frame.columns and frame[notice].null_count() == frame.height:
            frame = frame.drop(notice)
    return header, frame


def _filled_height(frame: pl.DataFrame) -> int:
    """How many rows `frame` has up to its last row with a value (trailing empty rows are padding)."""
    if not frame.width:
        return frame.height
    last = frame.select(pl.any_horizontal(pl.all().is_not_null()).alias("x")).to_series().arg_true()
    return int(last[-1]) + 1 if last.len() else 0


# A CSV larger than this is read in pieces of about this many bytes (`read_table_chunks`), so the memory a
# file takes while it is processed stays flat however large it grows (issue 14).
CHUNK_BYTES = 8 << 20
_SINGLE_BYTE = {"cp1252", "latin-1", "iso8859-1", "iso8859-15", "ascii"}


def read_table_chunks(path: Path, options: ReaderOptions | None = None, select: Selector | None = None,
                      limits: UploadLimits | None = None, chunk_bytes: int | None = None,
                      xlsx_block_bytes: int | None = None) -> Iterator[ReadResult]:
    """`read_table` in consecutive pieces of rows, each a `ReadResult` whose `first_data_row` is its own first row.

    A CSV over `chunk_bytes` (default `CHUNK_BYTES`) in UTF-8, Windows-1252 or Latin-1 is read piece by piece:
    each piece ends at a line end outside quotes (an even number of `"` before it), is parsed, checked (cells
    past the header) and trimmed like the whole file, and rows with no value are held back until a row with a
    value follows them (trailing empty rows are padding, as in `read_table`). Anything else (a spreadsheet,
    UTF-16, bare CR line ends, a header to find, a smaller file) comes whole, as `read_table` reads it.
    An XLSX sheet over `xlsx_block_bytes` of XML (default `xlsx_pieces.BLOCK_BYTES`) is read in blocks of rows
    (`ctdc.ingest.xlsx_pieces`), each converted by calamine as the whole sheet would be.
    The concatenated pieces are the table `read_table` returns.
    """
    options = options or ReaderOptions()
    limits = limits or UploadLimits()
    path = Path(path)
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    fmt = detect_format(path, options) if path.is_file() else None
    if fmt == "xlsx" and path.suffix.lower() not in (".xls", ".ods"):
        plan = _xlsx_plan(path, options, select, limits, xlsx_block_bytes)
        if plan is not None:
            yield from _xlsx_pieces(path, plan, limits)
            return
    if not path.is_file() or path.stat().st_size <= chunk_bytes or options.find_header or fmt != "csv":
        yield read_table(path, options, select, limits=limits)
        return
    refuse_oversize(name=path.name, size=path.stat().st_size, limits=limits)
    refuse_if_not_a_table(path)
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (b"\r" in head and b"\n" not in head):
        yield read_table(path, options, select, limits=limits)
        return
    _head, encoding, delimiter, written = _csv_setup(path, options, head)
    header = [h.strip() for h in written]
    columns = _selected(path, header, select)
    width = len(header)
    wanted = list(range(width)) if columns is None else [header.index(c) for c in columns]
    names = {f"c{i}": header[i] for i in wanted}
    header, notice_read = _drop_notice(options, list(header), pl.DataFrame({c: [None] for c in names.values()}))
    if (codecs.lookup(encoding).name not in _SINGLE_BYTE and encoding not in ("utf-8", "utf-8-sig")
            or notice_read.width < len(names)  # the notice column is read: whether it is empty is the file's
            or encoding == "utf-8" and not options.encoding and not _all_utf8(path)):
        # A multi-byte encoding other than UTF-8 (a line end byte may sit inside a character), or the first
        # megabyte was UTF-8 but a later byte is not: read whole, as `read_csv` decides then.
        yield read_table(path, options, select, limits=limits)
        return
    first_row = options.header_row + 1
    emitted, pending, lines_before = 0, None, 0
    for index, piece in enumerate(_csv_pieces(path, chunk_bytes)):
        if encoding not in ("utf-8", "utf-8-sig"):
            piece = decode(piece, encoding)[0].encode("utf-8")
        elif index == 0 and piece.startswith(b"\xef\xbb\xbf"):
            piece = piece[3:]
        try:
            frame = pl.read_csv(
                piece, separator=delimiter, has_header=False, skip_rows=options.header_row if index == 0 else 0,
                schema={f"c{i}": pl.String for i in range(width + 1)}, missing_columns="insert",
                extra_columns="ignore", truncate_ragged_lines=True, quote_char='"', columns=[*wanted, width])
        except pl.exceptions.PolarsError:
            raise _parse_error(path, piece, delimiter, lines_before) from None
        lines_before += piece.count(b"\n")
        if index == 0 and options.skip_rows:
            first_row += options.skip_rows
            frame = frame.slice(options.skip_rows)
        row = first_row + emitted + (pending.height if pending is not None else 0)
        _refuse_extra_cells(path, frame, width, row, delimiter)
        frame = frame.drop(f"c{width}").rename(names).with_columns(pl.all().str.strip_chars().replace("", None))
        if pending is not None:
            frame = pl.concat([pending, frame])
        refuse_too_many_rows(name=path.name, rows=emitted + frame.height, limits=limits)
        filled = _filled_height(frame)
        pending = frame.slice(filled)  # empty rows so far: padding unless a row with a value follows
        if filled:
            yield ReadResult(frame.slice(0, filled), first_row + emitted, "csv", encoding, delimiter,
                             header=header)
            emitted += filled
    if not emitted:  # nothing but empty rows: one empty piece, as `read_table` gives
        yield ReadResult(pending.clear() if pending is not None else pl.DataFrame(schema=list(names.values())),
                         first_row, "csv", encoding, delimiter, header=header)


def _csv_pieces(path: Path, size: int) -> Iterator[bytes]:
    """The bytes of `path` in pieces of about `size`, each ending at a line end outside double quotes."""
    rest = b""
    with path.open("rb") as fh:
        while block := fh.read(size):
            data = rest + block
            cut = data.rfind(b"\n")
            # An odd number of quotes before a line end: it is inside a quoted cell. Look at the one before.
            while cut >= 0 and data.count(b'"', 0, cut) % 2:
                cut = data.rfind(b"\n", 0, cut)
            if cut < 0:
                rest = data
                continue
            yield data[:cut + 1]
            rest = data[cut + 1:]
    if rest:
        yield rest


def _all_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (read in blocks; nothing kept)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            while block := fh.read(_SAMPLE * 8):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


_HEADER_SEARCH = 10


def _first_rows(path: Path, options: ReaderOptions, spreadsheet: bool,
                limits: UploadLimits) -> list[list[str]]:
    """The first rows of the file as text cells (empty cells as ''), to find where the header is."""
    if spreadsheet:
        refuse_zip_bomb(path, limits)
        try:
            reader = fastexcel.read_excel(str(path))
            sheet = options.sheet or reader.sheet_names[0]
            rows = reader.load_sheet(sheet, header_row=None, n_rows=_HEADER_SEARCH, dtypes="string").to_arrow()
        except fastexcel.FastExcelError:
            return []  # the reader proper says what is wrong with the file
        columns = [col.to_pylist() for col in rows.columns]
        return [[("" if col[i] is None else str(col[i])) for col in columns] for i in range(rows.num_rows)]
    _data, _encoding, delimiter, _header = _csv_setup(path, ReaderOptions(**{**options.__dict__, "header_row": 1}))
    sample, _ = _sample_text(_data, _encoding if _encoding != "utf-16" else "utf-8")
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        return [row for _, row in zip(range(_HEADER_SEARCH), reader, strict=False)]
    except csv.Error:
        return []


@dataclass
class _XlsxPlan:
    """What the first block of a large XLSX sheet said: how to read the rest (`_xlsx_plan`)."""

    reader: PieceReader
    blocks: Iterator[tuple[bytes, bytes]]
    first: ReadResult  # the first piece, already read
    columns: list[int]  # sheet positions (0-based) of the columns read, in the order of `names`
    names: list[str]


def _xlsx_plan(path: Path, options: ReaderOptions, select: Selector | None, limits: UploadLimits,
               block_bytes: int | None) -> _XlsxPlan | None:
    """Read the first block of a large XLSX sheet and plan the rest; None when the sheet is read whole instead
    (small, not plain XLSX markup, no row numbers, a notice cell whose column is read...): then `read_table`
    reads it, and says what is wrong with it if anything is."""
    refuse_oversize(name=path.name, size=path.stat().st_size, limits=limits)
    refuse_if_not_a_table(path)
    _refuse_zip_bomb_once(path, limits)  # before anything is inflated, as for the whole sheet
    try:
        names = fastexcel.read_excel(str(path)).sheet_names
    except fastexcel.FastExcelError:
        return None
    sheet = options.sheet or (names[0] if names else None)
    if sheet not in names:
        return None
    reader = PieceReader.open(path, names.index(sheet), block_bytes)
    if reader is None:
        return None
    if reader.sheet_size() <= reader.block_bytes:
        reader.close()
        return None
    try:
        blocks = reader.blocks()
        root, rows = next(blocks)
        # The first block holds the header, the rows above it and some rows under it (calamine names the columns
        # of a sheet holding nothing but a header row differently).
        need = max(options.header_row, _HEADER_SEARCH) + options.skip_rows + 2
        while rows.count(b"</row>") < need:
            more = next(blocks, None)
            if more is None:
                break
            rows += more[1]
        plan = _xlsx_first(path, options, select, reader, blocks, root, rows, sheet)
    except (ValueError, StopIteration, fastexcel.FastExcelError):
        plan = None
    if plan is None:
        reader.close()
    return plan


def _refuse_zip_bomb_once(path: Path, limits: UploadLimits) -> None:
    """`refuse_zip_bomb`, its verdict on a file that passed remembered while the file is unchanged (preset
    detection reads a large workbook's header once per preset: its parts are inflated and counted once)."""
    stat = path.stat()
    _zip_checked(str(path.resolve()), stat.st_size, stat.st_mtime_ns, limits)


@functools.lru_cache(maxsize=32)
def _zip_checked(path: str, size: int, mtime_ns: int, limits: UploadLimits) -> bool:
    refuse_zip_bomb(Path(path), limits)  # a refusal raises: it is never remembered
    return True


def _xlsx_first(path: Path, options: ReaderOptions, select: Selector | None, reader: PieceReader,
                blocks: Iterator[tuple[bytes, bytes]], root: bytes, rows: bytes, sheet: str) -> _XlsxPlan | None:
    if not first_row(rows):
        return None  # rows without numbers: read whole
    book = fastexcel.read_excel(reader.workbook(root, rows, reader.shared_strings()))
    preamble: tuple[tuple[str, ...], ...] = ()
    if options.find_header and select is not None:
        got = book.load_sheet(0, header_row=None, n_rows=_HEADER_SEARCH, dtypes="string").to_arrow()
        cols = [col.to_pylist() for col in got.columns]
        top_rows = [[("" if col[i] is None else str(col[i])) for col in cols] for i in range(got.num_rows)]
        found = next((i + 1 for i, row in enumerate(top_rows) if len(select([c.strip() for c in row])) >= 2), None)
        if found is not None:
            preamble = tuple(tuple(c.strip() for c in row) for row in top_rows[:found - 1])
            options = ReaderOptions(**{**options.__dict__, "header_row": found, "find_header": False})
    names = [c.name for c in book.load_sheet(0, header_row=options.header_row - 1, n_rows=0).available_columns()]
    raw = _spreadsheet_header(book, 0, options.header_row) if select is not None else None
    columns = _selected(path, names, select, raw)
    if columns == []:
        return None  # nothing to read: the whole-file path says so in its own words
    header, _ = _drop_notice(options, list(names), pl.DataFrame())
    if len(header) < len(names) and (columns is None or names[0] in columns):
        return None  # the notice column is read: whether it is empty is the whole file's to say
    loaded = book.load_sheet(0, header_row=options.header_row - 1, skip_rows=options.skip_rows, dtypes="string",
                             use_columns=columns)
    frame = _text_frame(pl.from_arrow(loaded.to_arrow()))
    start = first_column(rows)  # calamine's first column: the header's names count from there
    positions = [start + (names.index(c) if columns is not None else i)
                 for i, c in enumerate(columns if columns is not None else frame.columns)]
    if len(positions) != frame.width:
        return None
    # Given `skip_rows`, fastexcel counts the header row from the sheet's first row, empty or not.
    first = ReadResult(frame, options.header_row + 1 + options.skip_rows, "xlsx", sheet=sheet,
                       header=header, preamble=preamble)
    return _XlsxPlan(reader, blocks, first, positions, list(frame.columns))


def _text_frame(frame) -> pl.DataFrame:
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.all().cast(pl.String).str.strip_chars().replace("", None))


def _xlsx_sample(path: Path, plan: _XlsxPlan, limits: UploadLimits, limit: int) -> ReadResult:
    """The first `limit` rows of a large sheet (`_xlsx_plan`), as `read_table` gives them."""
    frames, height = [], 0
    pieces = _xlsx_pieces(path, plan, limits)
    for piece in pieces:
        frames.append(piece.frame)
        height += piece.frame.height
        if height >= limit:
            break
    pieces.close()  # closes the workbook
    first = plan.first
    return ReadResult(pl.concat(frames).slice(0, limit), first.first_data_row, "xlsx", sheet=first.sheet,
                      header=first.header, preamble=first.preamble)


def _xlsx_pieces(path: Path, plan: _XlsxPlan, limits: UploadLimits) -> Iterator[ReadResult]:
    """The pieces of a large XLSX sheet (`_xlsx_plan`): trailing rows with no value are held back until a row
    with a value follows (padding otherwise, as in `read_table`), the row cap counted as they come."""
    first = plan.first
    emitted, pending = 0, None
    try:
        frames = _xlsx_frames(path, plan)
        for frame in frames:
            if pending is not None:
                frame = pl.concat([pending, frame])
            refuse_too_many_rows(name=path.name, rows=emitted + frame.height, limits=limits)
            filled = _filled_height(frame)
            pending = frame.slice(filled)
            if filled:
                yield ReadResult(frame.slice(0, filled), first.first_data_row + emitted, "xlsx", sheet=first.sheet,
                                 header=first.header, preamble=first.preamble)
                emitted += filled
    finally:
        plan.reader.close()
    if not emitted:
        yield ReadResult(first.frame.clear(), first.first_data_row, "xlsx", sheet=first.sheet, header=first.header,
                         preamble=first.preamble)


def _xlsx_frames(path: Path, plan: _XlsxPlan) -> Iterator[pl.DataFrame]:
    """The first piece's frame, then one frame per further block: every row from the last one read on, in order
    (empty rows included), under the columns' names."""
    yield plan.first.frame
    covered = plan.first.first_data_row + plan.first.frame.height - 1  # the last sheet row read so far
    strings = plan.reader.strings()
    last = max(plan.columns, default=0)
    for root, rows in plan.blocks:
        if not first_row(rows):
            raise IngestError(f"{path.name}: a row of the sheet has no row number, so its place cannot be known. "
                              "Save the file again from the spreadsheet program.",
                              {"file": path.name, "reason": "bad-spreadsheet"})
        book = fastexcel.read_excel(plan.reader.workbook(root, anchor(covered, last) + mark_shared(rows)))
        loaded = book.load_sheet(0, header_row=None, dtypes="string", use_columns=plan.columns)
        frame = pl.from_arrow(loaded.to_arrow())
        assert isinstance(frame, pl.DataFrame)
        frame = frame.slice(1)  # the anchor row
        frame = unmark_shared(frame.rename(dict(zip(frame.columns, plan.names, strict=True))), strings)
        covered += frame.height
        yield _text_frame(frame)
