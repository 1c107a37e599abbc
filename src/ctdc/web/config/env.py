"""The only place that reads the environment. Every setting is declared once, with its default and help text.

`docs/settings.md` lists them; tests/web/test_docs.py fails if one is missing there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", None, "Database to use, e.g. postgres://user@127.0.0.1:5432/ctdc. "
            "Default: a SQLite file `ctdc.sqlite3` in CTDC_DATA_DIR."),
    Setting("CTDC_DATA_DIR", "var", "Folder for the SQLite file, uploads, releases and generated secrets."),
    Setting("SECRET_KEY", None, "Django's secret key. When unset (and SECRET_KEY_FILE too), one is generated into "
            "CTDC_DATA_DIR/secret_key on first run and reused; production refuses to start that way."),
    Setting("SECRET_KEY_FILE", None, "A file holding SECRET_KEY (e.g. a mounted secret), outside CTDC_DATA_DIR."),
    Setting("CTDC_IDENTITY_KEY", None, "Secret for the keyed hash (HMAC) of identifiers used to find the same person "
            "across organisations. When unset, generated into CTDC_DATA_DIR/identity_key. Changing it makes old "
            "hashes unmatchable."),
    Setting("CTDC_IDENTITY_KEY_FILE", None, "A file holding CTDC_IDENTITY_KEY, outside CTDC_DATA_DIR."),
    Setting("DEBUG", "false", "Django debug mode. Never on in production."),
    Setting("CTDC_ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated host names the site answers to."),
    Setting("CTDC_SUPPRESSION_K", "11", "Published counts below this threshold are suppressed (CTDC uses 11)."),
    Setting("CTDC_UPLOAD_KEY", None, "Secret from which the key encrypting raw uploads at rest (AES-256-GCM) is "
            "derived. When unset, generated into CTDC_DATA_DIR/upload_key. Keep it outside the upload storage; "
            "losing it makes stored raw files unreadable (they can no longer be re-processed)."),
    Setting("CTDC_UPLOAD_KEY_FILE", None, "A file holding CTDC_UPLOAD_KEY, outside CTDC_DATA_DIR."),
    Setting("CTDC_DEMO", "false", "A demo or development install: secrets may be generated into CTDC_DATA_DIR and "
            "the HTTPS protections default to off. `make demo` sets it; never set it in production."),
    Setting("CTDC_SSL_REDIRECT", None, "Redirect plain HTTP to HTTPS. Default: on in production (DEBUG and "
            "CTDC_DEMO off), off otherwise. Turn off only when a trusted proxy in front already redirects."),
    Setting("CTDC_HSTS_SECONDS", None, "Strict-Transport-Security max-age. Default: 31536000 (one year) in "
            "production, 0 (no header) otherwise."),
    Setting("CTDC_HSTS_PRELOAD", None, "Add `preload` (and `includeSubDomains`) to the Strict-Transport-Security "
            "header, which lets the domain be submitted to the browsers' HTTPS-only list. Default: on in production "
            "with HSTS; turn off when other sites under the same domain still serve plain HTTP."),
    Setting("CTDC_SECURE_COOKIES", None, "Send the session and CSRF cookies over HTTPS only. Default: on in "
            "production, off otherwise."),
    Setting("CTDC_TRUSTED_PROXY", "false", "The site runs behind a reverse proxy that terminates HTTPS and sets "
            "X-Forwarded-Proto: trust that header to know a request came over HTTPS. Only behind such a proxy: "
            "a client reaching the server directly could forge it."),
    Setting("CTDC_UPLOAD_MAX_MB", "256", "Largest contributor file accepted, in MiB (web page, API and CLI). The "
            "web refuses a larger request from its Content-Length before reading it, and stops reading an upload "
            "as soon as it passes the limit."),
    Setting("CTDC_UPLOAD_MAX_ROWS", "1000000", "Most rows one submission may hold; a file with more is refused "
            "(split it into several submissions)."),
    Setting("CTDC_XLSX_MAX_UNPACKED_MB", "2048", "Largest total size, in MiB, the parts of an XLSX/ODS file may "
            "unpack to, checked before anything is parsed: the sizes the zip directory declares, then the bytes its parts "
            "really inflate to, counted and stopped at the limit (zip bombs)."),
    Setting("CTDC_XLSX_MAX_ENTRIES", "1000", "Most entries (parts) an XLSX/ODS file may hold, read from the zip "
            "directory before anything is parsed. A real workbook has a few dozen."),
    Setting("CTDC_LOGIN_FAILURE_LIMIT", "5", "Failed sign-ins in a row after which an account is locked (django-axes, "
            "kept in the database), whatever the address they come from."),
    Setting("CTDC_LOGIN_LOCKOUT_MINUTES", "15", "Minutes a locked account stays locked; `ctdc manage "
            "axes_reset_username NAME` unlocks it earlier."),
    Setting("CTDC_REQUIRE_2FA", None, "Stewards and administrators must give a one-time code from an "
            "authenticator app (TOTP) after their password before any steward or administrator page. Default: on in "
            "production (DEBUG and CTDC_DEMO off), off otherwise."),
    Setting("CTDC_REQUIRE_AGREEMENT", None, "Refuse every file (web page, API and CLI) from an organisation "
            "until an administrator has recorded its data-sharing agreement (/accounts/agreements/ or `ctdc org "
            "agreement`). Default: on in production (DEBUG and CTDC_DEMO off), off otherwise."),
    Setting("CTDC_API_TOKEN_DAYS", "90", "Days a new API token lasts unless its creator chooses otherwise (1 to 366)."),
    Setting("CTDC_LOGIN_RATE_PER_MINUTE", "20", "Sign-in attempts (POSTs to the sign-in pages) one client address "
            "may make per minute; 0 turns the limit off."),
    Setting("CTDC_API_RATE_PER_MINUTE", "300", "Requests to /api/ one client address may make per minute; 0 turns "
            "the limit off."),
    Setting("CTDC_DP_EPSILON_BUDGET", "20", "Total epsilon that differentially private releases of one dataset may "
            "spend, summed over all releases (privacy unit: one victim). A release that would exceed it is refused."),
    Setting("CTDC_DP_DELTA_BUDGET", "1e-3", "Total delta that differentially private releases of one dataset may "
            "spend, summed over all releases."),
    Setting("CTDC_PLAINTEXT_DIR", None, "Folder where the worker decrypts an upload while it reads it. Default: "
            "/dev/shm when it is a memory file system (tmpfs), so no plaintext copy of a contributor's file is "
            "ever written to disk; elsewhere the system's temporary folder, which production reports (ctdc.W002)."),
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


def get_bool_or(name: str, fallback: bool) -> bool:
    """The setting as a boolean when it is set, else `fallback` (a default that depends on other settings)."""
    value = os.environ.get(name)
    return fallback if value is None or not value.strip() else get_bool(name)


@dataclass(frozen=True)
class SecretSource:
    """Where a secret came from: `env` (the variable itself), `file` (`<NAME>_FILE`) or `generated` (a file ctdc
    wrote into CTDC_DATA_DIR). The production check (`ctdc.web.security.checks`) refuses `generated` and any file
    inside CTDC_DATA_DIR: a backup of that folder would carry the keys along with what they protect."""

    name: str
    kind: str
    path: Path | None = None

    def inside_data_dir(self) -> bool:
        return self.kind == "generated" or (self.path is not None and self.path.resolve().is_relative_to(data_dir()))


def secret(name: str, filename: str) -> tuple[str, SecretSource]:
    """The environment's value, else the file `<name>_FILE` names, else a secret kept in CTDC_DATA_DIR/<filename>
    (created 0600 on first use, so a demo runs with no set-up)."""
    value = os.environ.get(name)
    if value:
        return value, SecretSource(name, "env")
    file = os.environ.get(f"{name}_FILE")
    if file:
        path = Path(file).expanduser()
        try:
            return path.read_text().strip(), SecretSource(name, "file", path)
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE names {path}, which cannot be read ({exc.strerror}).") from None
    path = data_dir() / filename
    if path.exists():
        return path.read_text().strip(), SecretSource(name, "generated", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value, SecretSource(name, "generated", path)
