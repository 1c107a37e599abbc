"""One registry of problem codes (issue 14, item 6): what the pipeline reports, the report's titles and the docs'
table all come from `ctdc.ingest.problems`, and a rule cannot report a code (or a severity) the registry does not
know."""

import re
from pathlib import Path

import polars as pl
import pytest

from ctdc.errors import IngestError
from ctdc.ingest.mapping import load_mapping, parse_mapping
from ctdc.ingest.pipeline import ingest_file
from ctdc.ingest.problems import PROBLEMS, render
from ctdc.ingest.report import PROBLEM_TYPES
from ctdc.ingest.stages.builder import Builder
from ctdc.standard import load_standard

DATA = Path(__file__).parent.parent / "data"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "ingest.md"
KEY = b"test-identity-key"


def test_the_report_titles_and_the_docs_table_are_the_registry():
    assert {code: (t.title, t.description) for code, t in PROBLEMS.items()} == PROBLEM_TYPES
    assert "missing-required-column" in PROBLEMS
    table = dict(re.findall(r"^\| `([a-z-]+)` \| ([a-z ]+) \|", DOCS.read_text(), flags=re.M))
    words = {"error": "error", "warning": "warning", "file": "stops the file"}
    assert {code: words[t.severity] for code, t in PROBLEMS.items()} == table


def test_every_message_of_a_report_is_the_registry_template_with_the_problem_context():
    result = ingest_file(DATA / "problems.csv", load_mapping(DATA / "small.mapping.yml"), identity_key=KEY)
    victims = load_standard().dataset("victims")
    for p in result.report.problems.iter_rows(named=True):
        assert p["message"] == render(p["code"], value=p["value"], label=victims.field(p["field"]).label
                                      if p["field"] in victims.field_names else "",
                                      column=p["column"], expected=p["expected"]), p
        assert p["severity"] == PROBLEMS[p["code"]].severity


def test_a_file_missing_a_required_column_is_refused_with_the_registered_code(tmp_path):
    path = tmp_path / "no-year.csv"
    path.write_text("id,citizenship\nA1,PH\n")
    spec = parse_mapping("dataset: victims\nrecord_id: id\ncolumns:\n  citizenship: {field: citizenship}\n")
    with pytest.raises(IngestError) as caught:
        ingest_file(path, spec, identity_key=KEY)
    assert caught.value.extra["code"] == "missing-required-column"
    assert caught.value.message == ("no-year.csv: no column is mapped to the registration year or date, which every "
                                    "record needs (problem code missing-required-column).")


def test_a_rule_cannot_report_an_unregistered_code_or_another_severity():
    b = Builder(pl.DataFrame({"row": [1]}))
    with pytest.raises(KeyError, match="not-a-registered-code"):
        b.flag(pl.lit(True), "c", "f", "not-a-registered-code", "c", "")
    with pytest.raises(ValueError, match="unknown-country is an error"):
        b.flag(pl.lit(True), "c", "f", "unknown-country", "c", "", severity="warning")
    b.flag(pl.lit(True), "c", "f", "censored-value", "c", "")
    assert b.flags[-1][-1] == "warning"
