from datetime import timedelta

import click

from ctdc.cli.common import emit, json_option, setup_django


@click.command()
@click.option("--days", type=click.IntRange(min=0),
              help="Delete raw uploads older than this many days. Default: the CTDC_RAW_RETENTION_DAYS setting.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing.")
@json_option
def purge(days: int | None, dry_run: bool, as_json: bool) -> None:
    """Delete encrypted raw uploads past the retention period (reports and approved records are kept)."""
    setup_django()
    from django.conf import settings
    from django.utils import timezone

    from ctdc.web.submissions.services import submission_raw_purge

    days = settings.CTDC_RAW_RETENTION_DAYS if days is None else days
    ids = submission_raw_purge(older_than=timezone.now() - timedelta(days=days), dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    emit({"days": days, "dry_run": dry_run, "submissions": ids}, as_json,
         f"{verb} the raw upload of {len(ids)} submission(s) older than {days} days"
         + (f": {', '.join(map(str, ids))}." if ids else "."))
