"""Uploads too large for memory are encrypted as they stream in: no plaintext copy of a contributor's file on disk.

Django's TemporaryFileUploadHandler writes every upload over FILE_UPLOAD_MAX_MEMORY_SIZE (5 MB) in clear to the
system's temporary folder, where it lies until the request ends (and for ever if the process is killed). The files
name victims. `SealedUploadHandler` takes its place: each chunk is encrypted with AES-256-CTR under a key made for
this one upload and held only in the process's memory, and written to an unnamed temporary file. What the view
gets (`SealedUploadedFile`) reads, seeks and chunks like any uploaded file, decrypting as it is read, so the
size and zip-bomb checks and `raw_save` (which seals it again, under the upload key, into storage) work unchanged.

CTR, not an authenticated mode: the ciphertext never leaves this process and lives only as long as the request,
so there is nobody to tamper with it; what is needed is that the bytes at rest say nothing, and that any offset can
be read directly (zip files are read from their end). Authentication is `rawstore`'s job, for the stored copy.
"""

from __future__ import annotations

import io
import os
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

BLOCK = 16  # AES block: the counter advances once per 16 bytes


class SealedTemporaryFile(io.RawIOBase):
    """A seekable file whose bytes at rest are AES-CTR ciphertext under a key that exists only in this object;
    reads, writes and seeks see the plaintext."""

    def __init__(self) -> None:
        super().__init__()
        self._key = os.urandom(32)
        self._counter = int.from_bytes(os.urandom(BLOCK), "big")
        self._sealed = tempfile.TemporaryFile(prefix="ctdc-upload-")  # noqa: SIM115 (closed by close())
        self._size = 0
        self._pos = 0

    def _cipher_at(self, offset: int):
        """An AES-CTR context positioned at byte `offset` of the stream (block start, then the bytes skipped)."""
        counter = (self._counter + offset // BLOCK) % (1 << 128)
        ctx = Cipher(algorithms.AES(self._key), modes.CTR(counter.to_bytes(BLOCK, "big"))).encryptor()
        ctx.update(bytes(offset % BLOCK))
        return ctx

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        # CTR's keystream depends on the position only, so a write anywhere is sealed in place.
        data = bytes(data)
        self._sealed.seek(self._pos)
        self._sealed.write(self._cipher_at(self._pos).update(data))
        self._pos += len(data)
        self._size = max(self._size, self._pos)
        return len(data)

    def readinto(self, buffer) -> int:
        n = min(len(buffer), max(self._size - self._pos, 0))
        if n <= 0:
            return 0
        self._sealed.seek(self._pos)
        plain = self._cipher_at(self._pos).update(self._sealed.read(n))
        buffer[:len(plain)] = plain
        self._pos += len(plain)
        return len(plain)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._sealed.close()
            self._key = b""
        super().close()


class SealedUploadedFile(UploadedFile):
    """An uploaded file kept encrypted on disk (see the module docstring); it has no temporary_file_path()."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None) -> None:
        super().__init__(io.BufferedRandom(SealedTemporaryFile(), buffer_size=1 << 20), name, content_type, size,
                         charset, content_type_extra)


class SealedUploadHandler(FileUploadHandler):
    """In FILE_UPLOAD_HANDLERS after the memory handler, in place of Django's TemporaryFileUploadHandler."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.file = SealedUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> SealedUploadedFile:
        self.file.flush()
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()
