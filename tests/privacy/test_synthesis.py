"""Synthetic microdata: the k-synthetic guarantee checked independently, determinism, schema, edge cases."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
from ctdc.privacy.budget import Budget
from ctdc.privacy.dp import DPSettings, make_dp_aggregates
from ctdc.privacy.pipeline import make_synthetic_release
from ctdc.privacy.synthesis import _rake, synthesize
from ctdc.privacy.table import encode_table

from .brute import combination_counts


def assert_k_synthetic(original: pl.DataFrame, synthetic: pl.DataFrame, k: int, length: int) -> None:
    """Every combination of length <= L in the synthetic rows occurs at least k times in the input."""
    raw = combination_counts(original, length)
    for combo in combination_counts(synthetic, length):
        assert raw.get(combo, 0) >= k, combo


def test_k_synthetic_rows_hold_no_combination_rarer_than_k_in_the_input(victims):
    rel = make_synthetic_release(victims, method="k-synthetic", k=11, length=3, seed=1)
    assert_k_synthetic(
        victims.select(pl.all().cast(pl.String)), rel.synthetic.select(pl.all().cast(pl.String)), 11, 3
    )
    assert rel.synthetic.height == victims.height


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("uv"), st.sampled_from(["p", "q", None])),
                  min_size=1, max_size=80),
    k=st.integers(1, 8),
    length=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_k_synthetic_guarantee_holds_on_random_tables(data, k, length, seed):
    df = pl.DataFrame(data, schema={"x": pl.String, "y": pl.String, "z": pl.String}, orient="row")
    rel = make_synthetic_release(df, method="k-synthetic", k=k, length=length, seed=seed)
    assert_k_synthetic(df, rel.synthetic, k, length)
    for combo, n in rel.aggregates.as_dict_counts().items():
        assert n >= 0 and len(combo) <= length


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(victims):
    table = encode_table(victims)
    agg = protect_k_rounding(count_combinations(table, 3), k=11, resolution=1)
    a = synthesize(agg, n=500, seed=42, enforce_support=True)
    b = synthesize(agg, n=500, seed=42, enforce_support=True)
    c = synthesize(agg, n=500, seed=43, enforce_support=True)
    assert (a == b).all() and not (a == c).all()


def test_dp_sampling_is_deterministic_given_the_dp_aggregates(small_victims):
    agg = make_dp_aggregates(encode_table(small_victims), DPSettings(budget=Budget.dp(4.0), length=2))
    assert (synthesize(agg, seed=9) == synthesize(agg, seed=9)).all()


def test_synthetic_rows_keep_the_input_schema_for_both_methods(small_victims):
    df = small_victims.with_columns(pl.Series("age", np.arange(small_victims.height) % 5, dtype=pl.Int64))
    for method in ("k-synthetic", "dp"):
        rel = make_synthetic_release(df, method=method, k=5, budget=Budget.dp(4.0), length=2, seed=3)
        assert rel.synthetic.schema == df.schema
        assert rel.synthetic.height > 0


def test_synthetic_rows_follow_the_one_way_distribution_of_the_aggregates(victims):
    table = encode_table(victims)
    agg = count_combinations(table, 2)
    out = synthesize(agg, n=20_000, seed=5)
    for c in range(table.p):
        expected = np.bincount(table.codes[:, c] + 1, minlength=table.cardinalities[c] + 1) / table.n
        got = np.bincount(out[:, c] + 1, minlength=table.cardinalities[c] + 1) / len(out)
        assert np.abs(expected - got).sum() / 2 < 0.03  # total variation distance


def test_missing_values_survive_into_the_synthetic_rows_at_about_the_input_rate(victims):
    rel = make_synthetic_release(victims, method="dp", budget=Budget.dp(4.0), length=2, seed=2)
    rate_in = victims.null_count().sum_horizontal().item() / (victims.height * victims.width)
    rate_out = rel.synthetic.null_count().sum_horizontal().item() / (rel.synthetic.height * victims.width)
    assert abs(rate_in - rate_out) < 0.03


def test_a_single_row_and_a_one_valued_column_still_produce_a_release():
    one = pl.DataFrame({"a": ["x"], "b": ["y"]})
    # Resolution 1: the published counts are the exact ones (with the default 10, one record rounds to no row).
    rel = make_synthetic_release(one, method="k-synthetic", k=1, length=2, seed=0, resolution=1)
    assert rel.synthetic.rows() == [("x", "y")]
    rel = make_synthetic_release(one, method="k-synthetic", k=2, length=2, seed=0, resolution=1)
    assert rel.synthetic.rows() == [(None, None)]  # nothing reaches k: every cell stays missing
    assert make_synthetic_release(one, method="k-synthetic", k=1, length=2, seed=0).synthetic.height == 0
    flat = pl.DataFrame({"a": ["same"] * 30, "b": ["u", "v"] * 15})
    rel = make_synthetic_release(flat, method="k-synthetic", k=5, length=2, seed=0)
    assert set(rel.synthetic.get_column("a").to_list()) == {"same"}


def test_a_column_fixed_by_its_parent_is_still_raked_onto_its_one_way_counts():
    # b follows a except for a few records, and a's conditional counts pull every record towards the common
    # value; raking must still bring b's rows to b's own counts (five iterations, the old fixed number, fail this).
    rng = np.random.default_rng(3)
    a = rng.choice(["x", "y", "z"], size=20_000, p=[0.6, 0.3, 0.1])
    b = np.where(a == "x", "p", np.where(a == "y", "q", "r"))
    flip = rng.random(20_000) < 0.2
    b[flip] = "r"
    table = encode_table(pl.DataFrame({"a": a, "b": b}))
    exact = count_combinations(table, 2)
    # Perturb the 2-way counts so the parent's conditionals disagree with b's 1-way counts.
    skewed = {cols: m for cols, m in exact.marginals.items()}
    pair = skewed[(0, 1)]
    counts = pair.counts.copy()
    counts[np.argmax(counts)] *= 3
    skewed[(0, 1)] = type(pair)(pair.cols, pair.values, counts)
    agg = type(exact)(exact.columns, exact.categories, exact.length, exact.total, skewed)
    out = synthesize(agg, seed=1)
    col = table.index_of("b")
    expected = np.bincount(table.codes[:, col], minlength=3)
    got = np.bincount(out[:, col][out[:, col] >= 0], minlength=3)
    assert np.abs(expected - got).max() <= 3  # within a few records of the released counts


def test_dp_rows_do_not_invent_values_a_column_never_takes_given_its_parents():
    # majority status follows age band exactly; DP noise on the 2- and 3-way counts must not turn into adults
    # among the minor age bands. Handing every unreleased value the whole noisy remainder of its parents'
    # count produced 157-968 of them here (of about 18,400 minors); capped by the lower level's share, 0-27.
    rng = np.random.default_rng(5)
    n = 60_000
    country = rng.integers(0, 15, size=n)
    young = rng.random(n) < 0.1 + 0.03 * country
    band = np.where(young, rng.choice(["0-8", "9-17"], size=n), rng.choice(["18-29", "30+"], size=n))
    cols = {"country": np.char.add("C", country.astype(str)), "band": band,
            "majority": np.where(young, "minor", "adult")}  # fmt: skip
    for j in range(12):
        cols[f"f{j}"] = np.where(rng.random(n) < 0.05 + 0.4 * (country % 4 == j % 4), "1", "0")
    table = encode_table(pl.DataFrame(cols))
    agg = make_dp_aggregates(table, DPSettings(budget=Budget.dp(4.0), length=3))
    out = table.with_codes(synthesize(agg, seed=0)).decode()
    minors = out.filter(pl.col("band").is_in(["0-8", "9-17"]))
    assert (minors.get_column("majority") == "adult").sum() < 0.005 * minors.height


def test_raking_reaches_a_target_that_near_deterministic_rows_make_slow():
    # 25 groups that each put almost all their weight on one of 21 values (country of exploitation given
    # citizenship): proportional fitting creeps there; 50 iterations leave 60 records off, the default stops
    # within half a record.
    rng = np.random.default_rng(2)
    groups, values = 25, 21
    weights = rng.random((groups, values)) * 0.002
    weights[np.arange(groups), np.arange(groups) % values] = 1.0
    sizes = rng.integers(1000, 20000, size=groups).astype(float)
    target = (sizes @ (weights / weights.sum(axis=1, keepdims=True))) * rng.uniform(0.9, 1.1, size=values)
    target *= sizes.sum() / target.sum()
    assert np.abs(sizes @ _rake(weights, target, sizes, iterations=50) - target).max() > 10
    assert np.abs(sizes @ _rake(weights, target, sizes) - target).max() < 0.5
