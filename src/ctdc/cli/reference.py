"""Render the CLI reference (docs/cli.md) from the real `--help` output.

    .venv/bin/python -m ctdc.cli.reference > docs/cli.md

tests/web/test_docs.py fails when docs/cli.md differs from what this prints.
"""

from __future__ import annotations

import click
from click.testing import CliRunner

from ctdc.cli.main import cli


def _paths(group: click.Group, prefix: tuple[str, ...] = ()):
    for name in sorted(group.commands):
        command = group.commands[name]
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _paths(command, (*prefix, name))


def render() -> str:
    runner = CliRunner()
    out = ["# `ctdc` command reference", "",
           "Generated from `--help` by `python -m ctdc.cli.reference`; a test keeps it in step with the code.", ""]
    for path in [(), *_paths(cli)]:
        title = " ".join(("ctdc", *path))
        help_text = runner.invoke(cli, [*path, "--help"], prog_name="ctdc", terminal_width=100).output
        out += [f"## `{title}`", "", "```text", help_text.rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
