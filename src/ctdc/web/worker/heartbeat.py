"""The worker's heartbeat thread: `ctdc worker` starts it beside django-tasks-db's worker loop.

A thread rather than a hook in the loop, because the loop is busy for the whole of a task (a release build can
take minutes) and the worker must not look dead meanwhile. The first beat and the stop are written by the calling
thread, before the loop starts and after it ends, when nothing else writes; the beats in between come from the
thread, on its own connection, closed after each beat so it never holds a SQLite lock between beats. A beat that
fails (the database busy or away) is logged and the next one tries again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string

from ctdc.web.worker.recovery import tasks_recover
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
        """Record the worker as alive now, then keep beating from the thread."""
        self._beat()
        heartbeat_prune()
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then record a clean stop."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)
        try:
            heartbeat_stop(worker_id=self.worker_id)
        except Exception as exc:  # the database may be why the worker stops; the record is only a courtesy
            log.warning("worker %s: its stop was not recorded (%s)", self.worker_id, type(exc).__name__)

    def _beat(self) -> None:
        heartbeat_beat(worker_id=self.worker_id, hostname=socket.gethostname(), pid=os.getpid(),
                       started_at=self.started_at)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._beat()
                # Tasks of a worker that died meanwhile (another machine's, or a sibling's) are picked up by a
                # surviving worker, not only by the next one to start (`recovery`).
                tasks_recover()
            except Exception as exc:  # a database hiccup must not kill the thread: the next beat tries again
                log.warning("worker %s: heartbeat not recorded (%s)", self.worker_id, type(exc).__name__)
            finally:
                connection.close()  # this thread's own connection
