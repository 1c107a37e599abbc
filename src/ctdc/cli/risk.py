"""`ctdc risk FILE --qi a,b,c [--sensitive x] [--k 11] [--length L] [--json]`: disclosure risk of a table.

Exit codes: 0 report printed; 1 invalid data (unreadable file, unknown column, no records); 2 usage error.
"""

from __future__ import annotations

import json
import sys

import click

from ctdc.errors import CtdcError
from ctdc.privacy.risk import assess_risk
from ctdc.privacy.table import read_table


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@click.command("risk")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--qi", required=True, help="Quasi-identifier columns, comma-separated.")
@click.option("--sensitive", default="", help="Sensitive columns for l-diversity, comma-separated.")
@click.option("--k", "k", type=click.IntRange(min=1), default=11, show_default=True, help="Risk threshold k.")
@click.option("--length", type=click.IntRange(min=1), default=None, help="Longest rare combination to count.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def risk(file: str, qi: str, sensitive: str, k: int, length: int | None, as_json: bool, debug: bool) -> None:
    """Measure the re-identification risk of FILE (CSV or Parquet) on its quasi-identifiers."""
    try:
        df = read_table(file)
        report = assess_risk(df, _split(qi), sensitive=_split(sensitive), k=k, length=length)
    except CtdcError as exc:
        if debug:
            raise
        if as_json:
            click.echo(json.dumps(exc.as_dict()))
        else:
            click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo("\n".join(report.summary_lines()))
