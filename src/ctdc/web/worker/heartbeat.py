"""The worker's heartbeat thread: `ctdc worker` starts it beside django-tasks-db's worker loop.

A thread rather than a hook in the loop, because the loop is busy for the whole of a task (a release build can
take minutes) and the worker must not look dead meanwhile. All the heartbeat's database work happens in this
thread, on its own connection, closed after each beat: it never holds a SQLite lock between beats and never
touches the connection the tasks use.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string

from ctdc.web.worker.services import heartbeat_beat, heartbeat_prune, heartbeat_stop

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """Unique across a pool of workers on many machines (django-tasks-db allows at most 64 characters)."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(12)}"


class Heartbeat:
    def __init__(self, *, worker_id: str, interval: float) -> None:
        self.worker_id = worker_id
        self.interval = interval
        self.started_at = timezone.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ctdc-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Record a clean stop (the thread does it on its way out) and wait for it."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _safely(self, what: str, action) -> None:
        try:
            action()
        except Exception as exc:  # a database hiccup must not kill the thread: the next beat tries again
            log.warning("worker %s: %s not recorded (%s)", self.worker_id, what, type(exc).__name__)
        finally:
            connection.close()

    def _beat(self) -> None:
        heartbeat_beat(worker_id=self.worker_id, hostname=socket.gethostname(), pid=os.getpid(),
                       started_at=self.started_at)

    def _run(self) -> None:
        self._safely("heartbeat", self._beat)
        self._safely("pruning of old heartbeats", heartbeat_prune)
        while not self._stop.wait(self.interval):
            self._safely("heartbeat", self._beat)
        self._safely("stop", lambda: heartbeat_stop(worker_id=self.worker_id))
