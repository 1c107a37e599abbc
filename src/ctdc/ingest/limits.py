"""How much a contributor file may cost to read: bytes, rows, and what a spreadsheet's zip parts unpack to.

Every limit is checked before the costly step it guards: the file's size from the file system (the web checks it
again while the upload streams in, `ctdc.web.security.uploads`), a spreadsheet's entry count and unpacked size
before the spreadsheet reader sees it (first what its zip directory declares, then what its parts really inflate
to, counted while streaming and stopped at the limit: the directory's sizes are the sender's word, and the reader
inflates whatever the data holds), the row count while reading (for a spreadsheet one row past the cap is read,
never the rest; a CSV, whose bytes are capped, is counted once read). A refusal is
`UploadTooLarge`, whose `extra["reason"]` says which limit and `extra["limit"]` its value; its message says what to
do.

The defaults are those of the settings `CTDC_UPLOAD_MAX_MB`, `CTDC_UPLOAD_MAX_ROWS`, `CTDC_XLSX_MAX_UNPACKED_MB`
and `CTDC_XLSX_MAX_ENTRIES` (docs/settings.md), so a caller that passes none (a script, `ctdc risk`) is as safe
as the web.

>>> UploadLimits().max_rows
1000000
>>> describe_bytes(256 * MIB)
'256 MB'
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ctdc.errors import UploadTooLarge

MIB = 1 << 20
# A part unpacking to more than _BOMB_RATIO times its packed size, and to more than _BOMB_BYTES, is a zip bomb
# whatever the caps: real sheets compress 5-20 times.
_BOMB_RATIO = 200
_BOMB_BYTES = 50 * MIB
# Inflating in slices of this many bytes (in and out) keeps the count's own memory small whatever the part holds.
_CHUNK = 1 << 16


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 256 * MIB
    max_rows: int = 1_000_000
    max_unpacked_bytes: int = 2048 * MIB
    max_entries: int = 1000


def describe_bytes(n: int) -> str:
    return f"{n / MIB:.0f} MB" if n >= 10 * MIB else f"{n / MIB:.1f} MB"


def refuse_oversize(*, name: str, size: int, limits: UploadLimits) -> None:
    """Refuse a file of `size` bytes over `limits.max_bytes` (called before it is read)."""
    if size > limits.max_bytes:
        raise UploadTooLarge(
            f"{name} is {describe_bytes(size)}, more than the {describe_bytes(limits.max_bytes)} a file may be. "
            "Split it into several files (by year, say) and submit each.",
            {"file": name, "reason": "file-too-large", "size": size, "limit": limits.max_bytes})


def refuse_zip_bomb(source: Path | BinaryIO, limits: UploadLimits, *, name: str | None = None) -> None:
    """Refuse a zip container (XLSX, ODS) with too many entries, too many unpacked bytes, or a part that inflates
    like a zip bomb. `source` is a path or a seekable file; a file that is no zip passes (the spreadsheet reader
    says what it is).

    The sizes its directory declares are checked first (cheap, and nothing is inflated for a file they condemn);
    then each part is inflated in slices and its bytes counted, stopping as soon as a limit is passed, because a
    crafted archive can declare 1,000 bytes for a part that inflates to gigabytes: the reader does not stop at
    the declared size. Nothing inflated is kept."""
    try:
        with zipfile.ZipFile(source) as archive:
            parts = archive.infolist()
            name = Path(name or getattr(source, "name", None) or "The file").name
            if len(parts) > limits.max_entries:
                raise UploadTooLarge(
                    f"{name} holds {len(parts)} parts, more than the {limits.max_entries} a spreadsheet may have (a "
                    "real workbook has a few dozen). Save the data again from the spreadsheet program, or as CSV.",
                    {"file": name, "reason": "too-many-entries", "entries": len(parts), "limit": limits.max_entries})
            for part in parts:
                _refuse_bomb_part(name, part.filename, part.compress_size, part.file_size)
            _refuse_unpacked(name, sum(part.file_size for part in parts), limits)
            _count_inflated(archive.fp, parts, name, limits)
    except (zipfile.BadZipFile, OSError):
        return


def _refuse_bomb_part(name: str, part: str, packed: int, unpacked: int, *, stopped: bool = False) -> None:
    """`stopped`: counting stopped at `unpacked` bytes, the part holds more."""
    if unpacked > _BOMB_BYTES and unpacked > _BOMB_RATIO * max(packed, 1):
        raise UploadTooLarge(
            f"{name} is not a spreadsheet we can open safely: one of its parts would unpack from "
            f"{packed / MIB:.1f} MB to {'more than ' if stopped else ''}{unpacked / MIB:.0f} MB, which is what a zip bomb "
            "does. Save the data again from the spreadsheet program.",
            {"file": name, "code": "zip-bomb", "reason": "zip-bomb", "part": part,
             "unpacked_bytes": unpacked, "limit": _BOMB_RATIO})


def _refuse_unpacked(name: str, unpacked: int, limits: UploadLimits) -> None:
    if unpacked > limits.max_unpacked_bytes:
        raise UploadTooLarge(
            f"{name} would unpack to {describe_bytes(unpacked)}, more than the "
            f"{describe_bytes(limits.max_unpacked_bytes)} a spreadsheet may. Split it into several files, or save "
            "it as CSV.",
            {"file": name, "reason": "unpacked-too-large", "unpacked_bytes": unpacked,
             "limit": limits.max_unpacked_bytes})


def _count_inflated(fp: BinaryIO, parts: list[zipfile.ZipInfo], name: str, limits: UploadLimits) -> None:
    """Inflate every part as the reader would, from its local header to the end of its deflate stream, whatever
    the directory says it holds; refuse at the first byte past a limit.

    A part's packed bytes run at most to the next part's header (or the end of the file): the bomb test's bound
    uses that, so a part is refused before it has inflated more than max(50 MB, 200 x its room)."""
    fp.seek(0, 2)
    ends = sorted({p.header_offset for p in parts} | {fp.tell()})
    total = 0
    for part in parts:
        fp.seek(part.header_offset)
        head = fp.read(zipfile.sizeFileHeader)
        if len(head) != zipfile.sizeFileHeader or head[:4] != zipfile.stringFileHeader:
            continue  # the reader cannot open this part either, and says so
        fields = struct.unpack(zipfile.structFileHeader, head)
        start = part.header_offset + zipfile.sizeFileHeader + fields[zipfile._FH_FILENAME_LENGTH] + \
            fields[zipfile._FH_EXTRA_FIELD_LENGTH]
        room = max(next(e for e in ends if e > part.header_offset) - start, 0)
        if part.compress_type == zipfile.ZIP_STORED:
            total += min(part.compress_size, room)  # stored bytes are what the file holds: no more can come out
            _refuse_unpacked(name, total, limits)
        elif part.compress_type == zipfile.ZIP_DEFLATED:
            fp.seek(start)
            total = _inflate(fp, room, part.filename, name, total, limits)
        # Any other method (bzip2, LZMA) the spreadsheet reader refuses to open: nothing of it gets inflated.


def _inflate(fp: BinaryIO, room: int, part: str, name: str, total: int, limits: UploadLimits) -> int:
    """Count what one raw deflate stream of at most `room` packed bytes inflates to; return the running total."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    stop = max(_BOMB_BYTES, _BOMB_RATIO * room)  # past this the part is a bomb whatever it has consumed
    packed = unpacked = 0
    pending = b""
    while not inflater.eof:
        if not pending:
            pending = fp.read(min(_CHUNK, room - packed))
            if not pending:
                break
            packed += len(pending)
        try:
            out = inflater.decompress(pending, _CHUNK)
        except zlib.error:
            break  # damaged data: the reader says what is wrong
        pending = inflater.unconsumed_tail
        unpacked += len(out)
        total += len(out)
        if unpacked > stop:
            _refuse_bomb_part(name, part, packed, unpacked, stopped=True)
        _refuse_unpacked(name, total, limits)
    _refuse_bomb_part(name, part, packed - len(inflater.unused_data), unpacked)
    return total


def refuse_too_many_rows(*, name: str, rows: int, limits: UploadLimits) -> None:
    """Refuse a table that was read with `limits.max_rows + 1` as its row limit and came back over the cap."""
    if rows > limits.max_rows:
        raise UploadTooLarge(
            f"{name} has more than {limits.max_rows:,} rows, the most one submission may hold. Split it into "
            "several files (by year, say) and submit each.",
            {"file": name, "reason": "too-many-rows", "limit": limits.max_rows})
