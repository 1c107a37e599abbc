"""Test settings: the production engine named by DATABASE_URL, a throwaway data folder, a fast hasher."""

import os
import tempfile

# Always a throwaway folder: tests must never write into a real var/ (the Makefile exports CTDC_DATA_DIR).
os.environ["CTDC_DATA_DIR"] = tempfile.mkdtemp(prefix="ctdc-test-")

from ctdc.web.config.settings.base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise warns about a missing folder)
# Persistent connections from the live server's threads would keep the test database open and block its DROP.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as in production: Django's default in-memory test database shares one cache between connections,
    # where WAL and the busy timeout do not apply and a reader meeting another thread's write fails at once
    # ("database table is locked"): that, not the code, made a build cancelled from another thread fail.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
# Tests publish and withdraw releases within a second: the portal looks the latest one up on every request.
CTDC_PORTAL_RELEASE_TTL = 0.0
CTDC_USAGE_FLUSH_SECONDS = 0.0  # every count written at once, so tests can read it
# A test run is a development install: generated keys in the throwaway folder, plain HTTP from the test client.
# Tests of the production behaviour set these back (tests/web/test_production.py).
CTDC_DEMO = True
PRODUCTION = False
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
# Tests sign stewards in with force_login; the two-factor tests turn this on (tests/web/security/test_two_factor.py).
CTDC_REQUIRE_2FA = False
# Tests create organisations by the dozen; the agreement tests turn it on (tests/web/security/test_agreements.py).
CTDC_REQUIRE_AGREEMENT = False
# Client.login() authenticates without a request, which django-axes refuses: lockout tests turn it on
# (tests/web/security/test_authentication.py). Rate limits likewise: tests call the API many times a minute.
AXES_ENABLED = False
CTDC_LOGIN_RATE_PER_MINUTE = 0
CTDC_API_RATE_PER_MINUTE = 0
