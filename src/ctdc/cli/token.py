"""`ctdc token`: API tokens for the contributor API (the same as /accounts/tokens/ on the web)."""

from __future__ import annotations

import json

import click

from ctdc.cli.common import setup_django


@click.group()
def token() -> None:
    """API tokens for the contributor API: create, list, revoke."""


@token.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'nightly upload from our CRM'.")
@click.option("--scope", "scopes", multiple=True, required=True, type=str,
              help="read (list and follow submissions) or submit (upload); repeat for both.")
@click.option("--days", type=int, default=None, help="Days until it expires (1 to 366; default CTDC_API_TOKEN_DAYS).")
@click.option("--json", "as_json", is_flag=True, help="Print the token and its facts as JSON.")
def create(username: str, name: str, scopes: tuple[str, ...], days: int | None, as_json: bool) -> None:
    """Create a token for USERNAME and print it once (only its hash is kept)."""
    setup_django()
    from django.contrib.auth import get_user_model

    from ctdc.errors import CtdcError
    from ctdc.web.accounts.tokens import api_token_create

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CtdcError(f"No account '{username}'.", {"user": username})
    made, key = api_token_create(user=user, name=name, scopes=list(scopes), days=days, by="cli")
    facts = {"id": made.pk, "user": username, "name": made.name, "scopes": made.scopes,
             "expires_at": made.expires_at.isoformat(), "token": key}
    if as_json:
        click.echo(json.dumps(facts))
    else:
        click.echo(f"Token {made.pk} for {username} ({', '.join(made.scopes)}), expires {made.expires_at:%Y-%m-%d %H:%M} "
                   f"UTC. Copy it now, it is not shown again:\n{key}")


@token.command("list")
@click.argument("username")
def list_(username: str) -> None:
    """USERNAME's tokens (never the tokens themselves)."""
    setup_django()
    from django.utils import timezone

    from ctdc.web.accounts.models import ApiToken

    now = timezone.now()
    for t in ApiToken.objects.filter(user__username=username):
        click.echo(f"{t.pk}\t{t.prefix}…\t{t.name}\t{','.join(t.scopes)}\t{t.state(now)}\t"
                   f"expires {t.expires_at:%Y-%m-%d %H:%M}")


@token.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    setup_django()
    from ctdc.errors import CtdcError
    from ctdc.web.accounts.models import ApiToken
    from ctdc.web.accounts.tokens import api_token_revoke

    found = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if found is None:
        raise CtdcError(f"No token {token_id}.", {"token": token_id})
    api_token_revoke(token=found, by="cli")
    click.echo(f"Token {token_id} ({found.name}) revoked.")
