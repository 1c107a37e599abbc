"""Where published release files live: Django's storage API, alias `releases` (`settings.STORAGES`).

The pure core builds a release folder on the builder's local disk (atomic rename needs one filesystem). By
default the `releases` storage *is* that folder (`FileSystemStorage` at `CTDC_RELEASES_DIR`) and nothing is
copied. Point the alias at any other backend (an S3-compatible bucket through django-storages, a shared volume)
and every build copies its finished folder there, file by file, before its `Release` row exists: readers find
release files only through that row, so they never see a half-copied release. Web processes then read releases
from the storage alone and keep nothing on their own disk.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from ctdc.errors import ReleaseError
from ctdc.release.build import verify_release
from ctdc.web.releases.models import Release

ALIAS = "releases"
# The steward part of every release report: a storage of its own, so no listing, copy or download of the release
# storage can reach it (settings.STORAGES["steward-reports"]).
STEWARD_ALIAS = "steward-reports"
STEWARD_FILES = ("steward-report.json", "steward-report.html")


def release_storage() -> Storage:
    return storages[ALIAS]


def _is_build_folder(storage: Storage) -> bool:
    """True when the storage is the local folder the core builds into (nothing to copy, read in place)."""
    return isinstance(storage, FileSystemStorage) and (
        Path(storage.location).resolve() == Path(settings.CTDC_RELEASES_DIR).resolve())


def _key(release_path: str, name: str) -> str:
    return f"{release_path}/{name}"


def release_store(*, folder: Path, release_path: str) -> None:
    """Copy a finished release folder into the release storage under `release_path` (`<dataset>/<version>`).

    Refuses to overwrite: a published release's files never change.
    """
    storage = release_storage()
    if _is_build_folder(storage):
        return
    for path in sorted(folder.iterdir()):
        key = _key(release_path, path.name)
        if storage.exists(key):
            raise ReleaseError(f"Release storage already holds {key}; release files are never rewritten.",
                               {"key": key})
        with path.open("rb") as fh:
            saved = storage.save(key, File(fh, name=path.name))
        if saved != key:  # a backend that renames instead of refusing would hide a clash
            storage.delete(saved)
            raise ReleaseError(f"Release storage stored {key} as {saved}.", {"key": key})


def release_file_open(*, release: Release, name: str) -> IO[bytes] | None:
    """One file of a release, opened for reading from the release storage, or None if it is not there."""
    if name not in {f["name"] for f in release.files}:
        return None
    storage = release_storage()
    key = _key(release.path, name)
    return storage.open(key, "rb") if storage.exists(key) else None


def release_json(*, release: Release, name: str) -> dict | None:
    """A JSON file of a release (report.json, metadata.json), or None when it is missing."""
    storage = release_storage()
    key = _key(release.path, name)
    if not storage.exists(key):
        return None
    with storage.open(key, "rb") as fh:
        return json.loads(fh.read().decode("utf-8"))


def release_problems(*, release: Release) -> list[str]:
    """Re-check a release's files as the storage holds them: checksums, data package hashes, CSV headers."""
    storage = release_storage()
    if _is_build_folder(storage):
        return verify_release(Path(settings.CTDC_RELEASES_DIR) / release.path)
    with tempfile.TemporaryDirectory(prefix="ctdc-verify-") as tmp:
        folder = Path(tmp) / "release"
        folder.mkdir()
        _, names = storage.listdir(release.path)
        for name in names:
            with storage.open(_key(release.path, name), "rb") as src, (folder / name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
        return verify_release(folder)


def steward_report_store(*, release_path: str, report: dict, html: str) -> None:
    """Save a release's steward report (JSON and HTML) under `release_path` in the steward storage.

    Refuses to overwrite the report of a recorded release: it describes one build and never changes. A report
    left by a build that never got its database row (it died after this step, or the releases folder was
    restored without it) describes nothing published and is replaced.
    """
    storage = storages[STEWARD_ALIAS]
    if Release.objects.filter(path=release_path).exists():
        raise ReleaseError(f"Release {release_path} already has a steward report; it is never rewritten.",
                           {"release": release_path})
    contents = {"steward-report.json": json.dumps(report, indent=2, default=str) + "\n", "steward-report.html": html}
    for name, text in contents.items():
        key = _key(release_path, name)
        if storage.exists(key):
            storage.delete(key)
        saved = storage.save(key, ContentFile(text.encode("utf-8"), name=name))
        if saved != key:
            storage.delete(saved)
            raise ReleaseError(f"Steward storage stored {key} as {saved}.", {"key": key})


def steward_report_read(*, release: Release, name: str = "steward-report.json") -> bytes | None:
    """One file of a release's steward report, or None (e.g. a release built before steward reports existed).

    Callers check that the user is a steward first (`ctdc.web.releases.views.steward_report`).
    """
    if name not in STEWARD_FILES:
        return None
    storage = storages[STEWARD_ALIAS]
    key = _key(release.path, name)
    if not storage.exists(key):
        return None
    with storage.open(key, "rb") as fh:
        return fh.read()


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream whose bytes the zip generator hands on as they come (zipfile writes data
    descriptors when it cannot seek back, so nothing is held but the current chunk)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._chunks.append(bytes(b))
        return len(b)

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


# Already compressed: stored as they are (deflating them again costs time and gains nothing).
_STORED = (".xlsx", ".parquet", ".zip")


def release_zip_name(release: Release) -> str:
    return f"ctdc-{release.dataset}-{release.version}.zip"


def release_zip_stream(*, release: Release, names: list[str]) -> Iterator[bytes]:
    """The release's files as one zip, streamed: a folder `ctdc-<dataset>-<version>/` holding each file under the
    name `datapackage.json` gives it, so the unpacked folder validates as a Data Package.

    Made on request from the release storage (web processes keep nothing on disk); entries carry the release's
    creation time, so the same release always gives the same bytes.
    """
    folder = release_zip_name(release).removesuffix(".zip")
    stamp = release.created_at.timetuple()[:6]
    sizes = {f["name"]: f.get("bytes", 0) for f in release.files}
    sink = _Sink()
    with zipfile.ZipFile(sink, "w") as zf:
        for name in names:
            fh = release_file_open(release=release, name=name)
            if fh is None:
                continue
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(_STORED) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o444 << 16  # read-only, as in the release folder
            info.file_size = sizes.get(name, 0)  # lets zipfile choose ZIP64 for a file over 2 GiB
            with fh, zf.open(info, "w") as out:
                while chunk := fh.read(1 << 20):
                    out.write(chunk)
                    yield sink.drain()
        yield sink.drain()
    yield sink.drain()
