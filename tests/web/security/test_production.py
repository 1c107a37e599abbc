"""Safe by default in production (issue 16, item 5): DEBUG off and no CTDC_DEMO means keys from outside the data
folder, HTTPS protections on, and `manage.py check --deploy` clean with the settings docs/security.md documents."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ctdc.web.config.env import SecretSource
from ctdc.web.security.checks import secret_problems

BIN = Path(sys.executable).parent


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "SECRET_KEY", "CTDC_IDENTITY_KEY", "CTDC_UPLOAD_KEY", "CTDC_DEMO", "DEBUG",
                         "DJANGO_ALLOW_ASYNC_UNSAFE")  # set by tests/conftest.py for Playwright
            and not k.endswith("_KEY_FILE")}
    return {**keep, "CTDC_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "ctdc.web.config.settings.base",
            **extra}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "django", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_key_generated_into_or_read_from_the_data_folder_is_refused_and_one_from_outside_is_not(tmp_path,
                                                                                                    settings):
    settings.CTDC_DATA_DIR = tmp_path  # env.data_dir() reads the environment; the test settings point it there
    data = Path(os.environ["CTDC_DATA_DIR"])
    errors = secret_problems([SecretSource("SECRET_KEY", "generated", data / "secret_key"),
                              SecretSource("CTDC_IDENTITY_KEY", "file", data / "keys" / "identity"),
                              SecretSource("CTDC_UPLOAD_KEY", "file", tmp_path / "outside"),
                              SecretSource("CTDC_UPLOAD_KEY", "env")])
    assert [(e.id, e.msg.split(" is ")[0]) for e in errors] == [("ctdc.E001", "SECRET_KEY"),
                                                                ("ctdc.E001", "CTDC_IDENTITY_KEY")]
    assert "set CTDC_IDENTITY_KEY_FILE to that file's path" in errors[1].hint


def test_production_refuses_to_start_with_generated_keys_and_a_demo_does_not(tmp_path):
    refused = _manage(_env(tmp_path / "var"), "check", "--deploy")
    assert refused.returncode == 1
    for name in ("SECRET_KEY", "CTDC_IDENTITY_KEY", "CTDC_UPLOAD_KEY"):
        assert f"(ctdc.E001) {name} is generated into {tmp_path / 'var'}" in refused.stderr
    serve = subprocess.run([str(BIN / "ctdc"), "serve", "--port", "8139"], env=_env(tmp_path / "var"),
                           capture_output=True, text=True, timeout=120)
    assert serve.returncode == 2 and "ctdc refuses to start in production" in serve.stderr
    assert "ctdc.E001: CTDC_UPLOAD_KEY is generated" in serve.stderr
    wsgi = subprocess.run([sys.executable, "-c", "import ctdc.web.config.wsgi"], env=_env(tmp_path / "var"),
                          capture_output=True, text=True, timeout=120)
    assert wsgi.returncode == 1 and "ImproperlyConfigured: ctdc refuses to start in production" in wsgi.stderr
    demo = _manage(_env(tmp_path / "var", CTDC_DEMO="true"), "check")
    assert demo.returncode == 0 and "no issues" in demo.stdout


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    outside = tmp_path / "secrets"
    outside.mkdir()
    for name in ("secret_key", "identity_key"):
        (outside / name).write_text(os.urandom(40).hex())
    env = _env(tmp_path / "var", SECRET_KEY_FILE=str(outside / "secret_key"),
               CTDC_IDENTITY_KEY_FILE=str(outside / "identity_key"), CTDC_UPLOAD_KEY=os.urandom(40).hex(),
               CTDC_ALLOWED_HOSTS="ctdc.example.org", CTDC_TRUSTED_PROXY="true")
    clean = _manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert clean.returncode == 0, clean.stderr
    assert "System check identified no issues (0 silenced)." in clean.stdout
    assert not (tmp_path / "var").exists() or not any((tmp_path / "var").iterdir())  # nothing generated

    shown = subprocess.run([sys.executable, "-c", (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)")], env=env, capture_output=True, text=True, timeout=120)
    assert shown.stdout.split() == ["True", "31536000", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO',",
                                    "'https')"]
    # Behind a proxy that redirects itself, the redirect is settable off; --deploy then says so.
    off = _manage({**env, "CTDC_SSL_REDIRECT": "false"}, "check", "--deploy")
    assert "security.W008" in off.stdout + off.stderr
