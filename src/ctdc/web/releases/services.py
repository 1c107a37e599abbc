"""Release services: build a release from the central repository, publish, withdraw, verify.

A build is a `ReleaseBuild` row first: the database refuses a second active build of the same dataset (a partial
unique constraint), whoever starts it (CLI, steward page, task queue). The pure core writes the folder atomically;
only after the rename is the `Release` row written, and only a release whose disclosure checks passed can be
published.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from ctdc.errors import BuildCancelled, CtdcError, DisclosureCheckFailed, ReleaseError
from ctdc.privacy.budget import DEFAULT_EPSILON, Budget
from ctdc.release.build import build_release, next_version, remove_stale_temporaries
from ctdc.release.checks import public_checks
from ctdc.release.fees import build_fee_release
from ctdc.release.linked import LEDGER_DATASET, is_linked
from ctdc.release.methods import METHODS, MethodParams
from ctdc.release.package import report_html
from ctdc.release.params import DP_METHODS, check_build_params
from ctdc.release.published import METHOD as PUBLISHED
from ctdc.release.published import build_published_release, is_published_aggregate
from ctdc.web.audit.services import actor_name, audit_record
from ctdc.web.releases.ledger import repository_ledger
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.releases.selectors import release_contributors, release_get, release_snapshot
from ctdc.web.releases.store import release_json, release_problems, release_store, steward_report_store
from ctdc.web.worker.recovery import release_builds_reap

FEES = "recruitment_fees"  # released as protected statistics (ctdc.release.fees), not rows

log = logging.getLogger(__name__)


DEFAULT_LENGTH = 3


def _params(*, dataset: str, method: str, k: int | None, epsilon: float | None, length: int | None,
            seed: int | None = None, delta: float | None = None) -> dict:
    """The build's parameters: defaults only for those not given (None); the result checked against the bounds
    (`ctdc.release.params`) and, for a DP method, the dataset's remaining privacy budget."""
    params = {"k": settings.CTDC_SUPPRESSION_K if k is None else k,
              "epsilon": DEFAULT_EPSILON if epsilon is None else epsilon,
              "length": DEFAULT_LENGTH if length is None else length, "seed": 0 if seed is None else seed}
    if delta is not None:
        params["delta"] = delta
    # A linked release (perpetrators) protects victims: it spends the victims' budget (ctdc.release.linked).
    # Linked tables and fees belong to victims: their DP releases spend the victims' budget.
    ledger_dataset = LEDGER_DATASET if is_linked(dataset) or dataset == FEES else dataset
    remaining = repository_ledger().remaining(ledger_dataset) if method in DP_METHODS else None
    check_build_params(method=method, k=params["k"], epsilon=params["epsilon"], delta=delta,
                       length=params["length"], seed=params["seed"], remaining=remaining)
    return params


def release_build_create(*, dataset: str = "victims", method: str | None = None, k: int | None = None,
                         epsilon: float | None = None, length: int | None = None, seed: int | None = None,
                         delta: float | None = None, notes: str = "", publish: bool = False,
                         requested_by: str = "") -> ReleaseBuild:
    """Reserve the dataset for one build; refused cleanly when another build of it is queued or running, or when
    a parameter is out of bounds (`InvalidPrivacyParameter`, every bad parameter in `extra["errors"]`).

    `method` defaults to k-anonymity; a dataset of published aggregates (`government_response`) has one method
    only, `as-published`: it holds no person, and is released as validated (`ctdc.release.published`)."""
    if is_published_aggregate(dataset):
        if method not in (None, PUBLISHED):
            raise ReleaseError(f"Dataset '{dataset}' holds published aggregates (no person): it is released as "
                               f"published (method {PUBLISHED}), never through '{method}'.",
                               {"dataset": dataset, "method": method,
                                "errors": {"method": f"Use {PUBLISHED} (or give no method)."}})
        method, params = PUBLISHED, {}
    else:
        method = method or "k-anonymity"
        if method not in METHODS:
            raise ReleaseError(f"Unknown release method '{method}'. Known: {', '.join(sorted(METHODS))}.",
                               {"method": method, "errors": {"method": "Choose one of the listed methods."}})
        params = _params(dataset=dataset, method=method, k=k, epsilon=epsilon, length=length, seed=seed,
                         delta=delta)
    # A build whose process died on this machine (kill -9, power cut) no longer blocks the dataset.
    release_builds_reap(dataset=dataset)
    try:
        with transaction.atomic():
            return ReleaseBuild.objects.create(
                dataset=dataset, method=method, params=params,
                notes=notes, publish=publish, requested_by=requested_by)
    except IntegrityError:
        active = ReleaseBuild.objects.filter(dataset=dataset, status__in=ReleaseBuild.ACTIVE).first()
        raise ReleaseError(
            f"A build of {dataset} is already {active.status if active else 'running'} "
            f"(build {active.pk if active else '?'}); wait for it to finish.",
            {"dataset": dataset, "build": active.pk if active else None}) from None


def release_build_enqueue(**kwargs) -> ReleaseBuild:
    """Create a build and queue it for the background worker (`ctdc worker`)."""
    from ctdc.web.releases.tasks import release_build_task

    build = release_build_create(**kwargs)
    result = release_build_task.enqueue(build.pk)
    ReleaseBuild.objects.filter(pk=build.pk).update(task_id=str(result.id))
    build.refresh_from_db()
    return build


# From this stage on the folder is being moved into place: a cancel request no longer stops the build.
LAST_CANCELLABLE_PERCENT = 94


def _log(build: ReleaseBuild, percent: int, message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    line = f"{stamp} {percent:3d}% {message}\n"
    build.progress = percent
    build.log += line
    # Appended in the database, not rewritten: a steward's cancel note written meanwhile stays in the log.
    ReleaseBuild.objects.filter(pk=build.pk).update(progress=percent, log=Concat(F("log"), Value(line)))
    log.info("release build %s: %s%% %s", build.pk, percent, message)


def _progress(build: ReleaseBuild, percent: int, message: str) -> None:
    """Progress callback of a running build; also where a steward's cancel request takes effect.

    Raising here unwinds the pure core, which deletes its temporary folder: no release is written.
    """
    if percent <= LAST_CANCELLABLE_PERCENT and ReleaseBuild.objects.filter(pk=build.pk, cancel_requested=True).exists():
        raise BuildCancelled(f"Cancelled at {build.progress}%; no release was written.", {"build": build.pk})
    _log(build, percent, message)


def release_build_cancel(*, build_id: int, by: str = "") -> ReleaseBuild:
    """Cancel a build: a queued one never starts; a running one stops at its next stage, writing nothing.

    Privacy budget that a dp-synthetic build already spent stays in the ledger (the computation happened).
    """
    who = f" by {by}" if by else ""
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    with transaction.atomic():
        try:
            build = ReleaseBuild.objects.select_for_update().get(pk=build_id)
        except ReleaseBuild.DoesNotExist:
            raise ReleaseError(f"No release build {build_id}.", {"build": build_id}) from None
        if build.status == ReleaseBuild.Status.QUEUED:
            build.status, build.finished_at = ReleaseBuild.Status.CANCELLED, timezone.now()
            build.error = f"Cancelled{who} before it started."
            build.log += f"{stamp}   0% {build.error}\n"
        elif build.status == ReleaseBuild.Status.RUNNING:
            build.cancel_requested = True
            build.log += f"{stamp} {build.progress:3d}% Cancel requested{who}; the build stops at its next stage.\n"
        else:
            raise ReleaseError(f"Build {build_id} has already ended ({build.get_status_display().lower()}).",
                               {"build": build_id, "status": build.status})
        build.save(update_fields=["status", "finished_at", "error", "log", "cancel_requested"])
    return build


def release_build_run(*, build_id: int) -> ReleaseBuild:
    """Run one build: snapshot, protect, check, write the folder atomically, record the release.

    Never raises for a data or privacy problem: the outcome (succeeded, refused, failed) is on the build row.
    """
    build = ReleaseBuild.objects.get(pk=build_id)
    # Only a build still queued starts (a cancelled one never does, even if the worker already picked it up).
    started = ReleaseBuild.objects.filter(pk=build.pk, status=ReleaseBuild.Status.QUEUED).update(
        status=ReleaseBuild.Status.RUNNING, started_at=timezone.now(), host=socket.gethostname(), pid=os.getpid())
    build.refresh_from_db()
    if not started:
        return build
    try:
        _progress(build, 1, "Taking a snapshot of the approved records")
        frame, inputs = release_snapshot(dataset=build.dataset)
        _progress(build, 5, f"Snapshot: {frame.height} approved records")
        dataset, root = build.dataset, settings.CTDC_RELEASES_DIR
        # Holding the dataset's only active build, this build may clear what killed builds left behind.
        for name in remove_stale_temporaries(root, dataset):
            _log(build, 5, f"Removed {name}, left by a build that stopped before it finished")
        # Versions already on disk count too: a folder may outlive its database row (a restored backup, a test).
        folder = root / dataset
        on_disk = [p.name for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
        known = list(Release.objects.filter(dataset=dataset).values_list("version", flat=True))
        # And versions taken by earlier builds that stopped before writing anything (killed, failed): a DP build
        # may have charged the ledger in that version's name, so it is never reused (issue 18, item 2).
        known += ReleaseBuild.objects.filter(dataset=dataset).exclude(version="").values_list("version", flat=True)
        now = datetime.now(UTC)
        version = next_version(known + on_disk, now)
        ReleaseBuild.objects.filter(pk=build.pk).update(version=version)
        previous = Release.objects.filter(dataset=dataset).exclude(status=Release.Status.DRAFT).first()
        prev_meta = release_json(release=previous, name="metadata.json") if previous else None
        p = build.params
        if build.method == PUBLISHED:
            built = build_published_release(
                frame, root=root, dataset=dataset, version=version, notes=build.notes, now=now, previous=prev_meta,
                progress=lambda pct, msg: _progress(build, pct, msg))
        elif dataset == FEES:
            built = build_fee_release(
                frame, root=root, version=version, method=build.method,
                params=MethodParams(k=p["k"], budget=Budget.dp(p["epsilon"], p.get("delta")),
                                    ledger=repository_ledger(),
                                    purpose=f"release {dataset} {version} ({build.method})"),
                notes=build.notes, now=now, previous=prev_meta,
                progress=lambda pct, msg: _progress(build, pct, msg))
        else:
            built = build_release(
                frame, root=root, dataset=dataset, version=version, method=build.method,
                params=MethodParams(k=p["k"], budget=Budget.dp(p["epsilon"], p.get("delta")), length=p["length"],
                                    seed=p.get("seed", 0), ledger=repository_ledger(),
                                    purpose=f"release {dataset} {version} ({build.method})"),
                notes=build.notes, now=now, previous=prev_meta, inputs=inputs,
                contributors=release_contributors(dataset=dataset),
                progress=lambda pct, msg: _progress(build, pct, msg))
        files = [{"name": f.name, "bytes": f.stat().st_size} for f in sorted(built.path.iterdir())]
        release_path = str(built.path.relative_to(root))
        release_store(folder=built.path, release_path=release_path)
        # Everything computed on the input goes to the steward storage, never into the release folder.
        steward_report_store(release_path=release_path, report=built.steward_report,
                             html=report_html(built.steward_report, steward=True))
        # The database row flips only after the folder is complete and in place (and copied to the storage).
        with transaction.atomic():
            release = Release.objects.create(
                dataset=dataset, version=version, status=Release.Status.DRAFT, method=build.method,
                params=built.metadata["params"], path=release_path, summary=built.summary,
                record_count=built.metadata["records"], input_count=frame.height,
                standard_version=built.metadata["standard_version"], notes=build.notes,
                previous_version=prev_meta["version"] if prev_meta else "",
                checks=public_checks(built.checks), checks_passed=built.checks_passed,
                files=files, size_bytes=sum(f["bytes"] for f in files))
            build.release = release
            ReleaseBuild.objects.filter(pk=build.pk).update(release=release)
            audit_record(actor=build.requested_by or "cli", action="release.build", target_type="release",
                         target_id=f"{dataset} {version}",
                         details={"build": build.pk, "method": build.method, "records": release.record_count,
                                  "checks_passed": built.checks_passed})
        for c in built.checks:
            _log(build, 100, f"Check {c.id}: {'passed' if c.passed else 'FAILED'}"
                             f"{'' if c.blocking else ' (advisory)'}: {c.detail}")
        if build.publish:
            release_publish(dataset=dataset, version=version, by=build.requested_by or "cli",
                            note=f"published by build {build.pk} when every check passed")
            _log(build, 100, f"Published {dataset} {version}")
        status = ReleaseBuild.Status.SUCCEEDED
        error = ""
    except BuildCancelled as exc:
        status, error = ReleaseBuild.Status.CANCELLED, exc.message
        _log(build, build.progress, exc.message)
    except DisclosureCheckFailed as exc:
        status, error = ReleaseBuild.Status.REFUSED, exc.message
        _log(build, 100, f"Not published: {exc.message}")
    except CtdcError as exc:
        status, error = ReleaseBuild.Status.FAILED, exc.message
        _log(build, build.progress, f"Failed: {exc.message}")
    except Exception as exc:  # the row must not stay 'running' forever; the traceback goes to the worker's log
        log.exception("release build %s crashed", build.pk)
        status, error = ReleaseBuild.Status.FAILED, f"Unexpected error: {type(exc).__name__}"
        _log(build, build.progress, error)
    ReleaseBuild.objects.filter(pk=build.pk).update(status=status, error=error, finished_at=timezone.now())
    build.refresh_from_db()
    return build


def release_build(*, dataset: str = "victims", method: str | None = None, k: int | None = None,
                  epsilon: float | None = None, length: int | None = None, seed: int | None = None,
                  delta: float | None = None, notes: str = "", publish: bool = False,
                  requested_by: str = "") -> Release:
    """Build a release now, in this process (the CLI); raise if it failed or publishing was refused."""
    build = release_build_create(dataset=dataset, method=method, k=k, epsilon=epsilon, length=length, seed=seed,
                                 delta=delta, notes=notes, publish=publish, requested_by=requested_by)
    build = release_build_run(build_id=build.pk)
    if build.status == ReleaseBuild.Status.REFUSED:
        raise DisclosureCheckFailed(build.error, {"version": build.release.version if build.release else None,
                                                  "failed_checks": _failed(build.release)})
    if build.status != ReleaseBuild.Status.SUCCEEDED:
        raise ReleaseError(build.error or "The release build failed.", {"build": build.pk})
    return build.release


def _failed(release: Release | None) -> list[str]:
    return [c["id"] for c in release.checks if c["blocking"] and not c["passed"]] if release else []


def _locked(dataset: str, version: str) -> Release:
    try:
        return Release.objects.select_for_update().get(dataset=dataset, version=version)
    except Release.DoesNotExist:
        raise ReleaseError(f"No release {version} of dataset '{dataset}'.",
                           {"dataset": dataset, "version": version}) from None


def release_verify(*, dataset: str, version: str) -> list[str]:
    """Problems found re-checking a release's files, checksums and schemas (empty when intact)."""
    return release_problems(release=release_get(dataset=dataset, version=version))


@transaction.atomic
def release_publish(*, dataset: str, version: str, by=None, note: str = "") -> Release:
    """Publish a built release: only when its disclosure checks passed and its files verify. `by`: the user (or
    user name) who published it, recorded on the release and in the audit trail."""
    release = _locked(dataset, version)
    if release.status == Release.Status.PUBLISHED:
        return release
    if release.status == Release.Status.WITHDRAWN:
        raise ReleaseError(f"Release {dataset} {version} was withdrawn and cannot be published again.",
                           {"dataset": dataset, "version": version})
    failed = _failed(release)
    if failed:
        raise DisclosureCheckFailed(
            f"Release {dataset} {version} is not published: disclosure check {', '.join(failed)} failed on the "
            "output. See its report.", {"dataset": dataset, "version": version, "failed_checks": failed})
    problems = release_problems(release=release)
    if problems:
        raise ReleaseError(f"Release {dataset} {version} does not verify: {problems[0]}.",
                           {"dataset": dataset, "version": version, "problems": problems})
    release.status = Release.Status.PUBLISHED
    release.published_at, release.published_by = timezone.now(), actor_name(by)[:150]
    release.save(update_fields=["status", "published_at", "published_by"])
    audit_record(actor=by, action="release.publish", target_type="release", target_id=f"{dataset} {version}",
                 note=note, details={"method": release.method, "records": release.record_count})
    return release


@transaction.atomic
def release_withdraw(*, dataset: str, version: str, reason: str, by=None) -> Release:
    """Withdraw a release: it stays listed with the reason, its files are no longer served."""
    if not (reason or "").strip():
        raise ReleaseError("Say why the release is withdrawn (--reason).", {"dataset": dataset, "version": version})
    release = _locked(dataset, version)
    if release.status == Release.Status.WITHDRAWN:
        raise ReleaseError(f"Release {dataset} {version} was already withdrawn ({release.withdrawn_reason}).",
                           {"dataset": dataset, "version": version})
    previous = release.status
    release.status = Release.Status.WITHDRAWN
    release.withdrawn_reason = reason.strip()
    release.withdrawn_at, release.withdrawn_by = timezone.now(), actor_name(by)[:150]
    release.save(update_fields=["status", "withdrawn_reason", "withdrawn_at", "withdrawn_by"])
    audit_record(actor=by, action="release.withdraw", target_type="release", target_id=f"{dataset} {version}",
                 note=reason.strip(), details={"was": previous})
    return release
