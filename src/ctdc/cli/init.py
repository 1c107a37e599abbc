import click
from django.core.management import call_command

from ctdc.cli.common import setup_django


@click.command()
def init() -> None:
    """Create the data folder and bring the database named by DATABASE_URL up to date (safe to re-run)."""
    setup_django()
    from django.conf import settings

    for folder in (settings.DATA_DIR, settings.MEDIA_ROOT, settings.CTDC_RELEASES_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    click.echo(f"Data folder: {settings.DATA_DIR}")
    click.echo(f"Database ({engine}) migrated.")
