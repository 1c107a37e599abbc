"""Convention tests: what users read in docs/ matches the code (Datasette's test_docs.py)."""

from pathlib import Path

from ctdc.cli.reference import render
from ctdc.ingest.report import PROBLEM_TYPES
from ctdc.web.config.env import SETTINGS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented():
    text = (DOCS / "settings.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text]
    assert not missing


def test_the_cli_reference_is_generated_from_the_current_help():
    assert (DOCS / "cli.md").read_text() == render(), "run: .venv/bin/python -m ctdc.cli.reference > docs/cli.md"


def test_every_problem_code_is_documented():
    text = (DOCS / "ingest.md").read_text()
    assert not [code for code in PROBLEM_TYPES if f"`{code}`" not in text]
