"""A command run before `ctdc init`, or against a database that cannot be reached, says what to do in one line
instead of a driver's traceback (which names tables and, on some drivers, values)."""

from __future__ import annotations

import os
import subprocess

from tests.served import BIN


def _ctdc(tmp_path, database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DATABASE_URL=database_url, CTDC_DATA_DIR=str(tmp_path / "var"))
    return subprocess.run([str(BIN / "ctdc"), *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_command_before_init_says_to_run_ctdc_init(tmp_path):
    ran = _ctdc(tmp_path, f"sqlite:///{tmp_path / 'new.sqlite3'}", "org", "create", "x", "--name", "X")
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr and "accounts_organisation" not in ran.stderr
    assert "Run `ctdc init`" in ran.stderr


def test_an_unreachable_database_is_named_as_such(tmp_path):
    # Port 9 (discard) on loopback: nothing listens there on these machines, so the connection is refused at once.
    ran = _ctdc(tmp_path, "postgres://ctdc:secret-password@127.0.0.1:9/ctdc", "org", "list")
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr and "secret-password" not in ran.stderr
    assert "cannot be reached" in ran.stderr
