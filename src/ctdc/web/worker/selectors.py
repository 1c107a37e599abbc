"""Reads on worker heartbeats: is a task worker alive, as far as the database can tell?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from ctdc.web.worker.models import WorkerHeartbeat


@dataclass(frozen=True)
class WorkerStatus:
    alive: bool
    last_seen: datetime | None  # newest heartbeat of any worker; None if no worker was ever seen
    stopped: bool  # the newest worker stopped cleanly (rather than vanishing)

    @property
    def missing(self) -> bool:
        return not self.alive


def worker_status(*, now: datetime | None = None) -> WorkerStatus:
    """Alive when some worker that has not stopped beat within CTDC_WORKER_STALE_SECONDS.

    The heartbeat is written every CTDC_WORKER_HEARTBEAT_SECONDS from its own thread, also while a task runs, so
    a long release build does not make a worker look dead."""
    now = now or timezone.now()
    fresh_since = now - timedelta(seconds=settings.CTDC_WORKER_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(stopped_at__isnull=True, seen_at__gte=fresh_since).exists()
    newest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    return WorkerStatus(alive=alive, last_seen=newest.seen_at if newest else None,
                        stopped=bool(newest and newest.stopped_at))
