"""The supervisor behind `ctdc serve`, with real child processes (small sleepers standing in for gunicorn and the
worker, so each test takes a second): restarts with backoff, clean stops on SIGTERM and Ctrl-C, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.cli.processes import running, started, wait_for

SUPERVISE = """
import sys
from ctdc.cli.supervisor import Child, Supervisor
sleeper = [sys.executable, "-c", sys.argv[1]]
children = [Child("web server", sleeper, restart=False), Child("task worker", sleeper, restart=True)]
sys.exit(Supervisor(children, echo=lambda line: print(line, flush=True), grace=float(sys.argv[2]),
                    backoff_start=0.1, backoff_max=0.4, stable_after=600).run())
"""
SLEEPER = "import time; time.sleep(600)"
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


@pytest.fixture
def supervise(tmp_path):
    """Start a supervisor in its own session (as a shell starts a foreground job); returns (process, log path)."""
    procs = []

    def start(child_code: str = SLEEPER, grace: float = 30.0):
        log = tmp_path / f"supervisor-{len(procs)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "-c", SUPERVISE, child_code, str(grace)], stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        wait_for(lambda: started(log, "web server") and started(log, "task worker"), "both children to start")
        return proc, log

    yield start
    for proc in procs:  # a failed test must not leave processes behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _children(log) -> list[int]:
    return started(log, "web server") + started(log, "task worker")


def test_a_killed_worker_is_restarted_with_a_growing_delay_and_the_web_server_keeps_running(supervise):
    proc, log = supervise()
    web = started(log, "web server")[0]
    first = started(log, "task worker")[0]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: len(started(log, "task worker")) == 2, "the worker to be restarted")
    assert "task worker stopped (killed by SIGKILL); restarting it in 0.1 s" in log.read_text()
    second = started(log, "task worker")[1]
    assert second != first and running(second)
    os.kill(second, signal.SIGTERM)  # fails again before it was up for `stable_after`: the delay doubles
    wait_for(lambda: len(started(log, "task worker")) == 3, "the second restart")
    assert "task worker stopped (killed by SIGTERM); restarting it in 0.2 s" in log.read_text()
    assert started(log, "web server") == [web] and running(web)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0
    assert not any(running(pid) for pid in _children(log))
    assert log.read_text().rstrip().endswith("ctdc serve: stopped")


def test_ctrl_c_reaches_the_supervisor_alone_which_stops_both_children(supervise):
    proc, log = supervise()
    children = _children(log)
    # The children have their own process group: a terminal's Ctrl-C (SIGINT to the foreground group) does not
    # reach them directly, so a worker is not interrupted twice (its second signal aborts the running task).
    assert all(os.getpgid(pid) != os.getpgid(proc.pid) for pid in children)
    os.killpg(os.getpgid(proc.pid), signal.SIGINT)
    assert proc.wait(timeout=120) == 0
    assert "SIGINT received; stopping the web server and the worker" in log.read_text()
    assert not any(running(pid) for pid in children)


def test_the_web_server_stopping_stops_everything_with_an_error(supervise):
    proc, log = supervise()
    worker = started(log, "task worker")[0]
    os.kill(started(log, "web server")[0], signal.SIGKILL)
    assert proc.wait(timeout=120) == 1
    assert "web server stopped (killed by SIGKILL); stopping everything" in log.read_text()
    assert not running(worker)


def test_a_killed_supervisor_leaves_no_orphans(supervise):
    proc, log = supervise()
    children = _children(log)
    proc.kill()  # SIGKILL: no handler runs; the kernel's parent-death signal must stop the children
    proc.wait()
    wait_for(lambda: not any(running(pid) for pid in children), "the orphaned children to stop")


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(supervise):
    proc, log = supervise(child_code=STUBBORN, grace=1)
    children = _children(log)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0
    text = log.read_text()
    assert "web server did not stop within 1 s; killing it" in text
    assert "task worker did not stop within 1 s; killing it" in text
    assert not any(running(pid) for pid in children)
