import json

import numpy as np
import pytest

from ctdc.fixtures.formats import kobo_frame
from ctdc.fixtures.population import simulate_cases

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_a_file_over_50_mb_ingests_through_the_cli(run_cli, tmp_path):
    path = tmp_path / "large-kobo-export.csv"
    kobo_frame(simulate_cases(125_000, seed=9), np.random.default_rng(9)).write_csv(path)
    assert path.stat().st_size > 50 * 1024 * 1024
    run_cli("org", "create", "big-org", "--name", "Big")
    result = run_cli("ingest", str(path), "--org", "big-org", "--preset", "kobo-htcds", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["rows_read"] == 125_000 == out["accepted"] + out["quarantined"] + out["duplicates"]
    assert out["accepted"] > 120_000
