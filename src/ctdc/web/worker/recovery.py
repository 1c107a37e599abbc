"""Tasks a lost worker left `running`: run them again, or end them cleanly (issue 18, item 2).

django-tasks-db marks a task `running` when a worker claims it and never looks at it again: a worker killed
mid-task (SIGKILL, out of memory, power cut) leaves it `running` for ever, and with it the submission the page
shows as "processing" or the build shown as "running". `tasks_recover` finds them and decides, per task:

- `submission_process_task`: queued again. Processing is idempotent: it starts over from the encrypted raw
  file and replaces the report, the quarantine and the staged records. After `MAX_ATTEMPTS` claims (a file that
  kills the worker each time, e.g. by exhausting memory) the task fails and the submission ends `failed`, saying so.
- `release_build_task`: queued again only if its build never started (the worker died between claiming the
  task and starting the build: nothing computed, nothing charged). A build that started is not re-run: it is
  marked failed ("no release was written", or the release it wrote), because a DP build may already have
  charged its budget; a steward starts a new build.

A worker counts as lost when its heartbeat row (`worker.WorkerHeartbeat`) says it stopped, when it ran on this
machine and its process is gone (known at once, so a restarted `ctdc serve` worker recovers straight away), or
when it has not beaten for CTDC_WORKER_STALE_SECONDS (a worker on another machine). A worker with no heartbeat
row (django-tasks-db's bare `db_worker`, not `ctdc worker`) is never judged: its tasks are left alone. Machines
are told apart by host name: workers that share one (containers given the same host name) must share a process
table too, or one would think the other gone.

`ctdc worker` calls this when it starts and after every heartbeat (so a pool's surviving workers recover the
tasks of one that died). Release builds run by the CLI have no task: `release_builds_reap` marks those of
dead processes on this machine failed.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ctdc.web.releases.models import ReleaseBuild
from ctdc.web.submissions.models import Submission
from ctdc.web.worker.models import WorkerHeartbeat

log = logging.getLogger(__name__)

# A task claimed this many times without finishing is not tried again: something in it kills the worker.
MAX_ATTEMPTS = 3
SUBMISSION_TASK = "ctdc.web.submissions.tasks.submission_process_task"
BUILD_TASK = "ctdc.web.releases.tasks.release_build_task"
LOST = "ctdc.web.worker.recovery.WorkerLost"


@dataclass
class Recovery:
    requeued: list[str] = field(default_factory=list)  # task ids queued again
    failed: list[str] = field(default_factory=list)  # task ids ended as failed
    builds: list[int] = field(default_factory=list)  # release builds marked failed


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def worker_lost(beat: WorkerHeartbeat | None, *, now: datetime, host: str) -> bool:
    """Lost: stopped, or its process gone from this machine, or silent for CTDC_WORKER_STALE_SECONDS."""
    if beat is None:
        return False
    if beat.stopped_at is not None:
        return True
    if beat.hostname == host[:255] and not pid_alive(beat.pid):
        return True
    return beat.seen_at < now - timedelta(seconds=settings.CTDC_WORKER_STALE_SECONDS)


def tasks_recover(*, now: datetime | None = None) -> Recovery:
    """Queue again, or fail, every task still `running` whose worker is lost; mark its build failed if any."""
    now = now or timezone.now()
    host = socket.gethostname()
    outcome = Recovery()
    running = list(DBTaskResult.objects.running().only("id", "worker_ids"))
    if not running:
        outcome.builds = release_builds_reap()
        return outcome
    beats = {b.worker_id: b for b in WorkerHeartbeat.objects.filter(
        worker_id__in=[t.worker_ids[-1] for t in running if t.worker_ids])}
    for task in running:
        if task.worker_ids and worker_lost(beats.get(task.worker_ids[-1]), now=now, host=host):
            _recover(task.pk, outcome, now)
    outcome.builds += release_builds_reap()
    return outcome


def _recover(task_id, outcome: Recovery, now: datetime) -> None:
    with transaction.atomic():
        # Locked and checked again: another worker may be recovering the same task at this moment.
        task = DBTaskResult.objects.select_for_update().filter(pk=task_id, status=TaskResultStatus.RUNNING).first()
        if task is None:
            return
        attempts = len(task.worker_ids)
        kwargs, args = task.args_kwargs.get("kwargs", {}), task.args_kwargs.get("args", [])
        if attempts < MAX_ATTEMPTS and (task.task_path == SUBMISSION_TASK or (
                task.task_path == BUILD_TASK and _build_not_started(_first(args, kwargs, "build_id")))):
            task.status, task.started_at = TaskResultStatus.READY, None
            task.save(update_fields=["status", "started_at"])
            if task.task_path == SUBMISSION_TASK:
                _submission_waits(_first(args, kwargs, "submission_id"))
            outcome.requeued.append(str(task.pk))
            log.warning("task %s (%s): its worker %s was lost; queued again (attempt %s of %s)", task.pk,
                        task.task_path.rsplit(".", 1)[-1], task.worker_ids[-1], attempts + 1, MAX_ATTEMPTS)
            return
        task.status, task.finished_at = TaskResultStatus.FAILED, now
        task.exception_class_path = LOST
        task.traceback = f"Its worker ({task.worker_ids[-1]}) was lost {attempts} time(s) while running it."
        task.save(update_fields=["status", "finished_at", "exception_class_path", "traceback"])
        outcome.failed.append(str(task.pk))
        log.warning("task %s (%s): its worker was lost %s time(s); not run again", task.pk,
                    task.task_path.rsplit(".", 1)[-1], attempts)
        if task.task_path == SUBMISSION_TASK:
            _submission_fails(_first(args, kwargs, "submission_id"), attempts)
        elif task.task_path == BUILD_TASK:
            build_id = _first(args, kwargs, "build_id")
            if build_id is not None and _build_fail(build_id, "its worker stopped"):
                outcome.builds.append(build_id)


def _first(args: list, kwargs: dict, name: str):
    """The task's one argument, passed by name or by position."""
    return kwargs.get(name, args[0] if args else None)


def _build_not_started(build_id) -> bool:
    """A build still queued: its worker died between claiming the task and starting it, so nothing was computed
    or charged, and running it again is safe."""
    return ReleaseBuild.objects.filter(pk=build_id, status=ReleaseBuild.Status.QUEUED).exists()


def _submission_waits(submission_id) -> None:
    Submission.objects.filter(pk=submission_id, status__in=["uploaded", "processing"]).update(
        progress=0, progress_note="Waiting for a worker (the previous one stopped)")


def _submission_fails(submission_id, attempts: int) -> None:
    from ctdc.errors import IngestError
    from ctdc.web.submissions.services import submission_mark_failed

    submission = Submission.objects.filter(pk=submission_id, status__in=["uploaded", "processing"]).first()
    if submission is None:
        return
    submission_mark_failed(submission=submission, error=IngestError(
        f"{submission.filename}: the task worker stopped {attempts} times while processing this file (it may be "
        "too large for the worker's memory), so it is not tried again. Nothing from it entered the central "
        "repository. A data steward can find the details in the worker's log; the file can be sent again.",
        {"reason": "worker-lost", "attempts": attempts}))


def _build_fail(build_id: int, why: str) -> bool:
    """Mark a running build failed, saying whether its release was written before it stopped."""
    build = ReleaseBuild.objects.filter(pk=build_id, status__in=ReleaseBuild.ACTIVE).select_related(
        "release").first()
    if build is None:
        return False
    if build.release is not None:
        error = (f"The build stopped ({why}) after writing release {build.release.version} "
                 f"({build.release.get_status_display().lower()}).")
    else:
        error = (f"The build stopped ({why}) before it finished; no release was written. Privacy budget it had "
                 "already charged stays spent. Start a new build.")
    stamp = timezone.now().strftime("%H:%M:%S")
    return bool(ReleaseBuild.objects.filter(pk=build_id, status=build.status).update(
        status=ReleaseBuild.Status.FAILED, finished_at=timezone.now(), error=error,
        log=Concat(F("log"), Value(f"{stamp} {build.progress:3d}% {error}\n"))))


def release_builds_reap(*, dataset: str | None = None) -> list[int]:
    """Builds `running` in a process of this machine that no longer exists: marked failed; returns their ids."""
    builds = ReleaseBuild.objects.filter(status=ReleaseBuild.Status.RUNNING, host=socket.gethostname())
    if dataset is not None:
        builds = builds.filter(dataset=dataset)
    return [pk for pk, pid in builds.values_list("pk", "pid")
            if not pid_alive(pid) and _build_fail(pk, "its process is gone")]
