"""docs/standard.md keeps up with the standard: every dataset type, role and codebook command is documented."""

from pathlib import Path

from click.testing import CliRunner

from ctdc.cli.codebook import codebook
from ctdc.standard import load_standard
from ctdc.standard.model import ROLE_LABELS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "standard.md").read_text(encoding="utf-8")


def test_every_dataset_type_is_in_the_docs():
    for name in load_standard().datasets:
        assert f"`{name}`" in DOC, name


def test_every_disclosure_role_is_explained_in_the_docs():
    for labels in ROLE_LABELS.values():
        assert labels["en"].lower() in DOC.lower()


def test_every_codebook_command_and_format_is_in_the_docs():
    for command in codebook.commands:
        assert f"ctdc codebook {command}" in DOC, command
    for fmt in ("html", "csv", "xlsx", "json", "datapackage"):
        assert f"export --format {fmt}" in DOC
    assert CliRunner().invoke(codebook, ["--help"]).exit_code == 0


def test_the_docs_carry_the_htcds_attribution_and_cite_the_ctdc_codebook():
    assert "HTCDS) 2.0 by IOM, https://github.com/UNMigration/HTCDS" in DOC and "CC BY 4.0" in DOC
    assert "CTDC codebook" in DOC
