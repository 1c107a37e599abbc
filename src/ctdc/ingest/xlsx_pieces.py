"""A large XLSX sheet read in pieces of rows, with bounded memory (issue 14).

fastexcel (calamine) builds the whole sheet in memory before it hands over one cell: 1,000,000 rows of 21
columns took 2.8 GB, and every look at the sheet (its header, then its data) parsed all of it again. Here the
sheet's XML is inflated from the zip in blocks cut at a row end (`</row>`), and each block becomes a small
workbook of its own (stored, not compressed: nothing to deflate again) that calamine reads as it reads the whole
file: cell types, numbers as text, dates, booleans, errors, inline strings and the workbook's own styles
(`date1904` included) are converted by the same code as before, so a piece holds exactly the cells the whole
sheet holds for those rows. Only the block's rows are ever parsed or kept.

Two things calamine would need the whole file for are done once, up front:
- Shared strings: the workbook's string table is read once, by calamine, from a one-column sheet that lists every
  entry. In the blocks, a shared-string cell (`t="s"`) becomes a formula-string cell (`t="str"`) whose value is
  the entry's index behind a private-use marker, and the index is swapped for the entry afterwards.
- Positions: calamine numbers rows and columns from the first cell it sees. Every block after the first starts
  with an anchor row (the previous block's last row number, a cell in column A and one in the last column read),
  so its columns keep their sheet positions and its rows their sheet numbers; the anchor row is dropped.

A sheet this cannot read in blocks (no plain `<sheetData>`/`</row>` markup, say one written with a namespace
prefix) is read whole, as before (`PieceReader.open` returns None).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import fastexcel
import polars as pl

from ctdc.errors import IngestError
from ctdc.xlsx import column_letter

# Sheet XML inflated per block. A block of 32 MB holds about 20,000 rows of a 21-column export: big enough that
# calamine's per-workbook start-up is noise, small enough that a piece costs tens of MB.
BLOCK_BYTES = 32 << 20
_MARK = "\ue000"  # private-use character: no cell text starts with it followed by digits only
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                  f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
                  f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
                  f'<Relationship Id="rId3" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
                  '</Relationships>')
_EMPTY_STYLES = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{_MAIN_NS}"/>'
_EMPTY_SST = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{_MAIN_NS}"/>'


def column_index(letters: str) -> int:
    """0-based index of a spreadsheet column name.

    >>> column_index("A"), column_index("Z"), column_index("AA")
    (0, 25, 26)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) of `part`'s .rels."""
    p = PurePosixPath(part)
    name = str(p.parent / "_rels" / (p.name + ".rels"))
    try:
        text = archive.read(name).decode("utf-8", errors="replace")
    except KeyError:
        return {}
    out = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", text):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        target = attrs.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else str(_normalise(p.parent / target))
        out[attrs.get("Id", "")] = (attrs.get("Type", ""), resolved)
    return out


def _normalise(path: PurePosixPath) -> PurePosixPath:
    parts: list[str] = []
    for piece in path.parts:
        if piece == "..":
            parts and parts.pop()
        elif piece != ".":
            parts.append(piece)
    return PurePosixPath(*parts)


@dataclass
class PieceReader:
    """One sheet of an XLSX workbook, read in blocks of rows (see the module's docstring)."""

    archive: zipfile.ZipFile
    sheet_part: str
    workbook_pr: str  # the original <workbookPr .../> (it says whether dates count from 1904)
    styles: bytes
    strings_part: str | None
    block_bytes: int

    @classmethod
    def open(cls, path, sheet_index: int, block_bytes: int | None = None) -> PieceReader | None:
        """The reader of the `sheet_index`-th sheet (in the workbook's order, as fastexcel lists them), or None
        when the file is no XLSX this module can read in blocks."""
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            return None
        try:
            rels = _rels(archive, "")  # the package's own relationships (_rels/.rels)
            book = next((t for typ, t in rels.values() if typ.endswith("/officeDocument")), "xl/workbook.xml")
            workbook = archive.read(book).decode("utf-8", errors="replace")
            book_rels = _rels(archive, book)
            sheets = re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook)
            if sheet_index >= len(sheets):
                return None
            rid = re.search(r'\br:id="([^"]*)"|\b\w+:id="([^"]*)"', sheets[sheet_index])
            rel = book_rels.get(next(g for g in rid.groups() if g)) if rid else None
            if not rel or not rel[0].endswith("/worksheet"):
                return None
            pr = re.search(r"<(?:\w+:)?workbookPr\b[^>]*/?>", workbook)
            styles_part = next((t for typ, t in book_rels.values() if typ.endswith("/styles")), None)
            strings_part = next((t for typ, t in book_rels.values() if typ.endswith("/sharedStrings")), None)
            styles = archive.read(styles_part) if styles_part and styles_part in archive.namelist() else b""
            if strings_part not in archive.namelist():
                strings_part = None
            info = archive.getinfo(rel[1])
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
                return None  # another compression method, or encrypted: calamine says what it makes of it
        except (KeyError, zipfile.BadZipFile, OSError, StopIteration, UnicodeError):
            archive.close()
            return None
        pr_tag = pr.group(0) if pr else ""
        if pr_tag and not pr_tag.endswith("/>"):
            pr_tag = pr_tag[:-1] + "/>"
        return cls(archive, rel[1], re.sub(r"^<\w+:", "<", pr_tag), styles, strings_part,
                   block_bytes or BLOCK_BYTES)

    def close(self) -> None:
        self.archive.close()

    def sheet_size(self) -> int:
        """The sheet part's size once inflated, as its zip directory declares it."""
        return self.archive.getinfo(self.sheet_part).file_size

    def blocks(self) -> Iterator[tuple[bytes, bytes]]:
        """(root start tag, rows) for each block of whole `<row>` elements, in sheet order. Raises ValueError if
        the sheet has no plain `<sheetData>` markup (the caller reads it whole then, before any block is used)."""
        root = b""
        rest = b""
        started = False
        inflated = self._inflated()
        while True:
            data = self._take(inflated, rest)
            more = len(data) > len(rest)  # False past the end of the sheet
            if not started:
                at = re.search(rb"<sheetData\s*>|<sheetData\s*/>", data)
                if at is None:
                    if not more or len(data) > 4 * self.block_bytes:
                        raise ValueError("no <sheetData> in the sheet")
                    rest = data
                    continue
                tag = re.search(rb"<worksheet\b[^>]*>", data[:at.start()])
                if tag is None:
                    raise ValueError("no plain <worksheet> element (a namespace prefix, say)")
                root = tag.group(0)
                started = True
                if at.group(0).endswith(b"/>"):
                    return
                data = data[at.end():]
            cut = data.rfind(b"</row>")
            if not more:
                if cut >= 0:
                    yield root, data[:cut + 6]
                return
            if cut < 0:
                rest = data
                continue
            yield root, data[:cut + 6]
            rest = data[cut + 6:]

    def _take(self, inflated: Iterator[bytes], rest: bytes) -> bytes:
        """`rest` and about `block_bytes` more of the sheet's XML after it (less at its end, none past it)."""
        got: list[bytes] = [rest]
        size = 0
        for out in inflated:
            got.append(out)
            size += len(out)
            if size >= self.block_bytes:
                break
        return b"".join(got)

    def _inflated(self) -> Iterator[bytes]:
        """The sheet part's bytes, inflated in slices of at most `block_bytes`, its CRC-32 checked at the end.

        zlib straight on the part's raw bytes: `ZipFile.open().read()` costs twice as much for the same work. The
        zip limits (`limits.refuse_zip_bomb`) were checked before, on what the part really inflates to."""
        info = self.archive.getinfo(self.sheet_part)
        fp = self.archive.fp
        assert fp is not None
        fp.seek(info.header_offset)
        head = fp.read(zipfile.sizeFileHeader)
        if len(head) != zipfile.sizeFileHeader or head[:4] != zipfile.stringFileHeader:
            raise ValueError("no local header")
        fields = struct.unpack(zipfile.structFileHeader, head)
        position = info.header_offset + zipfile.sizeFileHeader + fields[zipfile._FH_FILENAME_LENGTH] + \
            fields[zipfile._FH_EXTRA_FIELD_LENGTH]
        left = info.compress_size
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
        crc = 0
        while left > 0 and not (inflater and inflater.eof):
            fp.seek(position)
            raw = fp.read(min(1 << 18, left))
            if not raw:
                break
            position += len(raw)
            left -= len(raw)
            while raw:
                out = inflater.decompress(raw, self.block_bytes) if inflater else raw
                raw = inflater.unconsumed_tail if inflater else b""
                crc = zlib.crc32(out, crc)
                yield out
        if crc != info.CRC:
            raise IngestError(f"The sheet of {Path(self.archive.filename or 'the file').name} is damaged (its "
                              "checksum does not match). Save the file again from the spreadsheet program.",
                              {"reason": "bad-spreadsheet"})

    def strings(self) -> pl.Series | None:
        """Every shared-string entry as calamine reads it (rich text joined, phonetic runs left out...), by index."""
        if not self.strings_part:
            return None
        sst = self.shared_strings()
        count = len(re.findall(rb"<(?:\w+:)?si\b", sst))
        if not count:
            return pl.Series("s", [], dtype=pl.String)
        numbers = pl.int_range(count, eager=True)
        rows = pl.select(pl.concat_str([
            pl.lit('<row r="'), (numbers + 1).cast(pl.String), pl.lit('"><c r="A'), (numbers + 1).cast(pl.String),
            pl.lit('" t="s"><v>'), numbers.cast(pl.String), pl.lit("</v></c></row>")]).alias("x")).to_series()
        sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN_NS}"><sheetData>'
                 + "".join(rows.to_list()) + "</sheetData></worksheet>").encode()
        frame = self._read(sheet, sst=sst, header_row=None)
        values = pl.from_arrow(frame.to_arrow()).to_series(0).cast(pl.String)
        assert isinstance(values, pl.Series)
        return values.extend_constant(None, max(count - values.len(), 0)).alias("s")

    def shared_strings(self) -> bytes:
        """The workbook's shared-string part as stored (empty table if it has none)."""
        return self.archive.read(self.strings_part) if self.strings_part else _EMPTY_SST.encode()

    def workbook(self, root: bytes, rows: bytes, sst: bytes | None = None) -> bytes:
        """A one-sheet workbook (stored, uncompressed) whose sheet holds `rows`, with this workbook's styles and
        `sst` as its shared strings (none by default: the blocks' shared-string cells are marked instead)."""
        book = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">{self.workbook_pr}'
                '<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>')
        return stored_zip([
            ("[Content_Types].xml", (_CONTENT_TYPES.encode(),)), ("_rels/.rels", (_RELS.encode(),)),
            ("xl/workbook.xml", (book.encode(),)), ("xl/_rels/workbook.xml.rels", (_WORKBOOK_RELS.encode(),)),
            ("xl/styles.xml", (self.styles or _EMPTY_STYLES.encode(),)),
            ("xl/sharedStrings.xml", (sst or _EMPTY_SST.encode(),)),
            ("xl/worksheets/sheet1.xml", (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', root,
                                          b"<sheetData>", rows, b"</sheetData></worksheet>")),
        ])

    def _read(self, sheet: bytes, *, sst: bytes, header_row):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
            zf.writestr("_rels/.rels", _RELS)
            zf.writestr("xl/workbook.xml", (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                '<sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>'))
            zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
            zf.writestr("xl/styles.xml", _EMPTY_STYLES)
            zf.writestr("xl/sharedStrings.xml", sst)
            zf.writestr("xl/worksheets/sheet1.xml", sheet)
        return fastexcel.read_excel(buf.getvalue()).load_sheet(0, header_row=header_row, dtypes="string")


def stored_zip(entries: list[tuple[str, tuple[bytes, ...]]]) -> bytes:
    """A zip archive of `entries` (name, the part's bytes in pieces), stored: the pieces are copied once, into the
    archive, and their CRC-32 computed as they are (`zipfile` would join them, copy them twice more and CRC them).

    >>> import io, zipfile
    >>> zipfile.ZipFile(io.BytesIO(stored_zip([("a.txt", (b"he", b"llo"))]))).read("a.txt")
    b'hello'
    """
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, pieces in entries:
        crc, size = 0, 0
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
            size += len(piece)
        encoded = name.encode()
        # Version 2.0, no flags, stored, 1980-01-01 00:00 (date 0x21).
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, size, size, len(encoded), 0)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc, size, size,
                                   len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        out += [local, encoded, *pieces]
        offset += len(local) + len(encoded) + size
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0)
    return b"".join([*out, directory, end])


_SHARED = re.compile(rb'(<c\b[^>]*?\bt=")s("[^>]*>\s*<v>)')


def mark_shared(rows: bytes) -> bytes:
    """Shared-string cells as formula-string cells holding the marked index (see the module's docstring).

    >>> mark_shared(b'<c r="A1" s="2" t="s"><v>7</v></c>').decode()
    '<c r="A1" s="2" t="str"><v>\\ue0007</v></c>'
    """
    if b't="s"' not in rows:
        return rows
    marker = _MARK.encode()
    rows = rows.replace(b't="s"><v>', b't="str"><v>' + marker)
    if b't="s"' in rows:  # attributes in another order, or spaces: the general (slower) form
        rows = _SHARED.sub(lambda m: m.group(1) + b"str" + m.group(2) + marker, rows)
    return rows


def unmark_shared(frame: pl.DataFrame, strings: pl.Series | None) -> pl.DataFrame:
    """Replace marked shared-string indices in every column by their entries."""
    if strings is None:
        return frame
    table = pl.DataFrame({"i": pl.int_range(strings.len(), eager=True, dtype=pl.UInt32), "s": strings})
    out = {}
    for name in frame.columns:
        col = frame[name]
        marked = col.str.starts_with(_MARK).fill_null(False)
        if not marked.any():
            out[name] = col
            continue
        index = pl.when(marked).then(col.str.slice(1)).cast(pl.UInt32, strict=False)
        looked = (pl.DataFrame({"i": frame.select(index.alias("i")).to_series()})
                  .join(table, on="i", how="left", maintain_order="left")["s"])
        out[name] = pl.select(pl.when(marked).then(looked).otherwise(col).alias(name)).to_series()
    return pl.DataFrame(out)


_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"[^>]*?(?<!/)>')


def first_column(rows: bytes) -> int:
    """The leftmost column (0-based) holding a cell with content in `rows`: where calamine's first column is."""
    letters = set(_CELL_REF.findall(rows))
    return min((column_index(x.decode()) for x in letters), default=0)


def last_row(rows: bytes) -> int:
    """The number of the last `<row>` in `rows` (its `r` attribute; 0 if it has none)."""
    start = rows.rfind(b"<row")
    found = re.match(rb'<row\b[^>]*?\br="(\d+)"', rows[start:]) if start >= 0 else None
    return int(found.group(1)) if found else 0


def first_row(rows: bytes) -> int:
    found = re.search(rb'<row\b[^>]*?\br="(\d+)"', rows)
    return int(found.group(1)) if found else 0


def anchor(row: int, last_column: int) -> bytes:
    """A row that pins calamine's first row to `row` and its columns to A..`last_column` (dropped once read)."""
    cells = f'<c r="A{row}" t="str"><v>a</v></c>'
    if last_column > 0:
        cells += f'<c r="{column_letter(last_column)}{row}" t="str"><v>a</v></c>'
    return f'<row r="{row}">{cells}</row>'.encode()
