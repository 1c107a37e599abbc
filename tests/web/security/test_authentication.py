"""Authentication hardening (issue 16, items 2 and 7): Argon2 hashes, lockout after repeated failures (django-axes,
in the database), rate limits per client on sign-in and on the public API, each event in the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.cache import cache

from ctdc.web.audit.models import AuditEvent

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()  # the rate-limit windows of other tests (same process, same client address)
    yield
    cache.clear()


def test_production_hashes_passwords_with_argon2id():
    from ctdc.web.config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    # Earlier hashes still verify (and are upgraded on the next sign-in): PBKDF2 stays listed after Argon2.
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS[1:]
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode(PASSWORD, hasher.salt())
    assert encoded.startswith("argon2$argon2id$") and hasher.verify(PASSWORD, encoded)


@pytest.fixture
def nadia(settings):
    settings.AXES_ENABLED = True  # off in the test settings only because Client.login() passes no request
    return get_user_model().objects.create_user(username="nadia", password=PASSWORD)


def _sign_in(client, password: str):
    return client.post("/accounts/login/", {"username": "nadia", "password": password})


def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(client, nadia, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _sign_in(client, "wrong guess").status_code == 200  # the form again, with its error
    locked = _sign_in(client, "wrong guess")
    assert locked.status_code == 429 and "too many failed sign-ins" in locked.content.decode()
    assert _sign_in(client, PASSWORD).status_code == 429  # locked: the right password does not get in
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username="nadia").failures_since_start >= 5  # kept in the database
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions.count("auth.login_failed") >= 5 and "auth.lockout" in actions
    assert "auth.login" not in actions

    from django.core.management import call_command

    call_command("axes_reset_username", "nadia", verbosity=0)  # what a steward runs to unlock early
    assert _sign_in(client, PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor="nadia").exists()


def test_a_success_before_the_limit_starts_the_count_again(client, nadia):
    for _ in range(4):
        _sign_in(client, "wrong guess")
    assert _sign_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _sign_in(client, "wrong guess").status_code == 200


def test_sign_in_attempts_are_rate_limited_per_client(client, settings):
    settings.CTDC_LOGIN_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": "x", "password": "y"}).status_code == 200
    refused = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) <= 61
    assert refused.content.decode().startswith("Too many sign-in attempts from your address: at most 3 a minute.")
    # Another address is counted apart.
    assert client.post("/accounts/login/", {"username": "x", "password": "y"},
                       REMOTE_ADDR="198.51.100.9").status_code == 200


def test_the_public_api_is_rate_limited_per_client_with_the_api_error_shape(client, settings):
    settings.CTDC_API_RATE_PER_MINUTE = 2
    assert [client.get("/api/v1/releases").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/releases")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate-limited" and set(body) == {"code", "message", "extra"}
    assert body["extra"]["limit_per_minute"] == 2 and body["extra"]["retry_after"] == int(refused["Retry-After"])
    assert client.get("/", REMOTE_ADDR="127.0.0.1").status_code == 200  # pages are not counted


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_appended(client, settings):
    settings.CTDC_API_RATE_PER_MINUTE = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    first = {"HTTP_X_FORWARDED_FOR": "10.0.0.1, 203.0.113.5"}
    assert client.get("/api/v1/releases", **first).status_code == 200
    # A forged first address does not make a new client; the proxy's own entry does.
    assert client.get("/api/v1/releases", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.5").status_code == 429
    assert client.get("/api/v1/releases", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 200
