"""Shared pieces of the `ctdc` command: Django start-up, JSON output, error translation."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ctdc.errors import CtdcError

# Exit codes (STYLE.md): 0 OK, 1 invalid data or unmet guarantee, 2 usage error.
EXIT_INVALID = 1
EXIT_USAGE = 2


def setup_django() -> None:
    """Start Django for commands that touch the database. Pure commands never call this."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctdc.web.config.settings.base")
    import django

    django.setup()


def refuse_unsafe_start() -> None:
    """Exit with the production problems (ctdc.web.security.checks) before serving or running tasks."""
    from django.core.exceptions import ImproperlyConfigured

    from ctdc.web.security.checks import refuse_unsafe_start as check

    try:
        check()
    except ImproperlyConfigured as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


def emit(data: Any, as_json: bool, text: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif text is not None:
        click.echo(text)


def fail(exc: CtdcError, as_json: bool = False, code: int = EXIT_INVALID) -> None:
    """One line on stderr (or the JSON error shape on stdout), then exit."""
    if as_json:
        click.echo(json.dumps(exc.as_dict(), indent=2, default=str))
    else:
        click.echo(f"Error: {exc.message}", err=True)
    sys.exit(code)


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
