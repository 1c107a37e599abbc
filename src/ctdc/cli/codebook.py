"""`ctdc codebook`: export the standard's codebook and contributor templates, and check the standard's files.

    ctdc codebook export --format {html,csv,xlsx,json,datapackage} [-o PATH] [--lang en|fr|es]
    ctdc codebook template --format {xlsx,xlsform} [--dataset NAME ...] [-o PATH] [--lang en|fr|es]
    ctdc codebook check

Commands only parse, call `ctdc.standard` and print. Exit codes: 0 OK, 1 the standard's files are inconsistent
(or cannot be written), 2 usage error (unknown format, dataset or language). `--json` prints machine output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ctdc.cli.common import EXIT_INVALID, EXIT_USAGE, emit, fail, json_option
from ctdc.errors import CodebookError

DEFAULT_EXPORT = {
    "html": "codebook.html",
    "csv": "codebook.csv",
    "xlsx": "codebook.xlsx",
    "json": "codebook.json",
    "datapackage": "codebook-datapackage",
}


@click.group()
def codebook() -> None:
    """The data standard's codebook and contributor templates."""


@codebook.command("export")
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["html", "csv", "xlsx", "json", "datapackage"]),
    help="html: printable codebook; csv/xlsx: data dictionary; json: the whole standard; "
    "datapackage: Frictionless Data Package (a folder).",
)  # fmt: skip
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="File (folder for datapackage) to write."
)
@click.option("--lang", type=click.Choice(["en", "fr", "es"]), default="en", show_default=True,
              help="Language of labels in the HTML codebook.")  # fmt: skip
@json_option
def export_command(fmt: str, output: Path | None, lang: str, as_json: bool) -> None:
    """Write the codebook in one format."""
    from ctdc.standard import load_standard
    from ctdc.standard.codebook import export

    path = output or Path(DEFAULT_EXPORT[fmt])
    try:
        written = export(fmt, path, lang=lang)
        version = load_standard().version
    except CodebookError as exc:
        fail(exc, as_json, EXIT_INVALID)
    except OSError as exc:
        fail(
            CodebookError(f"Cannot write {path}: {exc.strerror}.", {"path": str(path)}), as_json, EXIT_INVALID
        )
    emit(
        {"format": fmt, "path": str(written), "version": version},
        as_json,
        f"Wrote the {fmt} codebook of standard {version} to {written}",
    )


@codebook.command("template")
@click.option("--format", "fmt", required=True, type=click.Choice(["xlsx", "xlsform"]),
              help="xlsx: Excel template, one sheet per dataset type; xlsform: ODK/KoboToolbox form.")  # fmt: skip
@click.option("--dataset", "datasets", multiple=True,
              help="Dataset type(s) to include (repeatable). xlsx: default all; xlsform: default victims.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write.")
@click.option("--lang", type=click.Choice(["en", "fr", "es"]), default="en", show_default=True,
              help="Language of the xlsx template's labels (the XLSForm carries all three).")  # fmt: skip
@json_option
def template_command(
    fmt: str, datasets: tuple[str, ...], output: Path | None, lang: str, as_json: bool
) -> None:
    """Write a contributor template generated from the standard."""
    from ctdc.standard import load_standard
    from ctdc.standard.codebook import template

    if fmt == "xlsform" and not datasets:
        datasets = ("victims",)
    std = load_standard()
    unknown = [d for d in datasets if d not in std.datasets]
    if unknown:
        known = ", ".join(std.datasets)
        fail(CodebookError(f"Unknown dataset type {unknown[0]!r}. Known: {known}.", {"dataset": unknown[0]}),
              as_json, EXIT_USAGE)  # fmt: skip
    if fmt == "xlsform" and len(datasets) != 1:
        fail(
            CodebookError("An XLSForm covers one dataset type: pass exactly one --dataset.", {}),
            as_json,
            EXIT_USAGE,
        )
    default = "ctdc-template.xlsx" if fmt == "xlsx" else f"ctdc-{datasets[0]}-xlsform.xlsx"
    path = output or Path(default)
    try:
        template(fmt, path, datasets=datasets, lang=lang)
    except CodebookError as exc:
        fail(exc, as_json, EXIT_INVALID)
    except OSError as exc:
        fail(
            CodebookError(f"Cannot write {path}: {exc.strerror}.", {"path": str(path)}), as_json, EXIT_INVALID
        )
    names = list(datasets or std.datasets)
    emit(
        {"format": fmt, "path": str(path), "datasets": names, "version": std.version},
        as_json,
        f"Wrote the {fmt} template ({', '.join(names)}) of standard {std.version} to {path}",
    )


@codebook.command("check")
@json_option
def check_command(as_json: bool) -> None:
    """Check the standard's files: JSON Schemas, cross-references, crosswalks, version snapshot."""
    from ctdc.standard.check import check_standard

    problems = check_standard()
    if as_json:
        click.echo(json.dumps({"ok": not problems, "problems": problems}, indent=2))
    elif problems:
        for p in problems:
            click.echo(p, err=True)
    else:
        click.echo("The standard's files are consistent.")
    sys.exit(EXIT_INVALID if problems else 0)
