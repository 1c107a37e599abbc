"""What the disclosure checks gate, per method, recounted here by brute force (issue 13, findings 5, 6 and 7)."""

from itertools import combinations

import polars as pl
import pytest

from ctdc.fixtures.population import simulate_cases
from ctdc.privacy.hierarchy import age_band_hierarchy, year_hierarchy
from ctdc.privacy.kanon import make_k_anonymous
from ctdc.privacy.pipeline import make_synthetic_release
from ctdc.release.build import build_release, released_columns
from ctdc.release.checks import check_release
from ctdc.release.methods import as_text, multi_valued, to_flags
from ctdc.standard import load_standard

IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")
DS = load_standard().dataset("victims")


@pytest.fixture(scope="module")
def frame():
    return simulate_cases(1500, seed=2).drop(*IDENTIFIERS)


def _items(frame: pl.DataFrame) -> pl.DataFrame:
    """One column per fact a row states: a single-valued column's value, or `<field>__<code>` = 1 for each code
    a set holds. Missing and suppressed (`*`) state nothing."""
    text = as_text(frame)
    single = [c for c in text.columns if c not in multi_valued(text, DS)]
    out = text.select(pl.when(pl.col(c) != "*").then(pl.col(c)).alias(c) for c in single)
    for field in multi_valued(text, DS):
        parts = text[field].str.split(";")
        for code in DS.field(field).codelist.codes:
            out = out.with_columns(pl.Series(f"{field}__{code}", parts.list.contains(code).fill_null(False))
                                   .replace_strict({True: "1", False: None}, return_dtype=pl.String))
    return out


def _rare_combinations(frame: pl.DataFrame, k: int, length: int, enough: int | None = None) -> int:
    """Combinations of up to `length` facts that 1..k-1 rows of `frame` state, counted by brute force; with
    `enough`, the count stops as soon as it passes that (a test asserting "more than `enough`" needs no more:
    all 3-combinations of a release's ~100 item columns take 50 s)."""
    items = _items(frame)
    items = items.select(c for c in items.columns if items[c].null_count() < items.height)
    found = 0
    for size in range(1, length + 1):
        for combo in combinations(items.columns, size):
            counts = items.select(combo).drop_nulls().group_by(combo).len()
            found += counts.filter(pl.col("len") < k).height
            if enough is not None and found > enough:
                return found
    return found


def test_the_k_anonymity_release_is_k_anonymous_on_every_released_column_up_to_length_l(tmp_path, frame):
    built = build_release(frame, root=tmp_path, dataset="victims", version="2026.11.1", method="k-anonymity")
    assert built.checks_passed
    micro = pl.read_parquet(built.path / "microdata.parquet")
    assert micro.height > 1000
    # Not only the quasi-identifiers: every combination of up to L = 3 released facts (quasi-identifiers,
    # sensitive fields, each code of a set) is shared by at least k = 11 rows.
    assert _rare_combinations(micro, k=11, length=3) == 0
    assert {c for c in DS.quasi_identifiers if c in micro.columns} < set(micro.columns)


def test_k_anonymity_on_the_quasi_identifiers_alone_fails_the_rare_combinations_check(frame):
    text = as_text(frame.select(released_columns(frame, DS)))
    qi = [c for c in DS.quasi_identifiers if c in text.columns]
    years = [int(y) for y in text["registration_year"].drop_nulls().unique().to_list()]
    anon = make_k_anonymous(text, qi, k=11, hierarchies=[age_band_hierarchy(),
                                                          year_hierarchy(min(years), max(years), width=5)]).data
    assert _rare_combinations(anon, k=11, length=3, enough=100) > 100  # what the old release published
    checks = {c.id: c for c in check_release(text, anon, quasi_identifiers=qi,
                                              sensitive=[c for c in text.columns if c not in qi], k=11, length=3,
                                              method="k-anonymity", multi=multi_valued(text, DS))}
    assert checks["quasi-identifier-k"].passed
    assert checks["rare-combinations"].blocks and checks["rare-combinations"].found > 100


def test_a_dp_release_whose_rows_copy_unique_records_is_still_publishable(tmp_path):
    # Few columns with few values: the DP rows are bound to repeat input records that are unique.
    cases = simulate_cases(2000, seed=5)
    small = cases.select("gender", "majority_status", "is_abduction", "trafficking_duration", "citizenship")
    built = build_release(small, root=tmp_path, dataset="victims", version="2026.11.1", method="dp-synthetic")
    copies = next(c for c in built.checks if c.id == "unique-record-copies")
    assert copies.found > copies.allowed  # the old code refused to publish this release
    assert built.checks_passed and not any(c.blocking for c in built.checks)


def test_check_release_gates_nothing_for_dp_and_everything_for_the_k_methods():
    inp = pl.DataFrame({"g": ["f"] * 12 + ["m"], "s": ["a"] * 13})
    for method, gate in (("dp-synthetic", False), ("k-synthetic", True), ("k-anonymity", True)):
        checks = check_release(inp, inp, quasi_identifiers=["g"], sensitive=["s"], k=11, length=2, method=method)
        assert [c.blocking for c in checks] == [gate] * 3
        assert any(not c.passed for c in checks)


def _one_way(frame: pl.DataFrame) -> dict[str, int]:
    counts = {}
    for c in frame.columns:
        for value, n in frame[c].drop_nulls().value_counts().rows():
            counts[f"{c}:{value}"] = n
    return counts


def test_k_synthetic_rows_have_the_published_rounded_one_way_counts():
    # 1,537 records (not a multiple of the resolution, 10): every exact count differs from its rounded one.
    cases = simulate_cases(1537, seed=4).select("gender", "majority_status", "trafficking_duration")
    rel = make_synthetic_release(cases, method="k-synthetic", k=11, resolution=10, length=2, seed=1)
    published = {row[0]: row[2] for row in rel.aggregates.to_frame().rows() if row[1] == 1}
    exact = _one_way(cases.select(pl.all().cast(pl.String)))
    assert rel.synthetic.height == 1530 == rel.aggregates.total
    assert _one_way(rel.synthetic) == published
    assert all(n % 10 == 0 for n in published.values()) and any(exact[c] % 10 for c in published)


def test_the_k_synthetic_release_never_shows_more_than_the_published_counts(tmp_path, frame):
    b = build_release(frame.head(1237), root=tmp_path, dataset="victims", version="2026.11.1",
                      method="k-synthetic")
    micro = pl.read_csv(b.path / "microdata.csv", infer_schema=False)
    agg = pl.read_csv(b.path / "aggregates.csv", infer_schema=False)
    published = {c: int(n) for c, length, n in agg.select("combination", "length", "count").rows() if length == "1"}
    total = int(agg.filter(pl.col("length") == "0")["count"][0])
    assert micro.height == total == 1230  # the rounded record count, not the 1,237 records
    shown = _one_way(to_flags(micro, DS))
    assert all(n <= published.get(key, 0) for key, n in shown.items()), "a count above its published value"
