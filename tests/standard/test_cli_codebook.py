"""The `codebook` click group, driven through click's CliRunner (the main `ctdc` group lives elsewhere)."""

import json

import pytest
from click.testing import CliRunner

from ctdc.cli.codebook import codebook


@pytest.fixture
def run():
    runner = CliRunner()
    return lambda *args: runner.invoke(codebook, list(args))


@pytest.mark.parametrize("fmt", ["html", "csv", "xlsx", "json", "datapackage"])
def test_export_writes_each_format_and_says_where(run, tmp_path, fmt):
    out = tmp_path / f"codebook-{fmt}"
    result = run("export", "--format", fmt, "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["format"] == fmt and data["version"]
    assert (out / "datapackage.json").exists() if fmt == "datapackage" else out.stat().st_size > 1000


def test_template_writes_the_victims_xlsform(run, tmp_path):
    out = tmp_path / "victims.xlsx"
    result = run("template", "--format", "xlsform", "--dataset", "victims", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "victims" in result.output and out.exists()


def test_template_writes_an_excel_template_for_chosen_dataset_types(run, tmp_path):
    out = tmp_path / "t.xlsx"
    result = run(
        "template", "--format", "xlsx", "--dataset", "victims", "--dataset", "perpetrators", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "victims, perpetrators" in result.output


def test_an_unknown_dataset_type_is_a_usage_error_in_one_line(run, tmp_path):
    result = run("template", "--format", "xlsx", "--dataset", "victimz", "-o", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: Unknown dataset type 'victimz'. Known: victims, perpetrators, victim_perpetrator_links, "
        "journey_events, recruitment_fees, government_response."
    ]


def test_an_unknown_format_is_a_usage_error(run):
    assert run("export", "--format", "pdf").exit_code == 2


def test_an_unwritable_path_fails_with_exit_1(run, tmp_path):
    result = run("export", "--format", "csv", "-o", str(tmp_path / "missing" / "x.csv"))
    assert result.exit_code == 1 and result.output.startswith("Error: Cannot write")


def test_check_reports_a_consistent_standard(run):
    result = run("check", "--json")
    assert result.exit_code == 0 and json.loads(result.output) == {"ok": True, "problems": []}
