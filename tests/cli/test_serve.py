"""`ctdc serve` as `make demo` runs it: one command, the web server and the task worker together.

A real subprocess on a free port: an upload made through the web is processed with no worker started by hand; a
killed worker is restarted and processes the next upload; SIGTERM stops everything, leaving no process behind.
"""

from __future__ import annotations

import os
import signal

import psutil
import pytest
from playwright.sync_api import sync_playwright

from tests.cli.processes import running, started, wait_for
from tests.conftest import DATA
from tests.served import ctdc_many, serving, sign_in, site, upload

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.browser  # Playwright's HTTP client (no browser window)


def _heartbeats(where) -> list[tuple]:
    return where.query("select pid, stopped_at from worker_workerheartbeat order by id")


def _processed(request, url: str, submission: int) -> dict:
    state = request.get(f"{url}/intake/submissions/{submission}/progress.json").json()
    return state if not state["busy"] else {}


def test_serve_runs_queued_uploads_restarts_a_killed_worker_and_stops_cleanly(tmp_path):
    with site(tmp_path / "var") as data:
        _serve_story(tmp_path, data)


def _serve_story(tmp_path, data):
    (tmp_path / "pw").write_text(PASSWORD)
    ctdc_many(data, ["init"], ["org", "create", "lakeside-helpline", "--name", "Lakeside Helpline (fictional)"],
              ["user", "contributor", "lakeside", "--org", "lakeside-helpline", "--password-file", str(tmp_path / "pw")])
    second_file = tmp_path / "second.csv"
    second_file.write_text("\n".join((DATA / "ctdc-public-synthetic.csv").read_text().splitlines()[:-1]) + "\n")

    with serving(data, tmp_path / "serve.log") as server, sync_playwright() as p:
        request = p.request.new_context()
        sign_in(request, server.url, "lakeside", PASSWORD)
        first = upload(request, server.url, DATA / "ctdc-public-synthetic.csv")
        state = wait_for(lambda: _processed(request, server.url, first), "the first upload to be processed")
        assert state["status"] == "validated" and state["worker_missing"] is False

        worker = started(server.log, "task worker")[0]
        assert [pid for pid, stopped in _heartbeats(data)] == [worker]
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: len(started(server.log, "task worker")) == 2, "the killed worker to be restarted")
        assert "task worker stopped (killed by SIGKILL); restarting it in 1 s" in server.log.read_text()
        restarted = started(server.log, "task worker")[1]
        wait_for(lambda: restarted in [pid for pid, _ in _heartbeats(data)], "the new worker's heartbeat")

        second = upload(request, server.url, second_file)
        state = wait_for(lambda: _processed(request, server.url, second), "the second upload to be processed")
        assert state["status"] == "validated"
        request.dispose()

        web = started(server.log, "web server")[0]
        everyone = [web, restarted] + [c.pid for c in psutil.Process(web).children(recursive=True)]
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=120) == 0
    assert not any(running(pid) for pid in everyone)
    beats = dict(_heartbeats(data))
    assert beats[restarted] is not None  # the worker recorded its clean stop
    assert beats[worker] is None  # the killed one could not: it simply goes stale
    assert server.log.read_text().rstrip().endswith("ctdc serve: stopped")
