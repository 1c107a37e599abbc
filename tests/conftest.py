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
SIM_CASES = 3000
SIM_SEED = 11


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
