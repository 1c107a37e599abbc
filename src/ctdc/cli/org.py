import datetime

import click

from ctdc.cli.common import EXIT_USAGE, emit, fail, json_option, setup_django
from ctdc.errors import CtdcError


@click.group()
def org() -> None:
    """Contributing organisations."""


@org.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name of the organisation.")
@click.option("--kind", type=click.Choice(["hotline", "case_management"]), default="case_management",
              show_default=True, help="Sets the data source type of its records.")
@json_option
def create(slug: str, name: str, kind: str, as_json: bool) -> None:
    """Create an organisation (does nothing if SLUG exists)."""
    setup_django()
    from ctdc.web.accounts.services import organisation_create

    organisation, created = organisation_create(slug=slug, name=name, kind=kind)
    emit({"slug": organisation.slug, "name": organisation.name, "kind": organisation.kind, "created": created},
         as_json, f"{'Created' if created else 'Exists'}: {organisation.slug} ({organisation.name})")


@org.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List organisations."""
    setup_django()
    from ctdc.web.accounts.models import Organisation

    rows = list(Organisation.objects.values("slug", "name", "kind"))
    emit(rows, as_json, "\n".join(f"{r['slug']}\t{r['kind']}\t{r['name']}" for r in rows) or "No organisations yet.")


@org.command("agreement")
@click.argument("slug")
@click.option("--version", "version", help="Version of the agreement's text that was signed, e.g. 2026-1.")
@click.option("--signed-by", help="Who signed for the organisation (name and role).")
@click.option("--signed-on", type=click.DateTime(["%Y-%m-%d"]), help="Date it was signed (YYYY-MM-DD; default today).")
@json_option
def agreement(slug: str, version: str | None, signed_by: str | None, signed_on: datetime.datetime | None,
              as_json: bool) -> None:
    """Record the data-sharing agreement SLUG signed, or (without --version) show its current one.

    Files from an organisation without one are refused when CTDC_REQUIRE_AGREEMENT is on (production)."""
    setup_django()
    from django.utils import timezone

    from ctdc.web.accounts.selectors import agreement_current
    from ctdc.web.accounts.services import agreement_record, organisation_get

    try:
        organisation = organisation_get(slug=slug)
    except CtdcError as exc:
        fail(exc, as_json, EXIT_USAGE)
    if version is None:
        current = agreement_current(organisation=organisation)
        data = {"organisation": slug, "agreement": None if current is None else {
            "version": current.version, "signed_by": current.signed_by, "signed_on": current.signed_on.isoformat()}}
        emit(data, as_json, f"{slug}: no data-sharing agreement recorded" if current is None else
             f"{slug}: agreement {current.version}, signed by {current.signed_by} on {current.signed_on:%Y-%m-%d}")
        return
    if not signed_by:
        raise click.UsageError("Give --signed-by with --version.")
    try:
        recorded = agreement_record(organisation=organisation, version=version, signed_by=signed_by,
                                    signed_on=signed_on.date() if signed_on else timezone.localdate())
    except CtdcError as exc:
        fail(exc, as_json)
    emit({"organisation": slug, "version": recorded.version, "signed_by": recorded.signed_by,
          "signed_on": recorded.signed_on.isoformat()}, as_json,
         f"Recorded: {slug} agreement {recorded.version}, signed by {recorded.signed_by} on "
         f"{recorded.signed_on:%Y-%m-%d}")
