"""Differentially private aggregates: contribution bound, noise scale and noise statistics, accounting."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.accounting import add_noise, epsilon_of, make_gaussian_counts, rho_for
from ctdc.privacy.aggregates import count_combinations
from ctdc.privacy.bounding import clip_records
from ctdc.privacy.budget import Budget, delta_for_records
from ctdc.privacy.dp import DPSettings, _consistent_one_way, make_dp_aggregates
from ctdc.privacy.table import encode_table

# Noise statistics: 20,000 unseeded draws from OpenDP. Thresholds are set so a correct sampler fails with
# probability about 1e-4 per check: KS critical value 2.15/sqrt(n) (alpha = 1e-4), mean within 4 standard
# errors, variance ratio within 4 standard errors of the chi-square distribution.
N_DRAWS = 20_000
KS_CRITICAL = 2.15 / math.sqrt(N_DRAWS)


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def test_noise_has_mean_zero_and_the_spread_the_budget_implies():
    sensitivity, rho = math.sqrt(300), 0.1
    meas = make_gaussian_counts(sensitivity, rho)
    sigma = sensitivity / math.sqrt(2 * meas.map(sensitivity))
    assert meas.map(sensitivity) <= rho
    assert sigma == pytest.approx(sensitivity / math.sqrt(2 * rho), rel=1e-3)  # noise no larger than needed
    draws = np.asarray(meas([0] * N_DRAWS), dtype=float)
    assert abs(draws.mean()) < 4 * sigma / math.sqrt(N_DRAWS)
    var_ratio = draws.var(ddof=1) / sigma**2
    assert abs(var_ratio - 1) < 4 * math.sqrt(2 / (N_DRAWS - 1))
    # Kolmogorov-Smirnov against N(0, sigma^2), with a continuity correction for the integer support.
    support = np.arange(int(draws.min()), int(draws.max()) + 1)
    empirical = np.searchsorted(np.sort(draws), support, side="right") / N_DRAWS
    assert np.abs(empirical - _normal_cdf((support + 0.5) / sigma)).max() < KS_CRITICAL


def test_noise_drawn_in_parallel_chunks_has_the_spread_of_one_draw():
    # 120,000 counts are noised in two chunks on two threads; each chunk must get its own independent noise of
    # the measurement's scale (a chunk repeated, or left unnoised, would fail these checks).
    meas = make_gaussian_counts(math.sqrt(10), 0.05)
    sigma = math.sqrt(10) / math.sqrt(2 * 0.05)
    noise = add_noise(meas, np.zeros(120_000, dtype=np.int64))
    assert noise.shape == (120_000,)
    for half in (noise[:60_000], noise[60_000:]):
        assert abs(half.mean()) < 4 * sigma / math.sqrt(len(half))
        assert half.std() == pytest.approx(sigma, rel=0.03)
    assert abs(np.corrcoef(noise[:60_000], noise[60_000:])[0, 1]) < 0.02


def test_a_mis_scaled_sampler_would_fail_the_noise_check():
    # The KS check above has power: noise at 1.1 times the budgeted sigma is rejected.
    meas = make_gaussian_counts(math.sqrt(300), 0.1)
    sigma = math.sqrt(300) / math.sqrt(2 * meas.map(math.sqrt(300)))
    draws = np.asarray(meas([0] * N_DRAWS), dtype=float)
    support = np.arange(int(draws.min()), int(draws.max()) + 1)
    empirical = np.searchsorted(np.sort(draws), support, side="right") / N_DRAWS
    assert np.abs(empirical - _normal_cdf((support + 0.5) / (1.1 * sigma))).max() > KS_CRITICAL


def test_rho_and_epsilon_conversions_round_trip_through_opendp():
    delta = delta_for_records(250_000)
    rho = rho_for(4.0, delta)
    assert epsilon_of(rho, delta) == pytest.approx(4.0, abs=1e-6)
    assert epsilon_of(rho, delta) <= 4.0
    assert epsilon_of(rho * 1.01, delta) > 4.0


def contribution_vectors(codes: np.ndarray, categories, m_star: int, length: int) -> dict[int, dict]:
    """Per length, the count vector of the clipped records (dict combination -> count)."""
    t = encode_table(pl.DataFrame({"a": ["x"]})).__class__(
        tuple(f"c{j}" for j in range(codes.shape[1])), categories, clip_records(codes, m_star),
        tuple(pl.String for _ in range(codes.shape[1])),
    )  # fmt: skip
    counts = count_combinations(t, length).as_dict_counts()
    return {size: {k: v for k, v in counts.items() if len(k) == size} for size in range(1, length + 1)}


@settings(max_examples=40, deadline=None)
@given(
    codes=st.lists(st.lists(st.integers(-1, 2), min_size=6, max_size=6), min_size=2, max_size=25),
    m_star=st.integers(1, 6),
    drop=st.integers(0, 24),
)
def test_removing_one_record_moves_each_length_vector_by_at_most_the_contribution_bound(codes, m_star, drop):
    arr = np.array(codes, dtype=np.int32)
    drop = drop % len(arr)
    neighbour = np.delete(arr, drop, axis=0)
    cats = tuple(("0", "1", "2") for _ in range(6))
    full = contribution_vectors(arr, cats, m_star, 3)
    less = contribution_vectors(neighbour, cats, m_star, 3)
    for size in (1, 2, 3):
        keys = set(full[size]) | set(less[size])
        diff = np.array([full[size].get(k, 0) - less[size].get(k, 0) for k in keys])
        bound = math.comb(m_star, size)
        assert np.abs(diff).sum() <= bound  # L1: at most C(m*, l) cells
        assert np.sqrt((diff**2).sum()) <= math.sqrt(bound) + 1e-12  # L2: the Gaussian's sensitivity
        assert (np.abs(diff) <= 1).all()


def test_clipping_keeps_at_most_m_star_attributes_and_depends_only_on_the_record():
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 3, size=(500, 12)).astype(np.int32)
    clipped = clip_records(codes, 5)
    assert ((clipped >= 0).sum(axis=1) <= 5).all()
    assert ((clipped == codes) | (clipped == -1)).all()
    # The same record gets the same clipping wherever it sits in the table.
    again = clip_records(codes[::-1].copy(), 5)[::-1]
    assert (again == clipped).all()


def test_dp_aggregates_spend_exactly_the_budget_and_record_the_accounting(victims):
    agg = make_dp_aggregates(encode_table(victims), DPSettings(budget=Budget.dp(2.0), length=3))
    p = agg.protection
    assert p["delta"] == pytest.approx(delta_for_records(1_000_000))  # a public bound, never the input size
    assert p["epsilon_spent"] <= 2.0  # exactly: the ledger charges epsilon_spent against the budget
    assert p["rho_spent"] <= p["rho"] + 1e-12
    assert p["privacy_unit"].startswith("one person, added or removed with all their rows")
    m_star = p["attributes_per_record_bound"]
    for size in ("2", "3"):
        sigma = p["sigma_by_length"][size]
        rho_l = p["rho_by_length"][size]
        sensitivity = p["l2_sensitivity_by_length"][size]
        assert sigma == pytest.approx(sensitivity / math.sqrt(2 * rho_l), rel=1e-6)
        assert sensitivity == pytest.approx(math.sqrt(math.comb(m_star, int(size))))
    # Length 1: one cell per column and record (a value or missing) when that is no more than m* + 1 cells;
    # then each column is measured alone at sensitivity 1, its rho in proportion to (cells)^(2/3).
    assert victims.width <= m_star + 1  # the fixture is dense: it exercises the per-column measurement
    assert p["one_way_cells"].startswith("values and a missing cell")
    assert p["l2_sensitivity_by_length"]["1"] == 1.0
    columns = p["one_way_by_column"]
    cells = np.array([victims.get_column(c).drop_nulls().n_unique() + 1 for c in victims.columns], dtype=float)
    rhos = np.array([columns[c]["rho"] for c in victims.columns])
    assert rhos.sum() == pytest.approx(p["rho_by_length"]["1"])
    assert rhos / rhos.sum() == pytest.approx(cells ** (2 / 3) / (cells ** (2 / 3)).sum(), rel=1e-3)
    sigmas = np.array([columns[c]["sigma"] for c in victims.columns])
    assert sigmas == pytest.approx(1 / np.sqrt(2 * rhos), rel=1e-6)
    assert p["sigma_by_length"]["1"] == pytest.approx(sigmas.max())
    assert agg.n_combinations(1) > 0


def test_sparse_tables_keep_the_record_count_cell_at_length_one():
    # 30 flag columns, each record holds 3 flags: measuring a missing cell per column would cost sqrt(30).
    rng = np.random.default_rng(4)
    flags = np.full((3000, 30), None, dtype=object)
    for row in range(3000):
        flags[row, rng.choice(30, 3, replace=False)] = "1"
    table = encode_table(pl.DataFrame({f"f{j}": list(flags[:, j]) for j in range(30)}))
    p = make_dp_aggregates(table, DPSettings(length=2)).protection
    assert p["attributes_per_record_bound"] < 29
    assert p["l2_sensitivity_by_length"]["1"] == pytest.approx(math.sqrt(p["attributes_per_record_bound"] + 1))
    assert p["one_way_cells"] == "values and the record count"


def test_one_way_counts_are_not_biased_by_clipping_records_with_many_attributes():
    # 0.5 % of records hold all 6 attributes, the rest 5: the private bound m* is 5 and length-1 counts use a
    # missing cell per column. Clipping those 300 records would move 50 values per column into the missing
    # cell (11 sigma); counted unclipped, every cell stays within the noise.
    rng = np.random.default_rng(8)
    n, p = 60_000, 6
    codes = np.zeros((n, p), dtype=object)
    codes[:] = "v"
    full = rng.random(n) < 0.005
    gap = rng.integers(0, p, size=n)
    codes[~full, gap[~full]] = None
    table = encode_table(pl.DataFrame({f"c{j}": list(codes[:, j]) for j in range(p)}))
    agg = make_dp_aggregates(table, DPSettings(budget=Budget.dp(4.0), length=2))
    prot = agg.protection
    assert prot["attributes_per_record_bound"] == p - 1
    assert prot["one_way_cells"].startswith("values and a missing cell")
    truth = count_combinations(table, 1)
    for j in range(p):
        sigma = prot["one_way_by_column"][f"c{j}"]["sigma"]
        assert abs(agg.get((j,)).counts[0] - truth.get((j,)).counts[0]) < 5 * sigma


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.lists(st.floats(-50, 500), min_size=2, max_size=6), min_size=1, max_size=6))
def test_one_way_consistency_makes_every_column_sum_to_one_record_count(cells):
    card = np.array([len(c) - 1 for c in cells])
    noisy = np.concatenate([np.array(c, dtype=float) for c in cells])
    adjusted, n = _consistent_one_way(noisy, card)
    starts = np.concatenate([[0], np.cumsum(card + 1)[:-1]])
    sums = np.add.reduceat(adjusted, starts)
    assert np.allclose(sums, sums[0], atol=1e-6)
    # Least squares onto the constraint: within a column every cell moves by the same amount.
    shift = adjusted - noisy
    for start, size in zip(starts, card + 1, strict=True):
        assert np.allclose(shift[start : start + size], shift[start], atol=1e-9)
    assert n == pytest.approx(max(float(sums[0]), 0.0), abs=1e-6)


def test_dp_aggregates_are_consistent_and_drop_counts_below_the_threshold(victims):
    agg = make_dp_aggregates(encode_table(victims), DPSettings(budget=Budget.dp(4.0), length=3))
    counts = agg.as_dict_counts()
    for combo, n in counts.items():
        assert n >= max(agg.protection["threshold_by_length"][str(len(combo))], 1.0)
        if len(combo) > 1:
            for i in range(len(combo)):
                sub = combo[:i] + combo[i + 1 :]
                assert n <= counts[sub]  # never more frequent than a sub-combination


def test_unusual_budgets_warn_and_invalid_ones_are_refused(small_victims):
    table = encode_table(small_victims)
    with pytest.warns(UserWarning, match="above 5"):
        make_dp_aggregates(table, DPSettings(budget=Budget.dp(6.0), length=1))
    with pytest.raises(InvalidPrivacyParameter):
        make_dp_aggregates(table, DPSettings(budget=Budget(1.0, 2.0)))
    with pytest.raises(InvalidPrivacyParameter):
        make_dp_aggregates(table, DPSettings(length=0))


def test_a_single_row_table_gets_dp_aggregates_without_error():
    df = pl.DataFrame({"a": ["x"], "b": ["y"]})
    agg = make_dp_aggregates(encode_table(df), DPSettings(budget=Budget.dp(1.0), length=2))
    assert agg.protection["attributes_per_record_bound"] >= 1
