"""Django settings for ctdc. Values from the environment come only through `ctdc.web.config.env`."""

from __future__ import annotations

import dj_database_url
from csp.constants import NONE, SELF

from ctdc.web.config import env

DATA_DIR = env.data_dir()
DEBUG = env.get_bool("DEBUG")
SECRET_KEY = env.generated_secret("SECRET_KEY", "secret_key")
CTDC_IDENTITY_KEY = env.generated_secret("CTDC_IDENTITY_KEY", "identity_key")
CTDC_SUPPRESSION_K = int(env.get("CTDC_SUPPRESSION_K") or 11)
CTDC_UPLOAD_KEY = env.generated_secret("CTDC_UPLOAD_KEY", "upload_key")
CTDC_DP_EPSILON_BUDGET = float(env.get("CTDC_DP_EPSILON_BUDGET") or 20)
CTDC_DP_DELTA_BUDGET = float(env.get("CTDC_DP_DELTA_BUDGET") or 1e-3)
CTDC_RAW_RETENTION_DAYS = int(env.get("CTDC_RAW_RETENTION_DAYS") or 90)
CTDC_RELEASES_DIR = DATA_DIR / "releases"
# The portal looks up the latest published release again after this many seconds (per web process).
CTDC_PORTAL_RELEASE_TTL = float(env.get("CTDC_PORTAL_RELEASE_TTL") or 5)
# Each web process writes its usage counts to the database at most this often.
CTDC_USAGE_FLUSH_SECONDS = float(env.get("CTDC_USAGE_FLUSH_SECONDS") or 10)
CTDC_WORKER_HEARTBEAT_SECONDS = float(env.get("CTDC_WORKER_HEARTBEAT_SECONDS") or 10)
CTDC_CONTACT_EMAIL = env.get("CTDC_CONTACT_EMAIL") or ""
CTDC_INVITATION_DAYS = int(env.get("CTDC_INVITATION_DAYS") or 7)
CTDC_WORKER_STALE_SECONDS = float(env.get("CTDC_WORKER_STALE_SECONDS") or 60)
ALLOWED_HOSTS = [h.strip() for h in (env.get("CTDC_ALLOWED_HOSTS") or "").split(",") if h.strip()]
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # ninja serves its Swagger assets itself only when listed here; otherwise its docs page uses a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "ctdc.web.accounts",
    "ctdc.web.submissions",
    "ctdc.web.cases",
    "ctdc.web.releases",
    "ctdc.web.portal",
    "ctdc.web.codebook",
    "ctdc.web.worker",
    "ctdc.web.contribute",
    "ctdc.web.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The portal's language: the `django_language` cookie set by /language/<code>/, else the browser's
    # Accept-Language (docs/portal.md). No URL prefix, so shared links stay the same in every language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ctdc.web.config.middleware.RefuseNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Page views, downloads and API calls per day; nothing about the reader (docs/portal.md).
    "ctdc.web.portal.usage.UsageMiddleware",
]

ROOT_URLCONF = "ctdc.web.config.urls"
WSGI_APPLICATION = "ctdc.web.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ctdc.web.submissions.context_processors.intake",
                "ctdc.web.worker.context_processors.worker",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'ctdc.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the portal read while an ingest writes; the busy timeout waits instead of failing at once.
    # IMMEDIATE transactions take the write lock when they begin, where the busy timeout applies: a deferred one
    # that reads, then writes, gets "database is locked" at once if another connection wrote meanwhile (SQLite
    # cannot wait there without risking a deadlock).
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 30,
                                       "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
FORMAT_MODULE_PATH = ["ctdc.web.config.formats"]  # only what differs from Django's locale formats
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "uploads"
STORAGES = {
    # Uploads and release files go through the storage API, so an S3-compatible backend is a settings change.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}},
    # Published release files (ctdc.web.releases.store). At CTDC_RELEASES_DIR the build folders are read in
    # place; any other backend gets a copy of every finished release before its database row is written.
    "releases": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                 "OPTIONS": {"location": CTDC_RELEASES_DIR}},
    # Steward reports of releases (everything computed on the input): outside the releases storage, never
    # served publicly; read only by the steward views (ctdc.web.releases.store.steward_report_*).
    "steward-reports": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": DATA_DIR / "steward-reports"}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "intake_home"
# No mail server by default: mails (invitation links) are printed on the server's console output.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "ctdc <noreply@localhost>"
LOGOUT_REDIRECT_URL = "home"
