"""The only place that reads the environment. Every setting is declared once, with its default and help text.

`docs/settings.md` lists them; tests/web/test_docs.py fails if one is missing there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", None, "Database to use, e.g. postgres://user@127.0.0.1:5432/ctdc. "
            "Default: a SQLite file `ctdc.sqlite3` in CTDC_DATA_DIR."),
    Setting("CTDC_DATA_DIR", "var", "Folder for the SQLite file, uploads, releases and generated secrets."),
    Setting("SECRET_KEY", None, "Django's secret key. When unset, one is generated into CTDC_DATA_DIR/secret_key "
            "on first run and reused."),
    Setting("CTDC_IDENTITY_KEY", None, "Secret for the keyed hash (HMAC) of identifiers used to find the same person "
            "across organisations. When unset, generated into CTDC_DATA_DIR/identity_key. Changing it makes old "
            "hashes unmatchable."),
    Setting("DEBUG", "false", "Django debug mode. Never on in production."),
    Setting("CTDC_ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated host names the site answers to."),
    Setting("CTDC_SUPPRESSION_K", "11", "Published counts below this threshold are suppressed (CTDC uses 11)."),
    Setting("CTDC_UPLOAD_KEY", None, "Secret from which the key encrypting raw uploads at rest (AES-256-GCM) is "
            "derived. When unset, generated into CTDC_DATA_DIR/upload_key. Keep it outside the upload storage; "
            "losing it makes stored raw files unreadable (they can no longer be re-processed)."),
    Setting("CTDC_DP_EPSILON_BUDGET", "20", "Total epsilon that differentially private releases of one dataset may "
            "spend, summed over all releases (privacy unit: one victim). A release that would exceed it is refused."),
    Setting("CTDC_DP_DELTA_BUDGET", "1e-3", "Total delta that differentially private releases of one dataset may "
            "spend, summed over all releases."),
    Setting("CTDC_RAW_RETENTION_DAYS", "90", "Days a raw upload is kept (encrypted) for re-processing; "
            "`ctdc purge` deletes older raw files. Validation reports and approved records are kept."),
    Setting("CTDC_PORTAL_RELEASE_TTL", "5", "Seconds a web process keeps its answer to 'which release is the "
            "latest published one' before asking the database again (a new or withdrawn release shows within it)."),
    Setting("CTDC_CONTACT_EMAIL", "", "Address organisations write to about contributing data (shown on /contribute/)."),
    Setting("CTDC_USAGE_FLUSH_SECONDS", "10", "Seconds between two writes of a web process's usage counts (page "
            "views, downloads, API calls per day) to the database; a process that dies loses at most that many."),
    Setting("CTDC_INVITATION_DAYS", "7", "Days an invitation link for a new contributor stays usable."),
    Setting("CTDC_WORKER_HEARTBEAT_SECONDS", "10", "How often a task worker records in the database that it is "
            "alive."),
    Setting("CTDC_WORKER_STALE_SECONDS", "60", "Pages that wait on the task queue say no worker is running when "
            "none has been seen for this long."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str | None:
    return os.environ.get(name, _BY_NAME[name].default)


def get_bool(name: str) -> bool:
    return (get(name) or "").strip().lower() in {"1", "true", "yes", "on"}


def data_dir() -> Path:
    path = Path(get("CTDC_DATA_DIR") or "var").expanduser().resolve()
    return path


def generated_secret(name: str, filename: str) -> str:
    """The environment's value, else a secret kept in CTDC_DATA_DIR/<filename> (created 0600 on first use)."""
    value = os.environ.get(name)
    if value:
        return value
    path = data_dir() / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value
