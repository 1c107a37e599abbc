"""A real `ctdc serve` in a subprocess, on its own data folder and SQLite database, as `make demo` runs it.

The server is a separate program, so it cannot share pytest-django's test database: it gets a fresh folder under
tmp_path (SQLite in both the SQLite and the PostgreSQL run of the suite). Nothing here starts a worker: the one
`ctdc serve` starts is the only one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.cli.processes import started, wait_for

BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(CTDC_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="ctdc.web.config.settings.base",
               CTDC_ALLOWED_HOSTS="127.0.0.1,localhost", DEBUG="false")
    return env


def ctdc(data_dir: Path, *args: str) -> str:
    """Run the real `ctdc` command against the server's data folder; returns its output."""
    result = subprocess.run([str(BIN / "ctdc"), *args], env=server_env(data_dir), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path
    data_dir: Path


@contextmanager
def serving(data_dir: Path, log: Path):
    """`ctdc serve` on a free port until the block ends (then SIGTERM, and SIGKILL if it outlives a minute)."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([str(BIN / "ctdc"), "serve", "--port", str(port), "--workers", "1"],
                                env=server_env(data_dir), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = Server(proc=proc, url=f"http://127.0.0.1:{port}", log=log, data_dir=data_dir)
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


def ctdc_many(data_dir: Path, *commands: list[str]) -> str:
    """Several `ctdc` commands in one process (Python and Django start once); returns their output."""
    result = subprocess.run([sys.executable, "-c", _MANY, json.dumps([list(c) for c in commands])],
                            env=server_env(data_dir), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
