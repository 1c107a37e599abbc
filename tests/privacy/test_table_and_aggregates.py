"""Encoding and combination counts: edge cases and a cross-check against plain polars group_by."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdc.errors import EmptyData
from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
from ctdc.privacy.table import encode_table

from .brute import combination_counts


def engine_counts(df: pl.DataFrame, length: int, min_count: int = 1) -> dict:
    t = encode_table(df)
    agg = count_combinations(t, length, min_count=min_count)
    return {
        tuple((t.columns[c], t.categories[c][v]) for c, v in combo): int(n)
        for combo, n in agg.as_dict_counts().items()
    }


tables = st.integers(1, 40).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            name: st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n)
            for name in ["x", "y", "z", "w"]
        }
    )
)


@settings(max_examples=60, deadline=None)
@given(data=tables, length=st.integers(1, 4))
def test_counts_match_a_plain_group_by_on_random_tables_with_missing_values(data, length):
    df = pl.DataFrame(data, schema={k: pl.String for k in data})
    assert engine_counts(df, length) == combination_counts(df, length)


@settings(max_examples=40, deadline=None)
@given(data=tables, k=st.integers(2, 6))
def test_pruned_counting_keeps_exactly_the_combinations_at_or_above_the_minimum(data, k):
    df = pl.DataFrame(data, schema={c: pl.String for c in data})
    full = {key: n for key, n in combination_counts(df, 3).items() if n >= k}
    assert engine_counts(df, 3, min_count=k) == full


def test_counts_of_the_simulated_table_match_polars_up_to_length_three(small_victims):
    assert engine_counts(small_victims, 3) == combination_counts(small_victims, 3)


def test_length_four_over_twenty_five_attributes_counts_every_column_quadruple(victims):
    agg = count_combinations(encode_table(victims), 4)
    quads = [cols for cols in agg.marginals if len(cols) == 4]
    assert len(quads) == 12650  # C(25, 4): every quadruple holds at least one combination here
    assert agg.n_combinations(4) > agg.n_combinations(3) > 0


@settings(max_examples=40, deadline=None)
@given(data=tables, k=st.integers(1, 8), resolution=st.integers(1, 5))
def test_k_rounding_publishes_only_combinations_of_at_least_k_rounded_down(data, k, resolution):
    df = pl.DataFrame(data, schema={c: pl.String for c in data})
    raw = combination_counts(df, 3)
    t = encode_table(df)
    published = protect_k_rounding(count_combinations(t, 3), k=k, resolution=resolution)
    for combo, n in published.as_dict_counts().items():
        key = tuple((t.columns[c], t.categories[c][v]) for c, v in combo)
        assert raw[key] >= k
        assert n == (raw[key] // resolution) * resolution
    assert published.n_combinations() == sum(1 for n in raw.values() if n >= k)


def test_an_empty_table_is_refused_with_a_clear_error():
    with pytest.raises(EmptyData, match="no records"):
        encode_table(pl.DataFrame({"a": []}, schema={"a": pl.String}))


def test_a_single_row_table_counts_each_value_once():
    df = pl.DataFrame({"a": ["x"], "b": ["y"], "c": [None]}, schema={c: pl.String for c in "abc"})
    assert engine_counts(df, 3) == {(("a", "x"),): 1, (("b", "y"),): 1, (("a", "x"), ("b", "y")): 1}


def test_a_column_with_one_value_is_counted_like_any_other():
    df = pl.DataFrame({"a": ["x"] * 5, "b": ["1", "2", "1", "2", "2"]})
    assert engine_counts(df, 2) == combination_counts(df, 2)


def test_empty_strings_are_missing_values_and_decode_back_to_the_input_types():
    df = pl.DataFrame({"a": ["x", "", " y "], "n": [1, 2, None], "f": [True, False, None]})
    t = encode_table(df)
    assert t.categories == (("x", "y"), ("1", "2"), ("false", "true"))
    assert t.decode().rows() == [("x", 1, True), (None, 2, False), ("y", None, None)]
    assert t.decode().schema == pl.Schema({"a": pl.String, "n": pl.Int64, "f": pl.Boolean})
