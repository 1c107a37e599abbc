import click

from ctdc.cli.common import emit, json_option, setup_django


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
