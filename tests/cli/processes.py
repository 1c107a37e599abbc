"""Helpers for tests that run real processes: bounded polling (never a fixed sleep) and liveness checks."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import psutil

STARTED = re.compile(r"ctdc serve: (web server|task worker) started \(pid (\d+)\)")


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 120.0, every: float = 0.1):
    """Poll until `predicate()` is truthy (returns it); fail after a generous `timeout` saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has exited; only its exit status waits to be collected)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def started(log: Path, name: str) -> list[int]:
    """Pids of the children called `name` that the supervisor reported starting, in order."""
    text = log.read_text() if log.exists() else ""
    return [int(pid) for who, pid in STARTED.findall(text) if who == name]
