import click

from ctdc.cli.common import emit, fail, json_option, setup_django
from ctdc.errors import CtdcError


@click.group()
def release() -> None:
    """Versioned, protected releases."""


@release.command("build")
@click.option("--dataset", default="victims", show_default=True)
@click.option("--k", type=click.IntRange(min=2), help="Suppress counts below k (default: CTDC_SUPPRESSION_K, 11).")
@click.option("--notes", default="", help="Release notes.")
@json_option
def build(dataset: str, k: int | None, notes: str, as_json: bool) -> None:
    """Build and publish a release from the approved records of the central repository."""
    setup_django()
    from ctdc.web.releases.services import release_build

    try:
        r = release_build(dataset=dataset, k=k, notes=notes)
    except CtdcError as exc:
        fail(exc, as_json)
    emit({"dataset": r.dataset, "version": r.version, "records": r.record_count, "path": r.path, "summary": r.summary},
         as_json, f"Published {r.dataset} {r.version}: {r.record_count} records -> {r.path}")


@release.command("list")
@click.option("--dataset")
@json_option
def list_(dataset: str | None, as_json: bool) -> None:
    """List releases, newest first."""
    setup_django()
    from ctdc.web.releases.selectors import release_list

    rows = [{"dataset": r.dataset, "version": r.version, "status": r.status, "method": r.method,
             "records": r.record_count, "created": r.created_at.isoformat(timespec="seconds")}
            for r in release_list(dataset=dataset)]
    emit(rows, as_json, "\n".join(f"{r['dataset']}\t{r['version']}\t{r['status']}\t{r['records']}" for r in rows)
         or "No releases yet.")
