"""Conventions: the privacy core never imports Django, and every mechanism has its NOTES.md sections."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import ctdc.privacy

PRIVACY_DIR = Path(ctdc.privacy.__file__).parent


def test_importing_every_privacy_module_loads_no_django():
    modules = [f"ctdc.privacy.{m.name}" for m in pkgutil.iter_modules([str(PRIVACY_DIR)])]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(any(k.startswith('django') for k in sys.modules))"
    )
    src = str(PRIVACY_DIR.parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, check=True
    )
    assert out.stdout.strip() == "False"
    for path in PRIVACY_DIR.glob("*.py"):
        assert "import django" not in path.read_text() and "from django" not in path.read_text(), path


def test_the_mechanism_notes_cover_guarantee_preconditions_pseudocode_references_and_tests():
    notes = (PRIVACY_DIR / "NOTES.md").read_text()
    for mechanism in (
        "k-rounding",
        "k-anonymization",
        "Differentially private aggregates",
        "Synthesis",
        "Marginal model (DP synthesis)",
        "Ledger",
    ):
        assert f"## {mechanism}" in notes
    sections = notes.split("\n## ")[1:]
    for section in sections:
        for heading in ("Guarantee", "Privacy unit", "Preconditions", "Pseudocode", "References", "Tests"):
            assert f"**{heading}**" in section, (section.splitlines()[0], heading)
        for test_file in [w for w in section.split() if w.startswith("`tests/privacy/")]:
            assert (PRIVACY_DIR.parents[2] / test_file.strip("`:,.")).exists(), test_file
