"""`ctdc risk` and `ctdc synth`, invoked on their click commands with CliRunner."""

from __future__ import annotations

import json

import polars as pl
from click.testing import CliRunner

from ctdc.cli.risk import risk
from ctdc.cli.synth import synth


def test_risk_prints_json_with_the_numbers_of_the_issue(tmp_path, small_victims):
    path = tmp_path / "cases.csv"
    small_victims.write_csv(path)
    result = CliRunner().invoke(risk, [str(path), "--qi", "gender,age_band", "--sensitive", "exploitation_type",
                                       "--length", "2", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {
        "k",
        "records_at_risk",
        "sample_uniques",
        "l_diversity",
        "rare_combinations",
        "record_risk",
    } <= set(report)


def test_risk_reads_parquet_and_prints_a_readable_report(tmp_path, small_victims):
    path = tmp_path / "cases.parquet"
    small_victims.write_parquet(path)
    result = CliRunner().invoke(risk, [str(path), "--qi", "gender,citizenship"])
    assert result.exit_code == 0
    assert "sample uniques" in result.output


def test_risk_exits_1_on_an_unknown_column_and_2_on_a_usage_error(tmp_path, small_victims):
    path = tmp_path / "cases.csv"
    small_victims.write_csv(path)
    assert CliRunner().invoke(risk, [str(path), "--qi", "nope"]).exit_code == 1
    assert CliRunner().invoke(risk, [str(path)]).exit_code == 2


def test_synth_writes_the_public_and_the_steward_files_for_each_method(tmp_path, small_victims):
    path = tmp_path / "cases.csv"
    small_victims.write_csv(path)
    for method in ("k-synthetic", "dp"):
        out = tmp_path / method
        result = CliRunner().invoke(
            synth, [str(path), "--method", method, "--k", "5", "--length", "2", "--seed", "4", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in out.iterdir()) == [
            "aggregates.csv",
            "report.html",
            "report.json",
            "steward-report.html",
            "steward-report.json",
            "synthetic.csv",
        ]
        synthetic = pl.read_csv(out / "synthetic.csv", infer_schema=False)
        assert synthetic.columns == small_victims.columns
        report = json.loads((out / "report.json").read_text())
        assert report["guarantee"]["method"] == method
        # The input's record count is in the steward report only.
        steward = json.loads((out / "steward-report.json").read_text())
        assert steward["input"]["records"] == small_victims.height and "input" not in report
        assert "risk_input" in steward and "risk_input" not in report
        html = (out / "report.html").read_text()
        assert "<script" not in html and "http" not in html  # self-contained: nothing fetched


def test_synth_with_the_same_seed_writes_the_same_k_synthetic_rows(tmp_path, small_victims):
    path = tmp_path / "cases.csv"
    small_victims.write_csv(path)
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        CliRunner().invoke(
            synth, [str(path), "--method", "k-synthetic", "--k", "5", "--seed", "8", "-o", str(out)]
        )
        runs.append((out / "synthetic.csv").read_text())
    assert runs[0] == runs[1]


def test_synth_exits_1_on_zero_records_and_2_on_bad_options(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(synth, [str(empty), "--method", "dp", "-o", str(out)])
    assert result.exit_code == 1 and "no records" in result.output
    assert not out.exists()
    assert CliRunner().invoke(synth, [str(empty), "--method", "magic", "-o", str(out)]).exit_code == 2
    assert (
        CliRunner().invoke(synth, [str(empty), "--method", "dp", "--delta", "2", "-o", str(out)]).exit_code
        == 2
    )


def test_synth_charges_the_ledger_and_refuses_a_release_that_would_overspend(tmp_path, small_victims):
    path = tmp_path / "cases.csv"
    small_victims.write_csv(path)
    ledger = tmp_path / "ledger.jsonl"
    args = [str(path), "--method", "dp", "--epsilon", "3", "--length", "2", "--ledger", str(ledger),
            "--total-epsilon", "5", "--total-delta", "1e-3"]  # fmt: skip
    first = CliRunner().invoke(synth, [*args, "-o", str(tmp_path / "one")])
    assert first.exit_code == 0, first.output
    assert len(ledger.read_text().splitlines()) == 1
    second = CliRunner().invoke(synth, [*args, "-o", str(tmp_path / "two")])
    assert second.exit_code == 1 and "Nothing was released" in second.output
    assert not (tmp_path / "two").exists()
    assert len(ledger.read_text().splitlines()) == 1
