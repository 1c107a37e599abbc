"""The portal's privacy contract, as an attacker would probe it: over generated filter sets, no count below the
release's threshold and no combination longer than its reporting length L is ever answered.

The index is checked against an independent reading of aggregates.csv (polars, not the index's parser): every
answered count is the sum of published counts of combinations of at most L values, each at least the threshold.
"""

from __future__ import annotations

import io

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdc.fixtures.population import simulate_cases
from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
from ctdc.privacy.table import encode_table
from ctdc.release.build import released_columns
from ctdc.release.methods import _aggregates_frame, as_text, to_flags
from ctdc.standard import load_standard
from ctdc.web.portal.figures import DIMENSIONS, MULTI, YEAR, AggregateIndex, FigureQueryError

K, RESOLUTION, L = 11, 10, 3


@pytest.fixture(scope="module")
def release_csv() -> bytes:
    """aggregates.csv as a k-rounded release writes it (the real engine), of 2,000 simulated cases."""
    ds = load_standard().dataset("victims")
    frame = simulate_cases(2000, seed=5)
    table = to_flags(as_text(frame.select(released_columns(frame, ds))), ds)
    agg = protect_k_rounding(count_combinations(encode_table(table), L, min_count=K), k=K, resolution=RESOLUTION)
    out = io.BytesIO()
    _aggregates_frame(agg).write_csv(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def published(release_csv) -> dict[frozenset, int]:
    """Independent reading: {frozenset of column:value pairs: count}."""
    frame = pl.read_csv(io.BytesIO(release_csv), infer_schema=False)
    return {frozenset(c.split(";")) if c else frozenset(): int(n)
            for c, n in zip(frame["combination"].fill_null(""), frame["count"], strict=True)}


@pytest.fixture(scope="module")
def index(release_csv) -> AggregateIndex:
    return AggregateIndex.from_csv(release_csv, version="2026.01.1", k=K)


def _pair(dim: str, value: str) -> str:
    return f"{dim}__{value}:1" if dim in MULTI else f"{dim}:{value}"


def _expected(published, index, by_values: dict[str, str], filters: dict[str, str], years: list[str] | None):
    """The count an honest portal shows: the sum of published counts >= T over the years, each of length <= L."""
    t = index.threshold
    base = {_pair(d, v) for d, v in [*filters.items(), *by_values.items()]}
    if len({p.split(":")[0] for p in base}) < len(base):
        return None  # one person has one gender: "male among females" is no one
    total, terms = 0, 0
    for alt in ([None] if years is None else years):
        combo = frozenset(base | ({f"{YEAR}:{alt}"} if alt else set()))
        assert len(combo) <= L, "the portal asked for a combination longer than the release publishes"
        count = published.get(combo, 0)
        if count >= t:
            total, terms = total + count, terms + 1
    return total if total >= t else None


def test_the_threshold_is_k_raised_to_the_rounding_resolution(index):
    # A k-rounded 10 stands for 11..19 records: "fewer than 11" would be false of it, "fewer than 20" is true.
    assert (index.threshold, index.length) == (20, L)


questions = st.fixed_dictionaries({
    "by": st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=2, unique=True),
    "filters": st.dictionaries(st.sampled_from([d for d in DIMENSIONS if d != YEAR]), st.integers(0, 40),
                               max_size=4),
    "year_from": st.one_of(st.none(), st.integers(2000, 2026)),
    "year_to": st.one_of(st.none(), st.integers(2000, 2026)),
})


def _concrete(index, q):
    """Turn drawn indexes into values of the release (and now and then a value it does not have)."""
    filters = {}
    for dim, i in q["filters"].items():
        domain = index.domains[dim]
        filters[dim] = domain[i % len(domain)] if domain and i < 35 else "ZZ"
    return filters


class Release:
    """The index and its independent reading, behind a short repr (hypothesis prints a failing test's arguments)."""

    def __init__(self, index, published):
        self.index, self.published = index, published

    def __repr__(self) -> str:
        return f"Release({self.index!r})"


@pytest.fixture(scope="module")
def release(index, published) -> Release:
    return Release(index, published)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=questions)
def test_no_count_below_the_threshold_and_no_combination_beyond_l_is_ever_answered(release, q):
    index, published = release.index, release.published
    filters = _concrete(index, q)
    by = tuple(q["by"])
    try:
        fig = index.query(by=by, filters=filters, year_from=q["year_from"], year_to=q["year_to"])
    except FigureQueryError:
        years = index._year_values(q["year_from"], q["year_to"]) if (q["year_from"] or 0) <= (q["year_to"] or 10**9) else []
        used = len(by) + len(filters) + int(years is not None and YEAR not in by) - sum(1 for d in by if d in filters and d not in MULTI)
        assert used > L or (q["year_from"] or 0) > (q["year_to"] or 10**9)
        return
    years = index._year_values(q["year_from"], q["year_to"])
    t = index.threshold
    for row in [fig.total, *fig.rows]:
        assert row.count is None or row.count >= t  # never a small number
    assert fig.total.count == _expected(published, index, {}, filters, years)
    years_by = YEAR in by and years is not None
    for row in fig.rows:
        values = dict(zip(by, row.values, strict=True))
        if years_by:  # a chart by year under a range: the range's years, each its own count
            assert values[YEAR] in years
        assert row.count == _expected(published, index, values, filters, None if years_by else years)


def test_a_question_longer_than_l_is_refused_with_a_clear_message(index):
    with pytest.raises(FigureQueryError, match="at most 3 values; this question combines 4"):
        index.query(by=("gender",), filters={"age_band": "18-20", "citizenship": "UA"}, year_from=2015)


def test_dp_counts_below_k_are_hidden_too():
    csv = (b'combination,length,count,protection\n"",0,900,differential privacy epsilon=4 delta=1e-05\n'
           b"gender:female,1,12,dp\ngender:male,1,4,dp\ngender:trans_nonconforming,1,-3,dp\n")
    ix = AggregateIndex.from_csv(csv, version="2026.01.1", k=11)
    assert ix.threshold == 11
    assert [(r.values, r.count) for r in ix.query(by=("gender",)).rows] == [
        (("female",), 12), (("male",), None), (("trans_nonconforming",), None)]
