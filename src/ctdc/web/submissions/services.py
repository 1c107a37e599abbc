"""Submission services: ingest a contributor file, approve or reject it.

Flow: `submission_ingest` runs the pure intake pipeline, stores the report, the quarantine and the accepted
(already de-identified) records as a staged Parquet file in storage. `submission_approve` moves the staged records
into the central repository (`cases.Victim`), updating records the organisation submitted before.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ctdc.errors import IngestError
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.pipeline import ingest_file
from ctdc.standard import load_standard
from ctdc.web.accounts.models import Organisation
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Problem, QuarantinedRow, Submission

log = logging.getLogger(__name__)
# victim_id is the repository's own random key: set once when a record first arrives, never overwritten.
_VICTIM_FIELDS = [f.name for f in load_standard().dataset("victims").stored_fields if f.name != "victim_id"]


@dataclass(frozen=True)
class IngestOutcome:
    submission: Submission
    created: bool  # False when this exact file had been submitted before: nothing changed


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def submission_ingest(*, organisation: Organisation, path: Path, spec: MappingSpec, filename: str | None = None) -> IngestOutcome:
    """Validate one file for `organisation`. The same file submitted twice returns the first submission."""
    path = Path(path)
    digest = _sha256(path)
    existing = Submission.objects.filter(organisation=organisation, dataset=spec.dataset, sha256=digest).first()
    if existing is not None:
        return IngestOutcome(existing, created=False)
    submission = Submission.objects.create(
        organisation=organisation, dataset=spec.dataset, filename=filename or path.name, sha256=digest,
        size=path.stat().st_size, status=Submission.Status.PROCESSING, mapping_name=spec.name,
        mapping_version=spec.version_hash,
    )
    log.info("submission %s: processing (organisation %s)", submission.pk, organisation.slug)
    try:
        result = ingest_file(path, spec, identity_key=settings.CTDC_IDENTITY_KEY.encode(),
                             defaults={"data_source": organisation.kind})
    except IngestError as exc:
        submission.status = Submission.Status.FAILED
        submission.error = exc.message
        submission.save(update_fields=["status", "error"])
        raise
    stats = dict(result.report.stats)
    stats["ignored_columns"] = result.ignored_columns
    stats["possible_cross_org_duplicates"] = _cross_org_matches(organisation, result.records)
    buf = io.BytesIO()
    result.records.write_parquet(buf)
    staged = default_storage.save(f"submissions/{submission.pk}/accepted.parquet", ContentFile(buf.getvalue()))
    with transaction.atomic():
        Problem.objects.bulk_create(
            (Problem(submission=submission, **p) for p in result.report.problems.iter_rows(named=True)),
            batch_size=2000,
        )
        QuarantinedRow.objects.bulk_create(
            (QuarantinedRow(submission=submission, row=q["row"], record_id=q["record_id"][:128], codes=q["codes"] or "")
             for q in result.quarantine.iter_rows(named=True)),
            batch_size=2000,
        )
        submission.status = Submission.Status.VALIDATED
        submission.rows_read = stats["rows_read"]
        submission.accepted = stats["accepted"]
        submission.quarantined = stats["quarantined"]
        submission.duplicates = stats["duplicates"]
        submission.stats = stats
        submission.read_info = result.read_info
        submission.staged_path = staged
        submission.save()
    log.info("submission %s: validated, %s accepted, %s quarantined, %s duplicates", submission.pk,
             submission.accepted, submission.quarantined, submission.duplicates)
    return IngestOutcome(submission, created=True)


def _cross_org_matches(organisation: Organisation, records: pl.DataFrame) -> int:
    """How many of these records share a keyed identity hash with another organisation's record."""
    hashes = [h for h in records["identity_hash"].drop_nulls().unique().to_list()]
    found = 0
    for start in range(0, len(hashes), 5000):
        chunk = hashes[start:start + 5000]
        found += (Victim.objects.filter(identity_hash__in=chunk).exclude(organisation=organisation)
                  .values("identity_hash").distinct().count())
    return found


@transaction.atomic
def submission_approve(*, submission: Submission) -> int:
    """Move a validated submission's records into the central repository; returns how many were written."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status == Submission.Status.APPROVED:
        return 0
    if submission.status != Submission.Status.VALIDATED:
        raise IngestError(f"Submission {submission.pk} is {submission.status}; only a validated submission can be approved.",
                          {"submission": submission.pk, "status": submission.status})
    with default_storage.open(submission.staged_path, "rb") as fh:
        records = pl.read_parquet(io.BytesIO(fh.read()))
    objs = [
        Victim(organisation_id=submission.organisation_id, submission=submission,
               mapping_version=submission.mapping_version, **row)
        for row in records.select("record_id", "source_row", "identity_hash", *_VICTIM_FIELDS).iter_rows(named=True)
    ]
    Victim.objects.bulk_create(
        objs, batch_size=2000, update_conflicts=True, unique_fields=["organisation", "record_id"],
        update_fields=["submission", "source_row", "mapping_version", "identity_hash", *_VICTIM_FIELDS],
    )
    submission.status = Submission.Status.APPROVED
    submission.decided_at = timezone.now()
    submission.save(update_fields=["status", "decided_at"])
    return len(objs)
