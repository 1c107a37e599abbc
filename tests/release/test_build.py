import json

import polars as pl
import pytest

from ctdc.errors import ReleaseError
from ctdc.fixtures.population import simulate_cases
from ctdc.release.build import build_release, verify_release


@pytest.fixture
def frame():
    df = simulate_cases(4000, seed=2)
    return df.drop("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
                   "narrative")


def test_a_release_folder_is_complete_and_verifies(tmp_path, frame):
    built = build_release(frame, root=tmp_path, dataset="victims", version="2026.11.1", k=11)
    assert sorted(p.name for p in built.path.iterdir()) == ["CHECKSUMS.sha256", "aggregates.csv", "metadata.json",
                                                            "summary.json"]
    assert verify_release(built.path) == []
    assert not [p for p in (tmp_path / "victims").iterdir() if p.name.startswith(".tmp")]
    meta = json.loads((built.path / "metadata.json").read_text())
    assert meta["records"] == 4000 and meta["params"] == {"k": 11}


def test_no_published_count_is_below_k_checked_independently(tmp_path, frame):
    built = build_release(frame, root=tmp_path, dataset="victims", version="2026.11.1", k=25)
    counts = pl.read_csv(built.path / "aggregates.csv", schema_overrides={"value": pl.String})
    assert counts["count"].min() >= 25
    # Recount citizenship straight from the input: every shown count is exact, every hidden one is < k.
    truth = dict(frame.group_by("citizenship").len().drop_nulls().iter_rows())
    shown = dict(counts.filter(pl.col("dimension") == "citizenship").select("value", "count").iter_rows())
    assert all(truth[c] == n for c, n in shown.items())
    assert all(n < 25 for c, n in truth.items() if c not in shown)
    assert any(n < 25 for n in truth.values()), "the test data must contain something to suppress"


def test_a_tampered_release_fails_verification(tmp_path, frame):
    built = build_release(frame, root=tmp_path, dataset="victims", version="2026.11.1", k=11)
    (built.path / "aggregates.csv").write_text("dimension,value,count\ngender,female,1\n")
    assert verify_release(built.path) == ["aggregates.csv does not match its checksum"]


def test_a_published_version_is_never_rewritten(tmp_path, frame):
    build_release(frame, root=tmp_path, dataset="victims", version="2026.11.1", k=11)
    with pytest.raises(ReleaseError, match="never rewritten"):
        build_release(frame, root=tmp_path, dataset="victims", version="2026.11.1", k=11)


def test_direct_identifiers_in_the_input_refuse_the_release(tmp_path):
    df = simulate_cases(100, seed=1)
    with pytest.raises(ReleaseError, match="direct identifier"):
        build_release(df, root=tmp_path, dataset="victims", version="2026.11.1", k=11)
    assert not (tmp_path / "victims" / "2026.11.1").exists()
