"""Background tasks (django-tasks, database backend; run by `ctdc worker`, which `ctdc serve` starts)."""

from __future__ import annotations

import logging

from django_tasks import task

from ctdc.errors import CtdcError, IngestError
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.rawstore import raw_open

log = logging.getLogger(__name__)


@task()
def submission_process_task(submission_id: int) -> str:
    """Decrypt the raw upload into a temporary file, run the intake pipeline on it, delete the clear copy.

    Returns the final status. A file that cannot be read ends as a `failed` submission with its message, not as a
    failed task: the contributor sees why on the submission's page."""
    from ctdc.web.submissions.services import (
        submission_mark_failed,
        submission_process,
        submission_progress_set,
        submission_spec,
    )

    submission = Submission.objects.select_related("organisation").get(pk=submission_id)
    if submission.status not in (Submission.Status.UPLOADED, Submission.Status.PROCESSING):
        return submission.status  # already handled (a task queued twice)
    submission_progress_set(submission=submission, percent=5, note="Decrypting the upload")
    try:
        with raw_open(name=submission.raw_path, filename=submission.filename) as path:
            spec, saved = submission_spec(submission=submission, path=path)
            submission_process(submission=submission, path=path, spec=spec, saved_mapping=saved)
    except IngestError as exc:
        submission.refresh_from_db()
        if submission.status not in (Submission.Status.FAILED, Submission.Status.NEEDS_MAPPING):
            submission_mark_failed(submission=submission, error=exc)
        log.info("submission %s: not validated (%s)", submission_id, exc.code)
    except Exception as exc:
        # Not re-raised on purpose: the task backend would store the traceback, and an unexpected error's message
        # could quote a cell. The log names the exception type only (logs never carry case values).
        log.error("submission %s: unexpected %s while processing", submission_id, type(exc).__name__)
        submission_mark_failed(submission=submission, error=CtdcError(
            f"{submission.filename}: an unexpected error ({type(exc).__name__}) stopped the processing before the "
            "file was read. Nothing from it entered the central repository. A data steward can find the details in "
            "the worker's log; the file can be sent again.", {"reason": "unexpected", "error": type(exc).__name__}))
    submission.refresh_from_db()
    return submission.status
