"""Concurrency (issue 18, item 3): the same file sent twice at once, two stewards approving one submission, two DP
builds of one dataset, a release built while files arrive — no duplicate, no lost row, no deadlock, no budget
overspent. Written for PostgreSQL (row locks, READ COMMITTED) and run on SQLite too (one writer at a time).

Each actor is a thread with its own database connection, started together at a barrier. Where the outcome
depends on the interleaving, the interleaving is forced rather than hoped for: an execute wrapper on one
connection holds a statement until the other thread has reached a given point (no sleep, no timing), and the
assertion names every outcome a correct system may give.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.files import File
from django.db import connection, connections

from ctdc.errors import CtdcError
from ctdc.ingest.mapping import load_mapping, load_preset
from ctdc.web.accounts.services import organisation_create
from ctdc.web.audit.models import AuditEvent
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import PrivacyLedgerEntry, Release, ReleaseBuild
from ctdc.web.releases.selectors import release_snapshot
from ctdc.web.releases.services import release_build
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.services import submission_approve, submission_ingest, submission_upload

ITEM = "3 concurrency"
pytestmark = pytest.mark.django_db(transaction=True)
WAIT = 120  # seconds a thread may wait for the other before the test fails: a deadlock, not a slow machine


def _together(*jobs):
    """Run each job in its own thread, started at one barrier; returns each one's result or exception."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait(WAIT)
            return job()
        except Exception as exc:  # the outcome under test: returned, compared by the caller
            return exc
        finally:
            connections.close_all()  # this thread's own connection (the test database is dropped at the end)

    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [f.result(timeout=WAIT * 2) for f in futures]


def _hold_insert_until(event: threading.Event, table: str):
    """Execute wrapper: an INSERT into `table` waits until `event` is set (the other thread got past its check)."""
    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and f'"{table}"' in sql:
            assert event.wait(WAIT), "the other thread never reached its check"
        return execute(sql, params, many, context)
    return wrapper


def _signal_after_select(event: threading.Event, table: str):
    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in sql:
            event.set()
        return result
    return wrapper


@pytest.fixture
def org():
    organisation, _ = organisation_create(slug="open-roads", name="Open Roads", kind="case_management")
    return organisation


def _both_saw_nothing(first, second):
    """Two jobs where `second` checks for the submission before `first` inserts it: both find none."""
    checked = threading.Event()

    def held():
        with connection.execute_wrapper(_hold_insert_until(checked, "submissions_submission")):
            return first()

    def checking():
        with connection.execute_wrapper(_signal_after_select(checked, "submissions_submission")):
            return second()

    return _together(held, checking)


def test_the_same_file_uploaded_twice_at_once_is_one_submission(org, simulated, figures):
    path = simulated[0] / "open-roads.csv"

    def send():
        with path.open("rb") as fh:
            return submission_upload(organisation=org, upload=File(fh, name="open-roads.csv"), dataset="victims",
                                     mapping_choice="preset:kobo-htcds")

    outcomes = _both_saw_nothing(send, send)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Submission.objects.count() == 1
    assert sorted(o.created for o in outcomes) == [False, True]
    assert {o.submission.pk for o in outcomes} == {Submission.objects.get().pk}
    figures(cases=1)


def test_the_same_file_ingested_twice_at_once_is_one_submission(org, simulated, figures):
    path = simulated[0] / "open-roads.csv"

    def ingest():
        return submission_ingest(organisation=org, path=path, spec=load_preset("kobo-htcds"))

    outcomes = _both_saw_nothing(ingest, ingest)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    submission = Submission.objects.get()
    assert submission.status == "validated"
    assert sorted(o.created for o in outcomes) == [False, True]
    assert submission.rows_read == submission.accepted + submission.quarantined + submission.duplicates
    figures(cases=1)


def test_two_stewards_approving_one_submission_write_its_records_once(org, simulated, figures):
    outcome = submission_ingest(organisation=org, path=simulated[0] / "open-roads.csv",
                                spec=load_preset("kobo-htcds"))
    submission = outcome.submission
    approve = lambda: submission_approve(submission=submission, note="approved")  # noqa: E731
    written = _together(approve, approve)
    assert not [w for w in written if isinstance(w, Exception)], written
    submission.refresh_from_db()
    # Whichever came second found it approved already: nothing written twice, one decision in the audit trail.
    assert sorted(written) == [0, submission.accepted]
    assert Victim.objects.count() == submission.accepted
    assert Victim.objects.values("record_id").distinct().count() == submission.accepted
    assert AuditEvent.objects.filter(action="submission.approve").count() == 1
    figures(cases=1, rows_lost=submission.accepted - Victim.objects.count())


def test_two_submissions_of_the_same_records_approved_at_once_write_each_record_once(org, simulated, figures,
                                                                                     tmp_path):
    # The same records in another file (rows in reverse order): a second submission, not the first sent again.
    lines = (simulated[0] / "open-roads.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    again = tmp_path / "open-roads-again.csv"
    again.write_text(lines[0] + "".join(reversed(lines[1:])), encoding="utf-8")
    first, second = (submission_ingest(organisation=org, path=path, spec=load_preset("kobo-htcds")).submission
                     for path in (simulated[0] / "open-roads.csv", again))
    assert first.pk != second.pk and first.accepted == second.accepted
    written = _together(lambda: submission_approve(submission=first), lambda: submission_approve(submission=second))
    # Both go in (on PostgreSQL one waits for the other's lock on the organisation, then updates what it wrote).
    assert not [w for w in written if isinstance(w, Exception)], written
    assert written == [first.accepted, second.accepted]
    assert Victim.objects.count() == Victim.objects.values("record_id").distinct().count() == first.accepted
    figures(cases=1, rows_lost=first.accepted - Victim.objects.count())


@pytest.fixture
def repository(org, simulated):
    submission_approve(submission=submission_ingest(organisation=org, path=simulated[0] / "open-roads.csv",
                                                    spec=load_preset("kobo-htcds")).submission)


def test_two_dp_builds_of_one_dataset_never_overspend_its_budget(repository, settings, figures):
    settings.CTDC_DP_EPSILON_BUDGET = 1.5  # room for one build at epsilon 1, not two
    build = lambda: release_build(method="dp-synthetic", epsilon=1.0)  # noqa: E731
    outcomes = _together(build, build)
    # One builds; the other is refused: while the first runs (one active build per dataset), or, if it starts
    # after, by the budget check or the ledger itself. Never two charges.
    built = [o for o in outcomes if isinstance(o, Release)]
    refused = [o for o in outcomes if isinstance(o, CtdcError)]
    assert len(built) == 1 and len(refused) == 1, outcomes
    ledger = list(PrivacyLedgerEntry.objects.values_list("purpose", "epsilon"))
    assert [p for p, _ in ledger] == [f"release victims {built[0].version} (dp-synthetic)"]
    assert sum(e for _, e in ledger) <= settings.CTDC_DP_EPSILON_BUDGET
    assert not ReleaseBuild.objects.filter(status__in=ReleaseBuild.ACTIVE).exists()
    figures(cases=1)


def test_a_release_built_while_files_arrive_reads_one_instant(repository, simulated, figures):
    folder = simulated[0]
    lakeside, _ = organisation_create(slug="lakeside-helpline", name="Lakeside Helpline", kind="hotline")
    harbour, _ = organisation_create(slug="harbour-light", name="Harbour Light", kind="case_management")
    arriving = submission_ingest(organisation=lakeside, path=folder / "lakeside-helpline.csv",
                                 spec=load_mapping(folder / "lakeside-helpline.mapping.yml")).submission
    before = release_snapshot()[0].height

    def arrive():
        written = submission_approve(submission=arriving)
        submission_ingest(organisation=harbour, path=Path(folder / "harbour-light.xlsx"), spec=load_preset("htcds"))
        return written

    built, written = _together(lambda: release_build(method="k-anonymity"), arrive)
    assert isinstance(built, Release) and written == arriving.accepted, (built, written)
    after = release_snapshot()[0].height
    # The build saw the repository before the approval or after it, never half of it.
    assert built.input_count in (before, after), (built.input_count, before, after)
    approved = Submission.objects.filter(status="approved")
    assert Victim.objects.count() == sum(s.accepted for s in approved)
    assert Victim.objects.values("organisation", "record_id").distinct().count() == Victim.objects.count()
    assert Submission.objects.get(organisation=harbour).status == "validated"
    figures(cases=1, rows_lost=sum(s.accepted for s in approved) - Victim.objects.count())
