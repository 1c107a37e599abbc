from pathlib import Path

import click

from ctdc.cli.common import setup_django


@click.group()
def user() -> None:
    """Accounts."""


@user.command("steward")
@click.argument("username")
@click.option("--password-file", type=click.Path(path_type=Path),
              help="Read the password from this file, or write a generated one there (mode 600) if it is missing.")
def steward(username: str, password_file: Path | None) -> None:
    """Create a data-steward account (idempotent) and print its credentials."""
    setup_django()
    from ctdc.web.accounts.services import steward_ensure

    password = None
    if password_file and password_file.exists():
        password = password_file.read_text().strip()
    account, password = steward_ensure(username=username, password=password)
    if password_file and password and not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
    click.echo(f"Steward account: {username} / {password or '(unchanged)'}")
