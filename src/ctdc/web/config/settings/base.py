"""Django settings for ctdc. Values from the environment come only through `ctdc.web.config.env`."""

from __future__ import annotations

from datetime import timedelta

import dj_database_url
from csp.constants import NONE, SELF

from ctdc.ingest.limits import MIB, UploadLimits
from ctdc.web.config import env

DATA_DIR = env.data_dir()
DEBUG = env.get_bool("DEBUG")
# A demo or development install (`make demo`): generated keys and plain HTTP are fine there, never in production.
CTDC_DEMO = env.get_bool("CTDC_DEMO")
PRODUCTION = not DEBUG and not CTDC_DEMO
SECRET_KEY, _secret_key_source = env.secret("SECRET_KEY", "secret_key")
CTDC_IDENTITY_KEY, _identity_key_source = env.secret("CTDC_IDENTITY_KEY", "identity_key")
CTDC_UPLOAD_KEY, _upload_key_source = env.secret("CTDC_UPLOAD_KEY", "upload_key")
# Where each key came from; ctdc.web.security.checks refuses a production start with one in CTDC_DATA_DIR.
CTDC_SECRET_SOURCES = (_secret_key_source, _identity_key_source, _upload_key_source)
CTDC_SUPPRESSION_K = int(env.get("CTDC_SUPPRESSION_K") or 11)
CTDC_UPLOAD_LIMITS = UploadLimits(
    max_bytes=int(float(env.get("CTDC_UPLOAD_MAX_MB") or 256) * MIB),
    max_rows=int(env.get("CTDC_UPLOAD_MAX_ROWS") or 1_000_000),
    max_unpacked_bytes=int(float(env.get("CTDC_XLSX_MAX_UNPACKED_MB") or 2048) * MIB),
    max_entries=int(env.get("CTDC_XLSX_MAX_ENTRIES") or 1000),
)
CTDC_DP_EPSILON_BUDGET = float(env.get("CTDC_DP_EPSILON_BUDGET") or 20)
CTDC_DP_DELTA_BUDGET = float(env.get("CTDC_DP_DELTA_BUDGET") or 1e-3)
CTDC_RAW_RETENTION_DAYS = int(env.get("CTDC_RAW_RETENTION_DAYS") or 90)
CTDC_PLAINTEXT_DIR = env.get("CTDC_PLAINTEXT_DIR") or None
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
    # Before ctdc's apps: ctdc.web.security.admin replaces the TOTP device admin that django-otp registers.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ctdc.web.accounts",
    "ctdc.web.submissions",
    "ctdc.web.cases",
    "ctdc.web.releases",
    "ctdc.web.portal",
    "ctdc.web.codebook",
    "ctdc.web.worker",
    "ctdc.web.contribute",
    "ctdc.web.audit",
    "ctdc.web.security",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Other sites' scripts may read the public, read-only API; nothing else (ctdc.web.security.cors).
    "ctdc.web.security.cors.CorsMiddleware",
    # Before anything reads a body: a request announcing more than an upload may be is refused unread.
    "ctdc.web.security.uploads.RequestSizeMiddleware",
    # Per client: the public API and sign-in attempts (ctdc.web.security.ratelimit), before any work is done.
    "ctdc.web.security.ratelimit.RateLimitMiddleware",
    # A repeated public aggregates question answered from the process's cache, before the rest (docs/portal.md).
    "ctdc.web.portal.api.AnswerCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The portal's language: the `django_language` cookie set by /language/<code>/, else the browser's
    # Accept-Language (docs/portal.md). No URL prefix, so shared links stay the same in every language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether a one-time code was given in this session (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Who may use each page and API endpoint, declared once (ctdc.web.security.access.RULES).
    "ctdc.web.security.access.AccessMiddleware",
    "ctdc.web.config.middleware.RefuseNulMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Page views, downloads and API calls per day; nothing about the reader (docs/portal.md).
    "ctdc.web.portal.usage.UsageMiddleware",
    # Sign-in lockout (django-axes): last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
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

# Argon2id for every new or changed password; the others only verify older hashes (upgraded at the next sign-in).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes checks every sign-in against its failure records (in the database) before the password is tried.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(env.get("CTDC_LOGIN_FAILURE_LIMIT") or 5)
AXES_COOLOFF_TIME = timedelta(minutes=float(env.get("CTDC_LOGIN_LOCKOUT_MINUTES") or 15))
# Either criterion locks: an account after that many failures from any addresses (guesses spread over addresses),
# and an address after that many failures on any accounts (one address trying many names). An office behind one
# address shares its count: a success resets it, and a lockout ends by itself.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ctdc.web.security.ratelimit.client_address"
AXES_COOLOFF_MESSAGE = (f"This account is locked after too many failed sign-ins. Try again in "
                        f"{AXES_COOLOFF_TIME.total_seconds() / 60:.0f} minutes, or ask a data steward to unlock it.")
# Stewards and administrators give a one-time code (TOTP) after their password; on by default in production.
CTDC_REQUIRE_2FA = env.get_bool_or("CTDC_REQUIRE_2FA", PRODUCTION)
# Nothing is accepted from an organisation before its data-sharing agreement is recorded; on by default in production.
CTDC_REQUIRE_AGREEMENT = env.get_bool_or("CTDC_REQUIRE_AGREEMENT", PRODUCTION)
OTP_TOTP_ISSUER = "ctdc"
CTDC_API_TOKEN_DAYS = int(env.get("CTDC_API_TOKEN_DAYS") or 90)
CTDC_LOGIN_RATE_PER_MINUTE = int(env.get("CTDC_LOGIN_RATE_PER_MINUTE") or 0)
CTDC_API_RATE_PER_MINUTE = int(env.get("CTDC_API_RATE_PER_MINUTE") or 0)

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
# Backups dump the database as JSON lines with whole microseconds (ctdc/web/exact_jsonl.py).
SERIALIZATION_MODULES = {"exact-jsonl": "ctdc.web.exact_jsonl"}

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
# The first handler cuts an upload off as soon as it passes CTDC_UPLOAD_MAX_MB (ctdc.web.security.uploads); an
# upload too large for memory is encrypted as it streams in, never written in clear (ctdc.web.security.sealed_uploads).
FILE_UPLOAD_HANDLERS = [
    "ctdc.web.security.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "ctdc.web.security.sealed_uploads.SealedUploadHandler",
]

# HTTPS in production (docs/security.md): on unless DEBUG or CTDC_DEMO, each settable off behind a trusted proxy
# that does the job itself.
SECURE_SSL_REDIRECT = env.get_bool_or("CTDC_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(env.get("CTDC_HSTS_SECONDS") or (31_536_000 if PRODUCTION else 0))
SECURE_HSTS_PRELOAD = SECURE_HSTS_INCLUDE_SUBDOMAINS = env.get_bool_or("CTDC_HSTS_PRELOAD",
                                                                      SECURE_HSTS_SECONDS > 0)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.get_bool_or("CTDC_SECURE_COOKIES", PRODUCTION)
if env.get_bool("CTDC_TRUSTED_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

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
