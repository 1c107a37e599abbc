"""`ctdc synth FILE --method {k-synthetic,dp} [--domain D.yaml] [--epsilon 4] [--delta auto] [--k 11] [--length 3]
[--seed N] -o OUT`.

Writes `synthetic.csv`, `aggregates.csv`, `report.html` and `report.json` (public: nothing computed on the input)
and `steward-report.html` / `steward-report.json` (the comparison with the input: for the data steward, never
published) into OUT_DIR.
dp: the candidates come from `--domain FILE` (docs/privacy.md, "Domain files"); without it they are read off the
data, and the report and the command's output say that this is not a formal guarantee. delta is `--delta` or
1/(N ln N) for the public bound N = `--max-records`, never the file's own size.
With `--ledger FILE.jsonl`, a dp release is charged to the budget ledger first and refused (exit 1, nothing
written) when it would take the dataset above `--total-epsilon` / `--total-delta`.
Exit codes: 0 written; 1 invalid data, unmet guarantee or budget exceeded (nothing is written); 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ctdc.errors import CtdcError
from ctdc.formulas import defuse_frame
from ctdc.privacy.budget import DEFAULT_MAX_RECORDS, Budget
from ctdc.privacy.domain import Domain
from ctdc.privacy.ledger import JsonLinesStore, PrivacyLedger
from ctdc.privacy.pipeline import make_synthetic_release, render_html
from ctdc.privacy.table import read_table


def _delta(value: str) -> float | None:
    if value == "auto":
        return None
    try:
        delta = float(value)
    except ValueError:
        raise click.BadParameter("use 'auto' or a number in (0, 1)") from None
    if not 0 < delta < 1:
        raise click.BadParameter("delta must be in (0, 1)")
    return delta


@click.command("synth")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--method", type=click.Choice(["k-synthetic", "dp"]), required=True, help="Protection method.")
@click.option("--epsilon", type=click.FloatRange(min=0, min_open=True), default=4.0, show_default=True)
@click.option("--delta", default="auto", show_default=True,
              help="A number in (0, 1), or 'auto' = 1/(N ln N) for N = --max-records (never the file's size).")
@click.option("--max-records", type=click.IntRange(min=3), default=DEFAULT_MAX_RECORDS, show_default=True,
              help="dp with --delta auto: a public upper bound on the number of records.")
@click.option("--domain", "domain_path", type=click.Path(dir_okay=False), default=None,
              help="YAML/JSON file listing each column's public values (docs/privacy.md). Without it the values "
              "seen in FILE are treated as public, which is not a formal DP guarantee.")
@click.option("--k", "k", type=click.IntRange(min=1), default=11, show_default=True)
@click.option("--resolution", type=click.IntRange(min=1), default=10, show_default=True,
              help="k-synthetic: published counts are rounded down to a multiple of this.")  # fmt: skip
@click.option(
    "--length", type=click.IntRange(min=1), default=3, show_default=True, help="Reporting length L."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the sampling (never of DP noise)."
)
@click.option(
    "-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory."
)
@click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="dp: JSON-lines privacy-budget ledger to charge; the release is refused if it would overspend.",
)
@click.option(
    "--total-epsilon",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="With --ledger: the dataset's total epsilon.",
)
@click.option(
    "--total-delta",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=1e-5,
    show_default=True,
    help="With --ledger: the dataset's total delta.",
)
@click.option("--dataset", default=None, help="With --ledger: dataset name (default: the file name).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def synth(
    file: str,
    method: str,
    epsilon: float,
    delta: str,
    max_records: int,
    domain_path: str | None,
    k: int,
    resolution: int,
    length: int,
    seed: int,
    out_dir: str,
    ledger_path: str | None,
    total_epsilon: float,
    total_delta: float,
    dataset: str | None,
    debug: bool,
) -> None:
    """Write protected synthetic microdata and aggregates of FILE (CSV or Parquet) into OUT_DIR."""
    delta_value = _delta(delta)
    ledger = None
    if ledger_path:
        ledger = PrivacyLedger(Budget(total_epsilon, total_delta), store=JsonLinesStore(ledger_path))
    try:
        domain = Domain.from_file(domain_path) if domain_path else None
        budget = Budget.dp(epsilon, delta_value, max_records=max_records) if method == "dp" else None
        df = read_table(file)
        release = make_synthetic_release(
            df,
            method=method,
            k=k,
            resolution=resolution,
            budget=budget,
            domain=domain,
            length=length,
            seed=seed,
            ledger=ledger,
            dataset=dataset or Path(file).name,
            purpose=f"ctdc synth --method {method} -o {out_dir}",
        )
    except CtdcError as exc:
        if debug:
            raise
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    defuse_frame(release.synthetic).write_csv(out / "synthetic.csv")  # opened in spreadsheets: ctdc.formulas
    defuse_frame(release.aggregates.to_frame()).write_csv(out / "aggregates.csv")
    (out / "report.json").write_text(json.dumps(release.report, indent=2), encoding="utf-8")
    (out / "report.html").write_text(
        render_html(release.report, f"ctdc synth: {Path(file).name}"), encoding="utf-8"
    )
    # Computed on the input: keep it with the steward, never publish it beside the rows.
    (out / "steward-report.json").write_text(json.dumps(release.steward_report, indent=2), encoding="utf-8")
    (out / "steward-report.html").write_text(
        render_html(release.steward_report, f"ctdc synth: {Path(file).name} (steward report)", steward=True),
        encoding="utf-8",
    )
    click.echo(
        f"wrote synthetic.csv ({release.synthetic.height} rows), aggregates.csv, report.html, report.json "
        f"(public) and steward-report.html, steward-report.json (computed on the input: never publish) to {out}"
    )
    if method == "dp" and not release.aggregates.protection.get("domain_public", False):
        click.echo(
            "Warning: no --domain given, so the values seen in the file were treated as public. A value held by"
            " one person can appear because of them: this output is not formally differentially private.",
            err=True,
        )
