"""The `ctdc` command: one group, one module per command group (STYLE.md).

Commands parse, call the core (or a Django service) and print. Tracebacks appear only with `--debug`.
"""

from __future__ import annotations

import sys

import click

from ctdc import __version__
from ctdc.cli.backup import backup, restore
from ctdc.cli.codebook import codebook
from ctdc.cli.ingest import ingest
from ctdc.cli.init import init
from ctdc.cli.manage import manage
from ctdc.cli.org import org
from ctdc.cli.purge import purge
from ctdc.cli.release import release
from ctdc.cli.risk import risk
from ctdc.cli.serve import serve
from ctdc.cli.simulate import simulate
from ctdc.cli.synth import synth
from ctdc.cli.token import token
from ctdc.cli.user import user
from ctdc.cli.worker import worker
from ctdc.errors import CtdcError

# What the database drivers say when the schema is missing or older than the code (SQLite, then PostgreSQL).
_SCHEMA_BEHIND = ("no such table", "no such column", "relation \"", "column \"")
_UNREACHABLE = ("connection refused", "could not connect", "connection failed", "unable to open database file")


def _database_problem(exc: Exception) -> str | None:
    """A sentence for a database that is not ready, or None for any other error. The driver's own text is not
    repeated: it can name tables and values, and the person running the command needs the next step, not SQL."""
    db = sys.modules.get("django.db")
    if db is None or not isinstance(exc, db.DatabaseError):
        return None
    text = str(exc).lower()
    if any(s in text for s in _SCHEMA_BEHIND):
        return ("The database has no ctdc tables yet, or they are older than this version of ctdc. Run `ctdc init` "
                "(safe to re-run) to create or update them, then run this command again.")
    if any(s in text for s in _UNREACHABLE):
        return ("The database named by DATABASE_URL cannot be reached. Check that it is running and that "
                "DATABASE_URL names the right host, port and database.")
    return None


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CtdcError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc.message}", err=True)
            sys.exit(1)
        except Exception as exc:
            message = _database_problem(exc)
            if message is None or (ctx.obj and ctx.obj.get("debug")):
                raise
            click.echo(f"Error: {message}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ctdc")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ctdc: collaborative, privacy-preserving human-trafficking case data.

    Contributor files in, harmonized and de-identified records in the central repository, protected releases
    and a public portal out.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for command in (init, serve, worker, simulate, org, user, token, ingest, codebook, risk, synth, release, purge, backup,
                restore, manage):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="ctdc")


if __name__ == "__main__":
    main()
