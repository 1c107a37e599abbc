"""A real `ctdc serve` in a subprocess, on its own data folder and database, as `make demo` runs it.

The server is a separate program, so it cannot share pytest-django's test database (a transaction the test never
commits). It gets a fresh folder under tmp_path and a database of its own of the suite's engine: SQLite in that
folder, or, in the PostgreSQL run, a database named after the suite's with `_served` appended, created and dropped
here. Nothing here starts a worker: the one `ctdc serve` starts is the only one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.cli.processes import started, wait_for

BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Site:
    """A server's data folder and database (`database_url` None: SQLite in the folder)."""

    data_dir: Path
    database_url: str | None

    def query(self, sql: str) -> list[tuple]:
        if self.database_url is None:
            with sqlite3.connect(self.data_dir / "ctdc.sqlite3") as db:
                return db.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            return db.execute(sql).fetchall()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def site(data_dir: Path):
    """A fresh data folder and database for a server, of the engine the suite runs on (see the module docstring)."""
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgres"):
        yield Site(data_dir, None)
        return
    import psycopg

    name = urlsplit(suite_url).path.lstrip("/") + "_served"
    with psycopg.connect(_with_database(suite_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield Site(data_dir, _with_database(suite_url, name))
    finally:
        with psycopg.connect(_with_database(suite_url, "postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(where: Site) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(CTDC_DATA_DIR=str(where.data_dir), DJANGO_SETTINGS_MODULE="ctdc.web.config.settings.base",
               CTDC_ALLOWED_HOSTS="127.0.0.1,localhost", DEBUG="false",
               # As `make demo`: keys generated into the data folder, plain HTTP (docs/security.md).
               CTDC_DEMO="true")
    if where.database_url:
        env["DATABASE_URL"] = where.database_url
    return env


def ctdc(where: Site, *args: str) -> str:
    """Run the real `ctdc` command against the server's data folder and database; returns its output."""
    result = subprocess.run([str(BIN / "ctdc"), *args], env=server_env(where), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path
    site: Site


@contextmanager
def serving(where: Site, log: Path):
    """`ctdc serve` on a free port until the block ends (then SIGTERM, and SIGKILL if it outlives a minute)."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([str(BIN / "ctdc"), "serve", "--port", str(port), "--workers", "1"],
                                env=server_env(where), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Server(proc=proc, url=f"http://127.0.0.1:{port}", log=log, site=where)
    try:
        wait_for(lambda: proc.poll() is not None or ("Listening at" in log.read_text()
                                                     and started(log, "task worker")), "ctdc serve to start")
        assert proc.poll() is None, log.read_text()
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def sign_in(request, url: str, username: str, password: str) -> None:
    """Sign in with Playwright's HTTP client (cookies kept by `request`), as the login form does."""
    page = request.get(f"{url}/accounts/login/")
    token = CSRF.search(page.text()).group(1)
    response = request.post(f"{url}/accounts/login/", form={"csrfmiddlewaretoken": token, "username": username,
                                                            "password": password, "next": "/intake/submissions/"})
    assert response.ok and "/accounts/login/" not in response.url, "sign-in failed"


def upload(request, url: str, path: Path, mapping: str = "detect") -> int:
    """Upload a file through the web form; returns the new submission's id."""
    form = request.get(f"{url}/intake/submissions/new/").text()
    token = CSRF.search(form).group(1)
    org = re.search(r'<select name="organisation"[^>]*>\s*<option value="(\d+)"', form).group(1)
    response = request.post(f"{url}/intake/submissions/new/", multipart={
        "csrfmiddlewaretoken": token, "organisation": org, "dataset": "victims", "mapping": mapping,
        "file": {"name": path.name, "mimeType": "text/csv", "buffer": path.read_bytes()}})
    assert response.ok, response.status
    return int(re.search(r"/intake/submissions/(\d+)/$", response.url).group(1))


_MANY = """
import json, sys
from ctdc.cli.main import cli
for args in json.loads(sys.argv[1]):
    cli.main(args, prog_name="ctdc", standalone_mode=False)
"""


def ctdc_many(where: Site, *commands: list[str]) -> str:
    """Several `ctdc` commands in one process (Python and Django start once); returns their output."""
    result = subprocess.run([sys.executable, "-c", _MANY, json.dumps([list(c) for c in commands])],
                            env=server_env(where), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
