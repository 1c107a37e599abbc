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
from ctdc.cli.user import user
from ctdc.cli.worker import worker
from ctdc.errors import CtdcError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CtdcError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {exc.message}", err=True)
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


for command in (init, serve, worker, simulate, org, user, ingest, codebook, risk, synth, release, purge, backup,
                restore, manage):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="ctdc")


if __name__ == "__main__":
    main()
