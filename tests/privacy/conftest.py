"""Shared simulated tables for the privacy tests (simulated data only, never real cases)."""

from __future__ import annotations

import polars as pl
import pytest

from ctdc.privacy.simulated import simulate_ctdc_public, simulate_victims


@pytest.fixture(scope="session")
def victims() -> pl.DataFrame:
    """2,000 simulated victims, 25 correlated categorical columns with a few missing cells."""
    return simulate_victims(2_000, seed=11)


@pytest.fixture(scope="session")
def small_victims() -> pl.DataFrame:
    """600 simulated victims, 10 columns: small enough for brute-force cross-checks."""
    return simulate_victims(600, seed=5, columns=10)


@pytest.fixture(scope="session")
def ctdc_public() -> pl.DataFrame:
    """1,500 simulated rows in the public CTDC layout (coded columns and 0/1 flags)."""
    return simulate_ctdc_public(1_500, seed=3)
