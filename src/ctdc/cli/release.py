import click

from ctdc.cli.common import emit, fail, json_option, setup_django
from ctdc.errors import CtdcError

METHOD_NAMES = ["k-anonymity", "k-synthetic", "dp-synthetic", "as-published"]


def _row(r) -> dict:
    # No input counts: what this prints is often pasted into tickets and notes. `ctdc release steward-report`
    # prints them, for the steward.
    return {"dataset": r.dataset, "version": r.version, "status": r.status, "method": r.method, "params": r.params,
            "records": r.record_count, "bytes": r.size_bytes,
            "checks_passed": r.checks_passed, "created": r.created_at.isoformat(timespec="seconds"),
            "withdrawn_reason": r.withdrawn_reason, "path": r.path}


@click.group()
def release() -> None:
    """Versioned, protected releases: build, verify, publish, withdraw, list; builds and cancel."""


@release.command("build")
@click.option("--dataset", default="victims", show_default=True)
@click.option("--method", type=click.Choice(METHOD_NAMES),
              help="Privacy method of the microdata (default: k-anonymity). A dataset of published aggregates "
                   "(government_response) is released as-published, its only method.")
@click.option("--k", type=click.IntRange(min=2, max=1000), help="k of k-anonymity / k-synthetic and of the disclosure checks "
              "(default: CTDC_SUPPRESSION_K, 11).")
@click.option("--epsilon", type=click.FloatRange(min=0, min_open=True), help="dp-synthetic: privacy budget epsilon "
              "(default 4; delta is 1/(N ln N) for the public bound N = 1,000,000 records, never from the data). "
              "Privacy unit: one victim.")
@click.option("--delta", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
              help="dp-synthetic: delta (default 1/(N ln N) for a public bound N on the number of records).")
@click.option("--length", type=click.IntRange(min=1, max=4), help="Reporting length L: combinations of up to L "
              "values are protected and checked (1 to 4; default 3).")
@click.option("--seed", type=int, help="Seed of the synthetic sampling (never of DP noise; default 0).")
@click.option("--notes", default="", help="Release notes.")
@click.option("--publish", is_flag=True, help="Publish at once if every disclosure check passes.")
@json_option
def build(dataset: str, method: str | None, k: int | None, epsilon: float | None, delta: float | None, length: int | None,
          seed: int | None, notes: str, publish: bool, as_json: bool) -> None:
    """Build a release from the approved records of the central repository (a draft unless --publish).

    Exit code 1 when the build fails or a disclosure check refuses publishing (the draft stays, with its report).
    """
    setup_django()
    from ctdc.web.releases.services import release_build

    try:
        r = release_build(dataset=dataset, method=method, k=k, epsilon=epsilon, delta=delta, length=length,
                          seed=seed, notes=notes, publish=publish, requested_by="cli")
    except CtdcError as exc:
        fail(exc, as_json)
    emit({**_row(r), "summary": r.summary, "checks": r.checks}, as_json,
         f"{'Published' if r.status == 'published' else 'Built (draft)'} {r.dataset} {r.version} ({r.method}): "
         f"{r.record_count} rows -> {r.path} (steward report: ctdc release steward-report {r.version})")


@release.command("steward-report")
@click.argument("version")
@click.option("--dataset", default="victims", show_default=True)
def steward_report(version: str, dataset: str) -> None:
    """Print a release's steward report (JSON): everything computed on the input. For stewards; never publish it."""
    setup_django()
    from ctdc.web.releases.selectors import release_get
    from ctdc.web.releases.store import steward_report_read

    try:
        data = steward_report_read(release=release_get(dataset=dataset, version=version))
    except CtdcError as exc:
        fail(exc, False)
    if data is None:
        click.echo(f"Release {dataset} {version} has no steward report (built before they existed).", err=True)
        raise SystemExit(1)
    click.echo(data.decode("utf-8"), nl=False)


@release.command("publish")
@click.argument("version")
@click.option("--dataset", default="victims", show_default=True)
@json_option
def publish(version: str, dataset: str, as_json: bool) -> None:
    """Publish a built release (refused if a disclosure check failed or a file does not verify)."""
    setup_django()
    from ctdc.web.releases.services import release_publish

    try:
        r = release_publish(dataset=dataset, version=version)
    except CtdcError as exc:
        fail(exc, as_json)
    emit(_row(r), as_json, f"Published {r.dataset} {r.version}")


@release.command("verify")
@click.argument("version")
@click.option("--dataset", default="victims", show_default=True)
@json_option
def verify(version: str, dataset: str, as_json: bool) -> None:
    """Re-check a release's files, checksums and schemas. Exit code 1 if anything is wrong."""
    setup_django()
    from ctdc.web.releases.services import release_verify

    try:
        problems = release_verify(dataset=dataset, version=version)
    except CtdcError as exc:
        fail(exc, as_json)
    emit({"dataset": dataset, "version": version, "ok": not problems, "problems": problems}, as_json,
         "\n".join(problems) if problems else f"{dataset} {version}: every file matches its checksum and schema")
    if problems:
        raise SystemExit(1)


@release.command("withdraw")
@click.argument("version")
@click.option("--reason", required=True, help="Why (shown in the catalogue), e.g. a contributor revoked data.")
@click.option("--dataset", default="victims", show_default=True)
@json_option
def withdraw(version: str, reason: str, dataset: str, as_json: bool) -> None:
    """Withdraw a release: it stays listed with the reason, its files are no longer served."""
    setup_django()
    from ctdc.web.releases.services import release_withdraw

    try:
        r = release_withdraw(dataset=dataset, version=version, reason=reason)
    except CtdcError as exc:
        fail(exc, as_json)
    emit(_row(r), as_json, f"Withdrew {r.dataset} {r.version}: {r.withdrawn_reason}")


@release.command("list")
@click.option("--dataset")
@json_option
def list_(dataset: str | None, as_json: bool) -> None:
    """List releases, newest first (drafts and withdrawn ones included, with their status)."""
    setup_django()
    from ctdc.web.releases.selectors import release_list

    rows = [_row(r) for r in release_list(dataset=dataset)]
    emit(rows, as_json, "\n".join(f"{r['dataset']}\t{r['version']}\t{r['status']}\t{r['method']}\t{r['records']}"
                                  + (f"\t{r['withdrawn_reason']}" if r["withdrawn_reason"] else "") for r in rows)
         or "No releases yet.")


def _build_row(b) -> dict:
    return {"build": b.pk, "dataset": b.dataset, "method": b.method, "status": b.status, "progress": b.progress,
            "cancel_requested": b.cancel_requested, "requested_by": b.requested_by,
            "created": b.created_at.isoformat(timespec="seconds"), "error": b.error,
            "release": b.release.version if b.release else None}


@release.command("builds")
@click.option("--dataset")
@json_option
def builds(dataset: str | None, as_json: bool) -> None:
    """List recent release builds, newest first, with status and progress (queued ones can be cancelled)."""
    setup_django()
    from ctdc.web.releases.selectors import release_build_list

    rows = [_build_row(b) for b in release_build_list(dataset=dataset)]
    emit(rows, as_json, "\n".join(f"{r['build']}\t{r['dataset']}\t{r['method']}\t{r['status']}\t{r['progress']}%"
                                  + (f"\t{r['error']}" if r["error"] else "") for r in rows) or "No builds yet.")


@release.command("cancel")
@click.argument("build_id", type=int)
@json_option
def cancel(build_id: int, as_json: bool) -> None:
    """Cancel a build: a queued one never starts; a running one stops at its next stage and writes nothing."""
    setup_django()
    from ctdc.web.releases.services import release_build_cancel

    try:
        b = release_build_cancel(build_id=build_id, by="cli")
    except CtdcError as exc:
        fail(exc, as_json)
    emit(_build_row(b), as_json, f"Build {b.pk}: {'cancelled' if b.status == 'cancelled' else 'cancel requested'}")
