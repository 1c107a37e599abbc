"""The core packages must never import Django (STYLE.md): they are usable without the web shell.

Nor may the production core (everything but the simulator itself) import the web shell or the simulator
(`ctdc.fixtures`, which loads Faker): intake once imported the simulator for its age bands (issue 14, item 6).
"""

import subprocess
import sys

CORE = ("ctdc.standard", "ctdc.ingest", "ctdc.privacy", "ctdc.release", "ctdc.fixtures", "ctdc.errors", "ctdc.checksums")
PRODUCTION_CORE = tuple(c for c in CORE if c != "ctdc.fixtures") + ("ctdc.xlsx", "ctdc.formulas")

SCRIPT = """
import importlib, pkgutil, sys
for name in {core!r}:
    mod = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), name + "."):
        importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in {forbidden!r}))
print(",".join(bad))
"""


def _imported(core: tuple[str, ...], forbidden: tuple[str, ...], before: str = "") -> str:
    script = before + SCRIPT.format(core=core, forbidden=forbidden)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()


def test_no_core_module_imports_django():
    assert _imported(CORE, ("django",)) == "", "core imported Django"


def test_no_production_core_module_imports_the_web_shell_or_the_simulator():
    found = _imported(PRODUCTION_CORE, ("django", "ctdc.web", "ctdc.fixtures", "faker"))
    assert found == "", f"production core imported: {found}"


def test_the_purity_checks_would_notice_a_forbidden_import():
    # Guard against checks that cannot fail: importing the web shell, or the simulator, must show up.
    assert "django" in _imported(("ctdc.errors",), ("django",), before="import django.conf\n")
    found = _imported(("ctdc.ingest",), ("ctdc.fixtures", "faker"), before="import ctdc.fixtures.population\n")
    assert "ctdc.fixtures.population" in found.split(",") and "faker" in found.split(",")
    found = _imported(("ctdc.release",), ("ctdc.web",), before="import ctdc.web.submissions.report_words\n")
    assert "ctdc.web.submissions.report_words" in found.split(",")
