"""Submission services: upload or ingest a contributor file, process it, approve or reject it, purge raw files.

Flow: `submission_upload` (web) or `submission_ingest` (CLI) records the submission and keeps the raw file only
encrypted (`rawstore`). `submission_process` runs the pure intake pipeline on it and stores the report, the
quarantine and the accepted (already de-identified) records as a staged Parquet file in storage; on the web it runs
in the background task queue (`tasks.submission_process_task`), updating `Submission.progress`.
`submission_approve` moves the staged records into the central repository (`cases.Victim`), updating records the
organisation submitted before, and flags records that share an identity hash with another organisation's.
"""

from __future__ import annotations

import io
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, NoReturn

import polars as pl
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ctdc.checksums import sha256_stream
from ctdc.errors import CtdcError, IngestError
from ctdc.ingest.detect import detect_preset
from ctdc.ingest.limits import refuse_oversize, refuse_zip_bomb
from ctdc.ingest.mapping import MappingSpec, load_preset, parse_mapping, preset_names
from ctdc.ingest.pipeline import ingest_file
from ctdc.standard import load_standard
from ctdc.web.accounts.models import Organisation
from ctdc.web.accounts.services import agreement_require
from ctdc.web.audit.services import audit_record
from ctdc.web.cases.bulk import BATCH as BULK_BATCH
from ctdc.web.cases.bulk import (
    figures_upsert,
    journey_events_upsert,
    links_upsert,
    perpetrators_upsert,
    recruitment_fees_upsert,
    victims_upsert,
)
from ctdc.web.cases.models import Perpetrator, Victim
from ctdc.web.submissions.forms import STORED_DATASETS
from ctdc.web.submissions.models import DuplicateFlag, Problem, QuarantinedRow, SavedMapping, Submission
from ctdc.web.submissions.rawstore import raw_save
from ctdc.web.submissions.selectors import mapping_latest

log = logging.getLogger(__name__)
# victim_id is the repository's own random key: set once when a record first arrives, never overwritten.
_VICTIM_FIELDS = [f.name for f in load_standard().dataset("victims").stored_fields if f.name != "victim_id"]
_FIGURE_FIELDS = [f.name for f in load_standard().dataset("government_response").stored_fields]
_PERPETRATOR_FIELDS = [f.name for f in load_standard().dataset("perpetrators").stored_fields
                       if f.name != "perpetrator_id"]
# Records a reference may point at, by the dataset the standard's `references` names.
_REFERENCED = {"victims": Victim, "perpetrators": Perpetrator}


@dataclass(frozen=True)
class IngestOutcome:
    submission: Submission
    created: bool  # False when this exact file had been submitted before: nothing changed


def submission_ingest(*, organisation: Organisation, path: Path, spec: MappingSpec, filename: str | None = None,
                      saved_mapping: SavedMapping | None = None) -> IngestOutcome:
    """Validate one file for `organisation` now (the CLI). The same file submitted twice returns the first
    submission. Stored as an upload is (`_submission_store`), then processed here rather than by a worker."""
    path = Path(path)
    choice = f"mapping:{saved_mapping.name}" if saved_mapping else _preset_choice(spec)
    with path.open("rb") as fh:
        outcome = _submission_store(organisation=organisation, source=fh, filename=filename or path.name,
                                    size=path.stat().st_size, dataset=spec.dataset, mapping_choice=choice,
                                    user=None, via="cli", enqueue=False)
    if outcome.created:
        submission_process(submission=outcome.submission, path=path, spec=spec, saved_mapping=saved_mapping)
    return outcome


def upload_digest(source: BinaryIO) -> str:
    """The sha256 that makes a file one submission, read from the start of `source` (an upload or an open file):
    the same for a file sent from the CLI and from the web."""
    source.seek(0)
    digest = sha256_stream(source)
    source.seek(0)
    return digest


def _submission_store(*, organisation: Organisation, source: BinaryIO, filename: str, size: int, dataset: str,
                      mapping_choice: str, user, via: str, enqueue: bool) -> IngestOutcome:
    """Record a submission and keep its raw file encrypted: the one way an upload is stored, from the web
    (`submission_upload`, then queued for a worker) and from the CLI (`submission_ingest`, then processed at once).

    Refused before anything is stored: an organisation without a recorded data-sharing agreement
    (`AgreementMissing`), a file over the upload limits (`UploadTooLarge`: its size, and a zip container's parts).
    The same file (`upload_digest`) twice returns the first submission, unless that one failed: it is taken back."""
    agreement_require(organisation=organisation)
    upload_check(source=source, name=filename, size=size)
    digest = upload_digest(source)
    existing = Submission.objects.filter(organisation=organisation, dataset=dataset, sha256=digest).first()
    if existing is not None and not _retry_failed(existing, mapping_choice=mapping_choice):
        return IngestOutcome(existing, created=False)
    try:
        with transaction.atomic():
            submission = existing or Submission.objects.create(
                organisation=organisation, dataset=dataset, filename=Path(filename or "upload").name[:255],
                sha256=digest, size=size, mapping_choice=mapping_choice, uploaded_by=user,
                progress_note="Waiting for a worker",
            )
            source.seek(0)
            submission.raw_path = raw_save(name=_raw_name(submission), source=source)
            submission.save(update_fields=["raw_path"])
            audit_record(actor=user, action="submission.upload", target_type="submission", target_id=submission.pk,
                         organisation=organisation, details={"dataset": dataset, "bytes": submission.size,
                                                             "via": via})
            if enqueue:
                _enqueue(submission)
    except IntegrityError:
        if existing is not None:
            raise
        return IngestOutcome(_sent_at_once(organisation, dataset, digest), created=False)
    log.info("submission %s: uploaded (organisation %s, via %s)", submission.pk, organisation.slug, via)
    return IngestOutcome(submission, created=True)


def _sent_at_once(organisation: Organisation, dataset: str, digest: str) -> Submission:
    """The submission another request created for the same file between our check and our insert (a double
    click, two tabs, a script sending twice at once): the unique constraint refused ours, so that one is the
    answer, as for any file sent twice (issue 18, item 3)."""
    submission = Submission.objects.filter(organisation=organisation, dataset=dataset, sha256=digest).first()
    if submission is None:  # refused for another reason: not ours to hide
        raise IntegrityError(f"submission of {digest[:12]} refused by the database")
    log.info("submission %s: the same file was sent twice at once", submission.pk)
    return submission


def _retry_failed(submission: Submission, *, mapping_choice: str) -> bool:
    """Take back a failed submission for processing when its file is sent again; False if it did not fail.

    The same file is one submission (a unique constraint), so a file that could not be read, or whose processing
    crashed, is retried in place rather than answered with its old failure for ever.
    """
    retried = Submission.objects.filter(pk=submission.pk, status=Submission.Status.FAILED).update(
        status=Submission.Status.UPLOADED, mapping_choice=mapping_choice, progress=0,
        progress_note="Waiting for a worker", error="")
    if retried:
        submission.refresh_from_db()
        log.info("submission %s: sent again after a failure", submission.pk)
    return bool(retried)


def _preset_choice(spec: MappingSpec) -> str:
    """'preset:<name>' when `spec` is a shipped preset; '' (choose again to re-process) for a mapping file."""
    if spec.name in preset_names() and load_preset(spec.name).text == spec.text:
        return f"preset:{spec.name}"
    return ""


def _raw_name(submission: Submission) -> str:
    return f"submissions/{submission.pk}/raw.enc"


def submission_upload(*, organisation: Organisation, upload: File, dataset: str, mapping_choice: str,
                      user=None, via: str = "web") -> IngestOutcome:
    """Keep an uploaded file (encrypted) and queue its processing. The same file twice returns the first.

    A file over the upload limits is refused (`UploadTooLarge`) before it is stored, and so is every file of an
    organisation whose data-sharing agreement is not recorded (`AgreementMissing`, CTDC_REQUIRE_AGREEMENT)."""
    return _submission_store(organisation=organisation, source=upload, filename=upload.name or "upload",
                             size=upload.size or 0, dataset=dataset, mapping_choice=mapping_choice, user=user,
                             via=via, enqueue=True)


def upload_check(*, source: BinaryIO, name: str, size: int) -> None:
    """Refuse a file over the limits: its size, and for a zip container (XLSX, ODS) what its directory declares and
    its parts really inflate to (entries, unpacked bytes; counted, nothing kept: `ctdc.ingest.limits`)."""
    limits = settings.CTDC_UPLOAD_LIMITS
    name = Path(name or "upload").name
    refuse_oversize(name=name, size=size, limits=limits)
    source.seek(0)
    if source.read(4) == b"PK\x03\x04":
        source.seek(0)
        refuse_zip_bomb(source, limits, name=name)
    source.seek(0)


def _enqueue(submission: Submission) -> None:
    from ctdc.web.submissions.tasks import submission_process_task

    pk = submission.pk
    transaction.on_commit(lambda: submission_process_task.enqueue(submission_id=pk))


@transaction.atomic
def submission_reprocess(*, submission: Submission, mapping_choice: str | None = None) -> Submission:
    """Queue a submission again from its encrypted raw file (e.g. after a mapping change)."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status in (Submission.Status.APPROVED, Submission.Status.PROCESSING):
        raise IngestError(f"Submission {submission.pk} is {submission.status}; only a validated, rejected, failed "
                          "or needs-mapping submission can be re-processed. Upload a corrected file instead.",
                          {"submission": submission.pk, "status": submission.status})
    if not submission.raw_path:
        raise IngestError(f"The raw file of submission {submission.pk} was purged after the retention period; "
                          "upload it again.", {"submission": submission.pk})
    submission.status = Submission.Status.UPLOADED
    submission.progress, submission.progress_note, submission.error = 0, "Waiting for a worker", ""
    submission.error_code, submission.error_extra = "", {}
    if mapping_choice:
        submission.mapping_choice = mapping_choice
    submission.save(update_fields=["status", "progress", "progress_note", "error", "error_code", "error_extra",
                                   "mapping_choice"])
    _enqueue(submission)
    return submission


def submission_spec(*, submission: Submission, path: Path) -> tuple[MappingSpec, SavedMapping | None]:
    """The mapping the submission's `mapping_choice` names (a saved mapping's latest version, or a preset)."""
    return mapping_resolve(organisation=submission.organisation, path=path, choice=submission.mapping_choice)


def mapping_resolve(*, organisation: Organisation, path: Path, choice: str = "", text: str | None = None,
                    source: str = "", save_as: str = "", user=None) -> tuple[MappingSpec, SavedMapping | None]:
    """The mapping a file is read with, and the saved mapping it is when it is one: the one way the CLI and the
    web task choose it.

    `text`: a mapping spec given as text (the CLI's --mapping FILE; `source` names it in errors). Otherwise
    `choice`: 'mapping:NAME' (the organisation's saved mapping NAME, latest version), 'preset:NAME', or anything
    else (detected from the file's header and values, `detect_preset`). With `save_as`, the mapping is also
    saved as the organisation's mapping of that name (a new version if changed) and read as that saved version.
    """
    saved = None
    kind, _, name = choice.partition(":")
    if text is not None:
        spec = parse_mapping(text, name=Path(source).name if source else "mapping", source=source or "mapping")
    elif kind == "mapping":
        saved = mapping_latest(organisation=organisation, name=name)
        spec = parse_mapping(saved.text, name=saved.name, source=f"mapping {saved.name}")
    elif kind == "preset":
        spec = load_preset(name)
    else:
        spec = detect_preset(path)
    if save_as:
        saved, _ = mapping_save(organisation=organisation, name=save_as, text=spec.text, user=user)
        spec = parse_mapping(saved.text, name=saved.name, source=f"mapping {saved.name}")
    return spec, saved


def record_id_owner(organisation: Organisation) -> str:
    """What binds record-id hashes to one organisation: its primary key, which never changes (a slug may).
    Migration cases/0003 hashed the ids stored before with the same string."""
    return f"organisation-{organisation.pk}"


def submission_progress_set(*, submission: Submission, percent: int, note: str) -> None:
    # A plain UPDATE outside any transaction, so the page polling the submission sees it at once.
    Submission.objects.filter(pk=submission.pk).update(progress=percent, progress_note=note)


def submission_rows_set(*, submission: Submission, rows: int) -> None:
    """Record the rows read and checked so far (the pipeline calls this after each piece of the file)."""
    submission.rows_done = rows  # kept by the save that ends the processing
    # A plain UPDATE outside any transaction, as `submission_progress_set`: any web process sees it at once.
    Submission.objects.filter(pk=submission.pk).update(rows_done=rows)


def submission_process(*, submission: Submission, path: Path, spec: MappingSpec,
                       saved_mapping: SavedMapping | None = None) -> Submission:
    """Run the intake pipeline on `path` for an existing submission, replacing any earlier report.

    Whatever stops it, the submission ends `failed` with a reason (never left `processing`) and `IngestError` is
    raised: a file that cannot be read says why; an unexpected error names only its type and the stage, because
    its text could quote a cell of the file.
    """
    stage = ["reading and validating the file"]
    try:
        return _process(submission, path, spec, saved_mapping, stage)
    except IngestError as exc:
        if not Submission.objects.filter(pk=submission.pk, status__in=[Submission.Status.FAILED,
                                                                       Submission.Status.NEEDS_MAPPING]).exists():
            submission_mark_failed(submission=submission, error=exc)
        raise
    except Exception as exc:
        log.error("submission %s: unexpected %s while %s; traceback without its message (which could quote a "
                  "cell):\n%s", submission.pk, type(exc).__name__, stage[0],
                  "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        message = (f"{submission.filename}: an unexpected error ({type(exc).__name__}) stopped the processing while "
                   f"{stage[0]}. Nothing from this file entered the central repository. A data steward can find the "
                   "details in the log; the file can be sent again.")
        error = IngestError(message, {"submission": submission.pk, "stage": stage[0], "error": type(exc).__name__,
                                      "reason": "unexpected"})
        submission_mark_failed(submission=submission, error=error)
        raise error from None


def _process(submission: Submission, path: Path, spec: MappingSpec, saved_mapping: SavedMapping | None,
             stage: list[str]) -> Submission:
    submission.status = Submission.Status.PROCESSING
    submission.mapping_name, submission.mapping_version = spec.name, spec.version_hash
    submission.saved_mapping = saved_mapping
    submission.progress, submission.progress_note, submission.error = 10, "Reading, mapping and validating", ""
    submission.error_code, submission.error_extra, submission.rows_done = "", {}, 0
    submission.save(update_fields=["status", "mapping_name", "mapping_version", "saved_mapping", "progress",
                                   "progress_note", "error", "error_code", "error_extra", "rows_done"])
    log.info("submission %s: processing (organisation %s)", submission.pk, submission.organisation.slug)
    if spec.dataset != submission.dataset:
        _fail(submission, IngestError(f"The mapping is for dataset '{spec.dataset}', not '{submission.dataset}'.",
                                      {"reason": "wrong-dataset", "mapping_dataset": spec.dataset,
                                       "dataset": submission.dataset}))
    try:
        result = ingest_file(path, spec, identity_key=settings.CTDC_IDENTITY_KEY.encode(),
                             organisation=record_id_owner(submission.organisation),
                             defaults={"data_source": submission.organisation.kind},
                             limits=settings.CTDC_UPLOAD_LIMITS,
                             known=_known_references(submission.organisation),
                             progress=lambda rows: submission_rows_set(submission=submission, rows=rows))
    except IngestError as exc:
        _fail(submission, exc)
    # Nothing here looks at other organisations' records: what validation stores and shows the contributor must
    # be the same whether or not someone else holds the same person (cross-organisation matches are for
    # stewards only, `selectors.cross_org_match_count`, and become flags at approval).
    stats = dict(result.report.stats)
    stats["ignored_columns"] = result.ignored_columns
    stage[0] = "storing the report and the accepted records"
    submission_progress_set(submission=submission, percent=70, note="Storing the report and the accepted records")
    buf = io.BytesIO()
    # Row groups of one approval batch: approval reads the file a group at a time (`cases.bulk`).
    result.records.write_parquet(buf, row_group_size=BULK_BATCH)
    name = f"submissions/{submission.pk}/accepted.parquet"
    if default_storage.exists(name):
        default_storage.delete(name)
    staged = default_storage.save(name, ContentFile(buf.getvalue()))
    # The linked dataset types the same rows made (a condensed layout): staged beside, approved with them.
    for dataset, frame in result.linked.items():
        linked_buf = io.BytesIO()
        frame.write_parquet(linked_buf)
        linked_name = _linked_name(submission, dataset)
        if default_storage.exists(linked_name):
            default_storage.delete(linked_name)
        default_storage.save(linked_name, ContentFile(linked_buf.getvalue()))
    with transaction.atomic():
        submission.problems.all().delete()
        submission.quarantine.all().delete()
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
        submission.progress, submission.progress_note = 100, "Validated"
        submission.processed_at = timezone.now()
        submission.save()
    log.info("submission %s: validated, %s accepted, %s quarantined, %s duplicates", submission.pk,
             submission.accepted, submission.quarantined, submission.duplicates)
    return submission


def _linked_name(submission: Submission, dataset: str) -> str:
    return f"submissions/{submission.pk}/accepted-{dataset}.parquet"


def _known_references(organisation: Organisation):
    """The pipeline's `known` callback: which of these keyed hashes are records of `organisation` in the
    repository. A contributor's links point only at its own records."""
    def known(dataset: str, hashes: list[str]) -> set[str]:
        model = _REFERENCED.get(dataset)
        if model is None:
            return set()
        found: set[str] = set()
        for start in range(0, len(hashes), 5000):
            found.update(model.objects.filter(organisation=organisation, record_id__in=hashes[start:start + 5000])
                         .values_list("record_id", flat=True))
        return found
    return known


def _fail(submission: Submission, exc: CtdcError) -> NoReturn:
    submission_mark_failed(submission=submission, error=exc)
    exc.extra.setdefault("submission", submission.pk)
    raise exc


def submission_mark_failed(*, submission: Submission, error: CtdcError) -> Submission:
    """Record why a file could not be processed: the message in words for the page (what happened, what to do),
    the error's stable code and context as they are.

    A file no preset fits, or one a preset would read only in part (`MappingNeeded`), is no failure: the
    submission waits for a mapping."""
    from ctdc.errors import MappingNeeded
    from ctdc.web.submissions.messages import for_people

    needs_mapping = isinstance(error, MappingNeeded) or error.extra.get("reason") == "no-preset-matches"
    submission.status = Submission.Status.NEEDS_MAPPING if needs_mapping else Submission.Status.FAILED
    submission.error = for_people(error, filename=submission.filename)
    submission.error_code, submission.error_extra = error.code, _json_safe(error.extra)
    submission.progress = 100
    submission.progress_note = "Waiting for a mapping" if needs_mapping else "Could not be read"
    submission.processed_at = timezone.now()
    submission.save(update_fields=["status", "error", "error_code", "error_extra", "progress", "progress_note",
                                   "processed_at"])
    log.info("submission %s: %s", submission.pk, submission.status)
    return submission


def _json_safe(extra: dict) -> dict:
    return {k: v if isinstance(v, str | int | float | bool | list | dict | type(None)) else str(v)
            for k, v in extra.items()}


@transaction.atomic
def submission_approve(*, submission: Submission, user=None, note: str = "") -> int:
    """Move a validated submission's records into the central repository; returns how many were written."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status == Submission.Status.APPROVED:
        return 0
    if submission.status != Submission.Status.VALIDATED:
        raise IngestError(f"Submission {submission.pk} is {submission.status}; only a validated submission can be approved.",
                          {"submission": submission.pk, "status": submission.status})
    with default_storage.open(submission.staged_path, "rb") as fh:
        staged = fh.read()  # compressed: the victims' records are decoded a batch at a time, by `victims_upsert`
    records = pl.read_parquet(io.BytesIO(staged)) if submission.dataset != "victims" else None
    if submission.dataset == "government_response":
        # Published aggregates: no person, so no identity hash and no cross-organisation flags.
        written = figures_upsert(records=records, organisation_id=submission.organisation_id,
                                 submission_id=submission.pk, mapping_version=submission.mapping_version,
                                 fields=_FIGURE_FIELDS)
    elif submission.dataset == "victims":
        # The database's bulk path (COPY / executemany), inside this transaction: all of it or nothing.
        written = victims_upsert(records=pl.scan_parquet(io.BytesIO(staged)), organisation_id=submission.organisation_id,
                                 submission_id=submission.pk, mapping_version=submission.mapping_version,
                                 fields=_VICTIM_FIELDS)
        # Perpetrators and links the same rows made (preset ctdc-vp): after the victims they refer to, in order.
        for dataset in ("perpetrators", "victim_perpetrator_links"):
            if dataset in (submission.stats or {}).get("linked_records", {}):
                with default_storage.open(_linked_name(submission, dataset), "rb") as fh:
                    written += _linked_write(submission, dataset, pl.read_parquet(io.BytesIO(fh.read())))
    elif submission.dataset in ("perpetrators", "victim_perpetrator_links", "journey_events", "recruitment_fees"):
        written = _linked_write(submission, submission.dataset, records)
    else:
        raise IngestError(f"Submission {submission.pk} is of dataset '{submission.dataset}', which the central "
                          f"repository cannot hold yet (it holds {', '.join(STORED_DATASETS)}).",
                          {"submission": submission.pk, "dataset": submission.dataset})
    submission.status = Submission.Status.APPROVED
    submission.decided_at, submission.decided_by, submission.decision_note = timezone.now(), _user(user), note
    submission.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    flags = _duplicate_flags_create(submission) if submission.dataset == "victims" else 0
    audit_record(actor=user, action="submission.approve", target_type="submission", target_id=submission.pk,
                 note=note, organisation=submission.organisation, details={"records": written, "cross_org_flags": flags})
    log.info("submission %s: approved, %s records, %s new cross-organisation flags", submission.pk, written, flags)
    return written


def _linked_write(submission: Submission, dataset: str, records: pl.DataFrame) -> int:
    common = {"records": records, "organisation_id": submission.organisation_id, "submission_id": submission.pk,
              "mapping_version": submission.mapping_version}
    if dataset == "perpetrators":
        return perpetrators_upsert(**common, fields=_PERPETRATOR_FIELDS)
    if dataset == "journey_events":
        return journey_events_upsert(**common)
    if dataset == "recruitment_fees":
        return recruitment_fees_upsert(**common)
    return links_upsert(**common)


def _duplicate_flags_create(submission: Submission) -> int:
    """Flag each pair (this submission's record, another organisation's record) sharing an identity hash; returns
    how many new flags there are.

    One `INSERT ... SELECT` over the identity-hash index: the pairs never travel through Python (a 250,000-row
    submission used to load every hash, then ask for the others 5,000 at a time). A pair flagged before stays as
    it is, decision included (the unique constraint on the ordered pair, `ON CONFLICT DO NOTHING`).
    """
    q = connection.ops.quote_name
    low, high = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    sql = (f"INSERT INTO {q(DuplicateFlag._meta.db_table)} ({q('record_id')}, {q('other_id')}, {q('identity_hash')}, "
           f"{q('submission_id')}, {q('status')}, {q('note')}, {q('created_at')}) "
           f"SELECT {low}(a.{q('id')}, b.{q('id')}), {high}(a.{q('id')}, b.{q('id')}), a.{q('identity_hash')}, %s, %s, "
           f"'', %s FROM {q(Victim._meta.db_table)} a JOIN {q(Victim._meta.db_table)} b "
           f"ON b.{q('identity_hash')} = a.{q('identity_hash')} AND b.{q('organisation_id')} <> a.{q('organisation_id')} "
           f"WHERE a.{q('submission_id')} = %s AND a.{q('identity_hash')} IS NOT NULL ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [submission.pk, DuplicateFlag.Status.OPEN.value,
                             connection.ops.adapt_datetimefield_value(timezone.now()), submission.pk])
        return max(cursor.rowcount, 0)


@transaction.atomic
def submission_reject(*, submission: Submission, user=None, note: str = "") -> Submission:
    """A steward refuses a validated submission: nothing enters the central repository."""
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != Submission.Status.VALIDATED:
        raise IngestError(f"Submission {submission.pk} is {submission.status}; only a validated submission can be "
                          "rejected.", {"submission": submission.pk, "status": submission.status})
    submission.status = Submission.Status.REJECTED
    submission.decided_at, submission.decided_by, submission.decision_note = timezone.now(), _user(user), note
    submission.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    audit_record(actor=user, action="submission.reject", target_type="submission", target_id=submission.pk,
                 note=note, organisation=submission.organisation, details={"accepted": submission.accepted, "quarantined": submission.quarantined})
    return submission


def _user(user):
    """The user to store on a decision row: a real account, or nobody (a command run without one)."""
    return user if getattr(user, "is_authenticated", False) else None


def submission_raw_purge(*, older_than: datetime, dry_run: bool = False) -> list[int]:
    """Delete the encrypted raw files of submissions created before `older_than`; returns their ids."""
    due = list(Submission.objects.filter(created_at__lt=older_than).exclude(raw_path="")
               .exclude(status__in=[Submission.Status.UPLOADED, Submission.Status.PROCESSING])
               .order_by("pk").values_list("pk", "raw_path"))
    if dry_run:
        return [pk for pk, _ in due]
    for pk, name in due:
        if default_storage.exists(name):
            default_storage.delete(name)
        Submission.objects.filter(pk=pk).update(raw_path="", raw_purged_at=timezone.now())
        log.info("submission %s: raw upload purged", pk)
    return [pk for pk, _ in due]


@transaction.atomic
def mapping_save(*, organisation: Organisation, name: str, text: str, user=None) -> tuple[SavedMapping, bool]:
    """Save `text` as the newest version of mapping `name` (checked with parse_mapping; MappingError if bad).

    Returns (version, created); saving unchanged text returns the existing version."""
    spec = parse_mapping(text, name=name, source=f"mapping {name}")
    existing = SavedMapping.objects.filter(organisation=organisation, name=name, version_hash=spec.version_hash).first()
    if existing is not None:
        return existing, False
    saved = SavedMapping.objects.create(organisation=organisation, name=name, text=text,
                                        version_hash=spec.version_hash, created_by=user)
    audit_record(actor=user, action="mapping.save", target_type="mapping", target_id=saved.pk,
                 organisation=organisation, details={"name": name, "version": spec.version_hash})
    return saved, True


@transaction.atomic
def duplicate_flag_decide(*, flag: DuplicateFlag, status: str, user=None, note: str = "") -> DuplicateFlag:
    """A steward's verdict on a flagged pair. It is recorded only: records are never merged."""
    if status not in (DuplicateFlag.Status.CONFIRMED, DuplicateFlag.Status.DISMISSED, DuplicateFlag.Status.OPEN):
        raise IngestError(f"Unknown verdict '{status}'.", {"status": status})
    previous = flag.status
    # Reopening is a decision too: who reopened it and when are kept (and in the audit trail).
    flag.status, flag.note = status, note
    flag.decided_by, flag.decided_at = _user(user), timezone.now()
    flag.save(update_fields=["status", "note", "decided_by", "decided_at"])
    audit_record(actor=user, action=f"duplicate_flag.{'reopen' if status == DuplicateFlag.Status.OPEN else status}",
                 target_type="duplicate_flag", target_id=flag.pk, note=note,
                 details={"from": previous, "to": status})
    return flag
