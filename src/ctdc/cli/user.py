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


@user.command("contributor")
@click.argument("username")
@click.option("--org", "org_slug", required=True, help="Slug of the organisation the account contributes for.")
@click.option("--password-file", type=click.Path(path_type=Path),
              help="Read the password from this file, or write a generated one there (mode 600) if it is missing.")
def contributor(username: str, org_slug: str, password_file: Path | None) -> None:
    """Create a contributor account for one organisation (idempotent); it signs in at /accounts/login/."""
    setup_django()
    from ctdc.web.accounts.services import contributor_ensure, organisation_get

    organisation = organisation_get(slug=org_slug)
    password = password_file.read_text().strip() if password_file and password_file.exists() else None
    account, password = contributor_ensure(username=username, organisation=organisation, password=password)
    if password_file and password and not password_file.exists():
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n")
    click.echo(f"Contributor account for {organisation.slug}: {username} / {password or '(unchanged)'}")
