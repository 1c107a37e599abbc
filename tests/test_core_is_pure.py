"""The core packages must never import Django (STYLE.md): they are usable without the web shell."""

import subprocess
import sys

CORE = ("ctdc.standard", "ctdc.ingest", "ctdc.privacy", "ctdc.release", "ctdc.fixtures", "ctdc.errors", "ctdc.checksums")

SCRIPT = """
import importlib, pkgutil, sys
for name in {core!r}:
    mod = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(mod, "__path__", []), name + "."):
        importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
print(",".join(bad))
"""


def test_no_core_module_imports_django():
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(core=CORE)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core imported: {out.stdout.strip()}"


def test_the_purity_check_would_notice_a_django_import():
    # Guard against a check that cannot fail: importing the web shell must show up.
    script = "import django.conf\n" + SCRIPT.format(core=("ctdc.errors",))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "django" in out.stdout
