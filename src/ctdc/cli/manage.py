import click

from ctdc.cli.common import setup_django


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command (e.g. `ctdc manage showmigrations`)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["ctdc manage", *args])
