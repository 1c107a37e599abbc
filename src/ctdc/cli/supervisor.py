"""A small process supervisor for `ctdc serve`: the web server and the task worker as two children.

- The worker is restarted when it stops on its own, after a delay that doubles on each quick failure (1 s, 2 s,
  4 s … 30 s) and starts again from 1 s once a worker has stayed up for a minute.
- The web server is not restarted: gunicorn already replaces its own crashed workers, so its arbiter stopping
  means something is wrong that a restart loop would hide. Everything stops, with its exit code.
- SIGTERM, SIGINT (Ctrl-C) or SIGHUP sends SIGTERM to both children and waits for them (a worker finishes its
  current task); a second signal, or the grace period running out, kills them.
- No orphans: children run in their own process group (a terminal's Ctrl-C reaches the supervisor only, which
  stops them in order) and, on Linux, get SIGTERM from the kernel if the supervisor itself is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2


@dataclass
class Child:
    name: str
    argv: list[str]
    restart: bool
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = 0.0
    restarts: int = field(default=0)


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """preexec_fn: ask the kernel for SIGTERM when the supervisor dies (Linux), and give up if it already has."""
    def preexec() -> None:
        if sys.platform.startswith("linux"):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:
            os._exit(1)
    return preexec


def describe_exit(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class Supervisor:
    def __init__(self, children: list[Child], *, echo: Callable[[str], None], grace: float = 30.0,
                 backoff_start: float = 1.0, backoff_max: float = 30.0, stable_after: float = 60.0) -> None:
        self.children = children
        self.echo = echo
        self.grace = grace
        self.backoff_start = backoff_start
        self.backoff_max = backoff_max
        self.stable_after = stable_after
        self.signals = 0
        self.signal_name = ""

    # --- signals --------------------------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        # No printing here: a signal landing during a write to stdout would make print() fail as re-entrant.
        self.signals += 1
        self.signal_name = signal.Signals(signum).name
        if self.signals > 1:
            self._send(signal.SIGKILL)

    def _install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    # --- children -------------------------------------------------------------------------------------------
    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv, process_group=0, preexec_fn=_die_with_parent(os.getpid()))
        child.started_at = time.monotonic()
        child.restart_at = None
        self.echo(f"ctdc serve: {child.name} started (pid {child.proc.pid})")

    def _send(self, sig: int) -> None:
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):  # it exited since poll()
                    os.kill(child.proc.pid, sig)

    def _stop_all(self) -> None:
        self._send(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(c.proc and c.proc.poll() is None for c in self.children):
            time.sleep(POLL_SECONDS)
        for child in self.children:
            if child.proc is not None and child.proc.poll() is None:
                self.echo(f"ctdc serve: {child.name} did not stop within {self.grace:g} s; killing it")
                child.proc.kill()
            if child.proc is not None:
                child.proc.wait()

    def _schedule_restart(self, child: Child, code: int) -> None:
        up_for = time.monotonic() - child.started_at
        child.delay = self.backoff_start if up_for >= self.stable_after or not child.delay else min(
            child.delay * 2, self.backoff_max)
        child.restart_at = time.monotonic() + child.delay
        child.restarts += 1
        self.echo(f"ctdc serve: {child.name} stopped ({describe_exit(code)}); restarting it in {child.delay:g} s")

    # --- the loop -------------------------------------------------------------------------------------------
    def run(self) -> int:
        """Start every child and watch them until a signal or the web server's exit. Returns the exit code."""
        self._install_signals()
        for child in self.children:
            self._start(child)
        code: int | None = None
        try:
            while not self.signals and code is None:
                time.sleep(POLL_SECONDS)
                for child in self.children:
                    if child.restart_at is not None:
                        if time.monotonic() >= child.restart_at:
                            self._start(child)
                        continue
                    exit_code = child.proc.poll()
                    if exit_code is None:
                        continue
                    if child.restart:
                        self._schedule_restart(child, exit_code)
                    else:
                        self.echo(f"ctdc serve: {child.name} stopped ({describe_exit(exit_code)}); "
                                  "stopping everything")
                        code = exit_code if exit_code > 0 else 1
                        break
        finally:
            if self.signals:
                self.echo(f"ctdc serve: {self.signal_name} received; stopping the web server and the worker")
            self._stop_all()
        self.echo("ctdc serve: stopped")
        return code or 0
