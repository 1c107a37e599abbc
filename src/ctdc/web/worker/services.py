"""Writes on worker heartbeats (HackSoft-style services: keyword-only)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ctdc.web.worker.models import WorkerHeartbeat

# Rows of workers gone longer than this are deleted when a worker starts: the table stays small.
KEEP_STOPPED = timedelta(days=7)


def heartbeat_beat(*, worker_id: str, hostname: str, pid: int, started_at: datetime) -> WorkerHeartbeat:
    """Record that the worker `worker_id` is alive now (one row per worker process, updated in place)."""
    now = timezone.now()
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": hostname[:255], "pid": pid, "started_at": started_at, "seen_at": now, "stopped_at": None})
    return beat


def heartbeat_stop(*, worker_id: str) -> None:
    """Record a clean stop, so the pages can say the worker was stopped rather than lost."""
    now = timezone.now()
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=now, stopped_at=now)


def heartbeat_prune() -> int:
    """Delete the rows of workers not seen for KEEP_STOPPED; returns how many."""
    deleted, _ = WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - KEEP_STOPPED).delete()
    return deleted
