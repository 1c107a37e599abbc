"""Backup and restore of a whole ctdc installation: the database, the uploads and the release store.

A backup is a folder:

    manifest.json        format, ctdc version, database vendor, migration state, row counts, and the sha256 and
                         size of every other file (restore checks them before touching anything)
    database.jsonl.gz    every table, through Django's own `dumpdata` (JSON lines, times to the microsecond:
                         exact_jsonl.py), so a backup taken on SQLite restores into PostgreSQL and back. Read
                         inside one transaction: a consistent snapshot (REPEATABLE READ on PostgreSQL; on SQLite the transaction holds the write lock)
    uploads.tar          the default storage (encrypted raw uploads, staged de-identified records)
    releases.tar         the release storage (every release folder, with its CHECKSUMS.sha256)
    secrets.json         only with `include_secrets`: SECRET_KEY, CTDC_IDENTITY_KEY, CTDC_UPLOAD_KEY

The secrets are left out by default because whoever holds both the archive and the upload key can read the raw
uploads (names of victims): keep the keys elsewhere. Without CTDC_UPLOAD_KEY a restored installation keeps its
records and releases but cannot re-process raw uploads; without CTDC_IDENTITY_KEY new records no longer match
the identity hashes of old ones.

Content types, permissions and sessions are not dumped: `migrate` recreates the first two, and a restore signs
everyone out. Restore refuses a database or storage that already holds data, and a backup made at another
migration state (restore with the ctdc version that made it, then upgrade).
"""

from __future__ import annotations

import gzip
import json
import os
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage, storages
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from ctdc import __version__
from ctdc.checksums import sha256_file
from ctdc.errors import BackupError

FORMAT = "ctdc-backup 1"
MANIFEST = "manifest.json"
DATABASE = "database.jsonl.gz"
SECRETS = "secrets.json"
DUMP_FORMAT = "exact-jsonl"  # settings.SERIALIZATION_MODULES; read back by Django's own jsonl parser
# Storage alias -> archive name.
STORES = {"default": "uploads.tar", "releases": "releases.tar"}
# Recreated by `migrate` (content types, permissions) or not worth keeping (sessions).
EXCLUDED = ["contenttypes", "auth.permission", "sessions"]
SECRET_SETTINGS = {"SECRET_KEY": "secret_key", "CTDC_IDENTITY_KEY": "identity_key", "CTDC_UPLOAD_KEY": "upload_key"}


def _storage(alias: str) -> Storage:
    return default_storage if alias == "default" else storages[alias]


def _walk(storage: Storage, folder: str = "") -> list[str]:
    """Every file name in `storage` under `folder`, sorted. Dot-names are skipped: a release build's temporary
    folder (`.tmp-…`) is not part of any release."""
    try:
        dirs, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{f}" if folder else f for f in files if not f.startswith(".")]
    for d in dirs:
        if not d.startswith("."):
            names += _walk(storage, f"{folder}/{d}" if folder else d)
    return sorted(names)


def _tar_storage(storage: Storage, target: Path) -> int:
    """Write every file of `storage` into the tar file `target`; returns how many."""
    names = _walk(storage)
    with tarfile.open(target, "w") as tar:
        for name in names:
            with storage.open(name, "rb") as fh:
                info = tarfile.TarInfo(name)
                info.size = storage.size(name)
                info.mode = 0o644
                tar.addfile(info, fh)
    return len(names)


def _model_counts() -> dict[str, int]:
    excluded_apps = {e for e in EXCLUDED if "." not in e}
    excluded_models = {e for e in EXCLUDED if "." in e}
    counts = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label in excluded_apps or label in excluded_models or not model._meta.managed:
            continue
        counts[label] = model._default_manager.count()
    return dict(sorted(counts.items()))


def _migration_state() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def backup_create(*, folder: Path, include_secrets: bool = False) -> dict:
    """Write a backup of this installation into `folder` (created; must be empty). Returns the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; give a new folder for the backup.", {"folder": str(folder)})
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one snapshot for every table, whatever commits meanwhile
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        call_command("dumpdata", exclude=EXCLUDED, natural_foreign=True, format=DUMP_FORMAT,
                     output=str(folder / DATABASE), verbosity=0)
        counts = _model_counts()
        migrations = _migration_state()
        stored = {archive: _tar_storage(_storage(alias), folder / archive) for alias, archive in STORES.items()}
    if include_secrets:
        fd = os.open(folder / SECRETS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({name: getattr(settings, name) for name in SECRET_SETTINGS}, fh, indent=2)
    files = {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size}
             for p in sorted(folder.iterdir()) if p.name != MANIFEST}
    manifest = {
        "format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"), "ctdc_version": __version__,
        "database": connection.vendor, "migrations": migrations, "counts": counts, "stored_files": stored,
        "secrets_included": include_secrets, "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def backup_read(*, folder: Path) -> dict:
    """The manifest of the backup in `folder`, after checking every file against it."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} holds no readable backup manifest ({type(exc).__name__}).",
                          {"folder": str(folder)}) from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: unknown backup format {manifest.get('format')!r} (expected {FORMAT!r}).")
    for name, meta in manifest["files"].items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != meta["sha256"]:
            raise BackupError(f"{folder}: {name} is missing or does not match its checksum; the backup is damaged.",
                              {"file": name})
    return manifest


def _refuse_unless_empty() -> None:
    held = {label: n for label, n in _model_counts().items() if n}
    # `migrate` and `ctdc init` create nothing in these tables; anything there is someone's data.
    if held:
        raise BackupError("The database already holds data (" + ", ".join(f"{k} {v}" for k, v in held.items())
                          + "); restore only into an empty database.", {"counts": held})
    for alias in STORES:
        if _walk(_storage(alias)):
            raise BackupError(f"The '{alias}' storage already holds files; restore only into an empty data folder.",
                              {"storage": alias})


def _untar_storage(archive: Path, storage: Storage) -> int:
    count = 0
    with tarfile.open(archive, "r") as tar:
        for member in tar:
            name = member.name
            if not member.isfile() or name.startswith("/") or ".." in Path(name).parts:
                raise BackupError(f"{archive.name}: unexpected entry {name!r}; the backup is not one of ours.")
            fh = tar.extractfile(member)
            assert fh is not None
            saved = storage.save(name, File(fh, name=Path(name).name))
            if saved != name:
                raise BackupError(f"Storage stored {name} as {saved}; restore only into an empty data folder.")
            count += 1
    return count


def backup_restore(*, folder: Path) -> dict:
    """Restore the backup in `folder` into this installation's (empty) database and storages.

    Returns what was restored: row counts per table (checked against the manifest) and files per storage.
    """
    folder = Path(folder)
    manifest = backup_read(folder=folder)
    call_command("migrate", interactive=False, verbosity=0)
    here = _migration_state()
    theirs = {app: names for app, names in manifest["migrations"].items() if app in here}
    if theirs != {app: names for app, names in here.items() if app in theirs}:
        raise BackupError("The backup was made at another database schema (migrations) than this version of ctdc "
                          f"({manifest['ctdc_version']} vs {__version__}). Restore with the version that made it, "
                          "then upgrade.", {"backup": manifest["ctdc_version"], "here": __version__})
    _refuse_unless_empty()
    # loaddata picks the format from the name; it wants a plain file it can reopen.
    with tempfile.TemporaryDirectory(prefix="ctdc-restore-") as tmp:
        dump = Path(tmp) / f"database.{DUMP_FORMAT}"
        with gzip.open(folder / DATABASE, "rb") as src, dump.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        if dump.stat().st_size:  # loaddata warns about an empty file (a backup of an empty installation)
            call_command("loaddata", str(dump), verbosity=0)
    stored = {archive: _untar_storage(folder / archive, _storage(alias)) for alias, archive in STORES.items()}
    counts = _model_counts()
    if counts != manifest["counts"]:
        differ = {k: (manifest["counts"].get(k), counts.get(k)) for k in set(counts) | set(manifest["counts"])
                  if counts.get(k) != manifest["counts"].get(k)}
        raise BackupError(f"Restored row counts differ from the backup's: {differ}.", {"counts": differ})
    if stored != manifest["stored_files"]:
        raise BackupError(f"Restored files differ from the backup's: {stored} vs {manifest['stored_files']}.")
    secrets_written = []
    if manifest["secrets_included"]:
        secrets_written = _restore_secrets(json.loads((folder / SECRETS).read_text()))
    return {"counts": counts, "stored_files": stored, "secrets_written": secrets_written,
            "backup_created": manifest["created"]}


def _restore_secrets(secrets: dict[str, str]) -> list[str]:
    """Write the backup's keys into the data folder, where the settings read them on the next start.

    A key set in the environment wins over the file; a different one there is an error, not a silent mismatch."""
    written = []
    for name, filename in SECRET_SETTINGS.items():
        env_value = os.environ.get(name)
        if env_value:
            if env_value != secrets[name]:
                raise BackupError(f"{name} is set in the environment to another value than the backup's; unset it "
                                  "or set it to the backed-up value.", {"setting": name})
            continue
        path = Path(settings.DATA_DIR) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets[name])
        written.append(filename)
    return written
