"""Shared fixtures. Simulated data is made once per session by the project's own simulator (ctdc.fixtures)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check would otherwise
# refuse the database calls the live server test makes around it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]

# Tests of the pure core cannot reach a database: ctdc.standard/ingest/privacy/release import no Django (checked by
# test_core_is_pure) and pytest-django refuses database access to a test without the django_db mark. Their outcome
# is the same on every backend, so the second backend's run of `make test` (CTDC_TEST_BACKEND_ONLY=1) leaves them
# out instead of spending minutes repeating them. A test there that does use the database keeps running on both.
PURE_TESTS = tuple(ROOT / p for p in (
    "tests/privacy", "tests/standard", "tests/ingest", "tests/release", "tests/fixtures", "tests/test_core_is_pure.py",
    "tests/test_formulas.py", "src/ctdc/standard", "src/ctdc/ingest", "src/ctdc/privacy", "src/ctdc/release",
    "src/ctdc/fixtures", "src/ctdc/formulas.py", "src/ctdc/xlsx.py", "src/ctdc/checksums.py", "src/ctdc/errors.py"))
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup", "run_cli", "client", "admin_client"}


def _backend_independent(item: pytest.Item) -> bool:
    path = Path(str(item.path)).resolve()
    in_pure = any(path == p or p in path.parents for p in PURE_TESTS)
    return (in_pure and item.get_closest_marker("django_db") is None
            and not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CTDC_TEST_BACKEND_ONLY") != "1":
        return
    independent = [_backend_independent(item) for item in items]
    config.hook.pytest_deselected(items=[item for item, skip in zip(items, independent, strict=True) if skip])
    items[:] = [item for item, skip in zip(items, independent, strict=True) if not skip]
SIM_CASES = 3000
SIM_SEED = 11


@pytest.fixture(autouse=True)
def _no_language_left_active():
    """A request in French (the test client runs LocaleMiddleware in the test's thread) leaves French active in
    that thread; every later test, doctests included, would then read French."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(scope="session")
def simulated(tmp_path_factory) -> tuple[Path, dict]:
    """Three contributor files of SIM_CASES fictional cases, and the simulator's manifest."""
    from ctdc.fixtures.simulate import simulate

    out = tmp_path_factory.mktemp("simulated")
    return out, simulate(out, cases=SIM_CASES, seed=SIM_SEED)


@pytest.fixture
def run_cli():
    """Run the real `ctdc` command in-process; returns click's Result."""
    from ctdc.cli.main import cli

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run
