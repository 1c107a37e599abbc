"""Raw uploads, kept only encrypted at rest, through Django's storage API.

A contributor's file names victims, so its bytes never reach storage in clear. It is kept (for re-processing after
a mapping change) until `ctdc purge` deletes it after `CTDC_RAW_RETENTION_DAYS`.

File format (`submissions/<id>/raw.enc`), written in chunks so a large upload never sits in memory whole:

    b"CTDCRAW1"                               magic and format version
    then, per chunk of at most 1 MiB of plaintext:
      nonce (12 bytes) | length of ciphertext (4 bytes, big-endian) | AES-256-GCM ciphertext with its 16-byte tag

Each chunk's associated data is the storage name, the chunk number and a last-chunk flag, so chunks cannot be
reordered, moved to another submission or cut off without decryption failing. The 256-bit key is derived with
HKDF-SHA256 from the `CTDC_UPLOAD_KEY` setting.

Reading decrypts into a private folder of `plaintext_dir()`: a memory file system (/dev/shm, or
CTDC_PLAINTEXT_DIR), so the readers get a path while no plaintext copy reaches a disk; the folder is deleted as
soon as the file is read. Uploads arriving over the web are sealed before they touch a disk too
(`ctdc.web.security.sealed_uploads`).
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

from ctdc.errors import IngestError

MAGIC = b"CTDCRAW1"
CHUNK = 1 << 20
_HEADER = struct.Struct(">12sI")


def _key() -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ctdc raw uploads v1").derive(
        settings.CTDC_UPLOAD_KEY.encode())


def _aad(name: str, index: int, last: bool) -> bytes:
    return f"{name}\x00{index}\x00{int(last)}".encode()


def _encrypt_stream(source: BinaryIO, sink: BinaryIO, name: str) -> None:
    aes = AESGCM(_key())
    sink.write(MAGIC)
    index, chunk = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        nonce = os.urandom(12)
        sealed = aes.encrypt(nonce, chunk, _aad(name, index, last))
        sink.write(_HEADER.pack(nonce, len(sealed)))
        sink.write(sealed)
        if last:
            return
        index, chunk = index + 1, following


def _decrypt_stream(source: BinaryIO, sink: BinaryIO, name: str) -> None:
    aes = AESGCM(_key())
    if source.read(len(MAGIC)) != MAGIC:
        raise IngestError(f"{name} is not an encrypted raw upload.", {"path": name})
    index, header = 0, source.read(_HEADER.size)
    while header:
        nonce, size = _HEADER.unpack(header)
        sealed = source.read(size)
        header = source.read(_HEADER.size)
        try:
            sink.write(aes.decrypt(nonce, sealed, _aad(name, index, not header)))
        except InvalidTag:
            raise IngestError(f"The raw upload {name} cannot be decrypted: wrong CTDC_UPLOAD_KEY or a damaged "
                              "file.", {"path": name}) from None
        index += 1


def raw_save(*, name: str, source: BinaryIO) -> str:
    """Encrypt `source` into storage under `name`; returns the stored name."""
    with tempfile.TemporaryFile() as sealed:
        _encrypt_stream(source, sealed, name)
        sealed.seek(0)
        if default_storage.exists(name):
            default_storage.delete(name)
        stored = default_storage.save(name, File(sealed, name=name))
    if stored != name:  # the AAD binds the name; a renamed file would never decrypt
        default_storage.delete(stored)
        raise IngestError(f"Storage renamed {name} to {stored}; refusing to keep it.", {"path": name})
    return stored


MEMORY_FILE_SYSTEMS = {"tmpfs", "ramfs"}


def memory_backed(path: Path) -> bool:
    """Whether `path` is on a file system kept in memory (its mount point in /proc/mounts is tmpfs or ramfs)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    target, best, kind = path.resolve(), None, ""
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = Path(parts[1].replace("\\040", " "))
        if (target == point or point in target.parents) and (best is None or len(point.parts) > len(best.parts)):
            best, kind = point, parts[2]
    return kind in MEMORY_FILE_SYSTEMS


def plaintext_dir() -> tuple[Path, bool]:
    """(the folder uploads are decrypted into while they are read, whether it is kept in memory)."""
    if settings.CTDC_PLAINTEXT_DIR:
        folder = Path(settings.CTDC_PLAINTEXT_DIR)
        return folder, memory_backed(folder)
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and memory_backed(shm):
        return shm, True
    folder = Path(tempfile.gettempdir())
    return folder, memory_backed(folder)


@contextmanager
def raw_open(*, name: str, filename: str = "upload") -> Iterator[Path]:
    """The decrypted upload as a temporary file named `filename` (so readers see its extension and messages name
    the contributor's file), in a private folder deleted on exit."""
    if not name or not default_storage.exists(name):
        raise IngestError("The raw upload is no longer kept (purged after the retention period); upload the file "
                          "again.", {"path": name})
    root, _ = plaintext_dir()
    needed = default_storage.size(name)  # the ciphertext: a little more than the plaintext
    free = shutil.disk_usage(root).free
    if needed > free:
        raise IngestError(f"There is not room to read this file: it needs about {needed // 2**20 + 1} MB in "
                          f"{root}, which has {free // 2**20} MB free. Ask the administrator to give that folder more "
                          "room or to point CTDC_PLAINTEXT_DIR at a larger memory file system (docs/settings.md).",
                          {"path": name, "needed": needed, "free": free})
    with tempfile.TemporaryDirectory(prefix="ctdc-raw-", dir=root) as folder:
        path = Path(folder) / (get_valid_filename(Path(filename).name) or "upload")
        with default_storage.open(name, "rb") as source, path.open("wb") as sink:
            _decrypt_stream(source, sink, name)
        yield path
