"""What a killed worker or builder leaves behind, taken back (issue 18, item 2): the plain regression tests of
what `test_crashes.py` found by killing real processes at seeded points.

- A worker killed mid-task left the task `running` and the submission `processing` for ever (django-tasks-db
  never looks at a claimed task again): the contributor could neither see an error nor send the file again.
- A DP build killed after charging the ledger left its version free: the next build took the same version, and
  the ledger then held two charges in one release's name, no longer attributable.

The lost worker here is a heartbeat row of a process that really existed on this machine and has exited.
"""

from __future__ import annotations

import socket
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from ctdc.web.releases.models import PrivacyLedgerEntry, ReleaseBuild
from ctdc.web.releases.services import release_build, release_build_enqueue
from ctdc.web.submissions.models import Submission
from ctdc.web.worker.models import WorkerHeartbeat
from ctdc.web.worker.recovery import MAX_ATTEMPTS, tasks_recover
from tests.conftest import DATA
from tests.web.intake import make_people, run_worker, upload

ITEM = "2 crashes"
pytestmark = pytest.mark.django_db(transaction=True)
PUBLIC = DATA / "ctdc-public-kanon-quirks.csv"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _claim_as_lost_worker(task: DBTaskResult, *, attempts: int = 1, host: str | None = None,
                          seen_ago: float = 0, pid: int | None = None) -> None:
    """The task as a worker that claimed it `attempts` times and then vanished would leave it."""
    ids = [f"lost-{i}" for i in range(attempts)]
    for worker_id in ids:
        WorkerHeartbeat.objects.create(worker_id=worker_id, hostname=host or socket.gethostname(),
                                       pid=pid or _dead_pid(), started_at=timezone.now(),
                                       seen_at=timezone.now() - timedelta(seconds=seen_ago))
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", started_at=timezone.now(), worker_ids=ids)


@pytest.fixture
def queued(client):
    """A web upload queued for the worker, and its task."""
    people = make_people()
    client.force_login(people["open-roads"])
    upload(client, PUBLIC, "open-roads", mapping="preset:ctdc-public")
    return Submission.objects.get(), DBTaskResult.objects.get()


def test_a_file_whose_worker_was_killed_is_queued_again_and_validated(queued, figures):
    submission, task = queued
    _claim_as_lost_worker(task)
    Submission.objects.filter(pk=submission.pk).update(status="processing", progress=70)
    run_worker()  # a bare worker does not recover (it is not `ctdc worker`): the task stays claimed
    submission.refresh_from_db()
    assert submission.status == "processing"

    recovered = tasks_recover()
    assert recovered.requeued == [str(task.pk)] and not recovered.failed
    submission.refresh_from_db()
    assert (submission.progress, submission.progress_note) == (0, "Waiting for a worker (the previous one stopped)")
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated" and submission.rows_read == 6 and submission.accepted == 5
    figures(cases=1)


def test_a_file_that_kills_its_worker_every_time_fails_with_a_reason_and_can_be_sent_again(queued, client):
    submission, task = queued
    _claim_as_lost_worker(task, attempts=MAX_ATTEMPTS)
    recovered = tasks_recover()
    assert recovered.failed == [str(task.pk)] and not recovered.requeued
    submission.refresh_from_db()
    assert submission.status == "failed" and submission.error_code == "ingest-error"
    assert submission.error.startswith("ctdc-public-kanon-quirks.csv: the task worker stopped 3 times while "
                                       "processing this file")
    task.refresh_from_db()
    assert task.status == "FAILED" and task.exception_class_path == "ctdc.web.worker.recovery.WorkerLost"
    upload(client, PUBLIC, "open-roads", mapping="preset:ctdc-public")  # sent again: processed as the same one
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated" and Submission.objects.count() == 1


def test_a_worker_elsewhere_is_lost_only_once_silent_and_one_without_a_heartbeat_is_left_alone(queued):
    submission, task = queued
    _claim_as_lost_worker(task, host="another-machine", seen_ago=5, pid=1)
    assert tasks_recover().requeued == []  # beating 5 s ago, on a machine whose processes we cannot see
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=10))
    assert tasks_recover().requeued == [str(task.pk)]

    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", worker_ids=["bare-db-worker"])
    assert tasks_recover().requeued == []


@pytest.fixture
def repository(run_cli):
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    assert run_cli("ingest", str(PUBLIC), "--org", "open-roads", "--preset", "ctdc-public", "--approve").exit_code == 0


def test_a_build_whose_worker_was_killed_ends_failed_and_its_version_is_never_reused(repository, settings):
    build = release_build_enqueue(method="dp-synthetic", epsilon=1.0)
    task = DBTaskResult.objects.get()
    # Killed after it took its version and charged the ledger in that version's name.
    ReleaseBuild.objects.filter(pk=build.pk).update(status="running", host=socket.gethostname(),
                                                    pid=_dead_pid(), version=f"{timezone.now():%Y.%m}.1")
    PrivacyLedgerEntry.objects.create(dataset="victims", purpose=f"release victims {timezone.now():%Y.%m}.1 "
                                      "(dp-synthetic)", epsilon=1.0, delta=1e-8, date=timezone.now())
    _claim_as_lost_worker(task)
    recovered = tasks_recover()
    assert recovered.failed == [str(task.pk)] and recovered.builds == [build.pk]
    build.refresh_from_db()
    assert build.status == "failed" and build.error.startswith("The build stopped (its worker stopped) before it "
                                                               "finished; no release was written.")
    assert build.log.endswith(build.error + "\n")

    settings.CTDC_SUPPRESSION_K = 2  # five records: the checks at k = 11 would refuse the draft
    release = release_build(method="dp-synthetic", epsilon=1.0)
    assert release.version != build.version
    purposes = list(PrivacyLedgerEntry.objects.values_list("purpose", flat=True))
    versions = [p.split()[2] for p in purposes]
    assert len(versions) == len(set(versions)) == 2, purposes


def test_a_build_whose_worker_died_before_starting_it_is_run_again(repository, settings):
    # Found by test_crashes.py on PostgreSQL: a worker killed between claiming the task and starting the build
    # left the build `queued` for ever (the task was failed, the build never looked at).
    settings.CTDC_SUPPRESSION_K = 2
    build = release_build_enqueue(method="k-anonymity")
    task = DBTaskResult.objects.get()
    _claim_as_lost_worker(task)
    assert tasks_recover().requeued == [str(task.pk)]
    run_worker()
    build.refresh_from_db()
    assert build.status == "succeeded" and build.release is not None
