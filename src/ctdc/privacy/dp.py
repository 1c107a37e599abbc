"""Differentially private aggregates: noisy counts of every combination up to a reporting length (zCDP).

NOTE: pure numpy/polars + OpenDP; no Django. Every noise sample comes from OpenDP's Gaussian measurement (its
secure sampler); this module never draws noise from numpy and never seeds noise. Mechanism notes: `NOTES.md`.

Privacy unit: one record (add/remove one row; symmetric distance 1). Guarantee: rho-zCDP, reported as
(epsilon, delta)-DP through OpenDP's zCDP -> approximate-DP conversion.

Outline (as in the Synthetic Data Showcase DP aggregator, Microsoft Research with IOM):

1. spend `percentile_share` of rho on a private `percentile` of the number of non-missing attributes per
   record (OpenDP `make_private_quantile`); that number `m*` bounds each record's contribution: length `l`
   contributes to at most `C(m*, l)` combinations (records with more attributes keep a pseudo-random subset
   of `m*` of them, chosen from the record's own values so the clipping is row-wise);
2. split the rest of rho across lengths 1..L (`length_weights`, by default 3 : 1 : 1 ...);
3. length 1: noisy counts of every value in the public domain of each column, plus the record count (L2
   sensitivity sqrt(m* + 1)); or, when p <= m* + 1, plus one missing cell per column instead, so that every
   column sums to the record count: each column then gets its own Gaussian (sensitivity 1, counted on the
   unclipped records) with a share of length 1's rho in proportion to its cells^(2/3) (`_column_shares`);
   length l > 1: noisy counts of every *candidate* combination - those whose every (l-1)-subset survived -
   including candidates absent from the data; Gaussian noise with L2 sensitivity sqrt(C(m*, l));
4. consistency: with missing cells, estimate the record count from all column sums and project each column
   onto it (least squares); round, and cap each combination by the smallest of its (released) sub-combinations;
5. drop counts below `threshold * sigma_l` (and below 1): noisy thresholding of fabricated small combinations.

Steps 4-5 and all candidate generation are post-processing of released values, so they cost no budget.
"""

from __future__ import annotations

import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import opendp.prelude as dp

from ctdc.errors import InvalidPrivacyParameter, MechanismNotVetted
from ctdc.privacy.aggregates import Aggregates, Marginal, count_combinations, pack
from ctdc.privacy.table import EncodedTable

PRIVACY_UNIT = "one record (add or remove one row)"


def _enable_opendp() -> None:
    """OpenDP marks its Gaussian and quantile mechanisms `contrib`; we opt in once, explicitly."""
    try:
        dp.enable_features("contrib")
    except Exception as exc:  # pragma: no cover - opendp refuses only in a locked-down build
        raise MechanismNotVetted(
            "OpenDP refused to enable its 'contrib' features, which the Gaussian and quantile mechanisms need;"
            " run dp.enable_features('contrib') in an OpenDP build that allows it.",
            {"feature": "contrib"},
        ) from exc


def _gaussian(scale: float) -> dp.Measurement:
    """OpenDP discrete Gaussian on an integer count vector; sensitivity measured in float L2 distance."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=float)
    return dp.m.make_gaussian(*space, scale=scale)


def make_gaussian_counts(sensitivity: float, rho: float) -> dp.Measurement:
    """The OpenDP Gaussian measurement adding the least noise that is `rho`-zCDP at L2 `sensitivity`.

    Privacy unit: whatever neighbouring relation makes the count vector move by at most `sensitivity` in L2.

    >>> meas = make_gaussian_counts(sensitivity=2.0, rho=0.5)
    >>> meas.map(2.0) <= 0.5
    True
    >>> len(meas([10, 20, 30]))
    3
    """
    _enable_opendp()
    if rho <= 0 or sensitivity <= 0:
        raise InvalidPrivacyParameter("rho and the sensitivity must be positive.", {"rho": rho})
    # The Gaussian's zCDP loss is (sensitivity / scale)^2 / 2, so start from that scale and let OpenDP's own
    # privacy map confirm it, nudging the scale up past float rounding; a binary search (56 ms, once per
    # column at length 1) is the fallback.
    scale = float(sensitivity) / math.sqrt(2.0 * float(rho))
    for _ in range(8):
        meas = _gaussian(scale)
        if meas.map(float(sensitivity)) <= rho:
            return meas
        scale *= 1.0 + 1e-12
    scale = dp.binary_search_param(_gaussian, d_in=float(sensitivity), d_out=float(rho), T=float)
    return _gaussian(scale)


def _add_noise(meas: dp.Measurement, vector: np.ndarray) -> np.ndarray:
    """`meas(vector)`, with long vectors noised in chunks on parallel threads.

    The Gaussian adds independent noise of one scale to every entry, so noising the chunks of a vector with
    the same measurement draws exactly the distribution `meas(vector)` draws, and the privacy loss is the
    measurement's own map at the whole vector's sensitivity (as accounted by the caller). OpenDP's sampler
    runs outside the GIL (ctypes call), at about 30 us a count: 300,000 length-3 candidates take 8 s on one
    core and half that on two.
    """
    values = vector.tolist()
    workers = min(os.cpu_count() or 1, 4, max(1, len(values) // 50_000))
    if workers == 1:
        return np.asarray(meas(values), dtype=np.float64)
    bounds = np.linspace(0, len(values), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(meas, [values[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]))
    return np.concatenate([np.asarray(part, dtype=np.float64) for part in parts])


def _probe(rho: float) -> dp.Measurement:
    """A Gaussian measurement whose privacy loss at d_in = 1 is `rho`; used to convert rho via OpenDP."""
    space = dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float)
    return dp.c.make_zCDP_to_approxDP(dp.m.make_gaussian(*space, scale=1.0 / math.sqrt(2.0 * rho)))


def epsilon_of(rho: float, delta: float) -> float:
    """The epsilon of rho-zCDP at `delta`, from OpenDP's zCDP -> approximate-DP conversion.

    >>> round(epsilon_of(0.5, 1e-6), 3)
    5.222
    """
    _enable_opendp()
    return float(_probe(rho).map(1.0).epsilon(delta))


def rho_for(epsilon: float, delta: float) -> float:
    """The largest rho whose zCDP guarantee converts (in OpenDP) to (`epsilon`, `delta`)-DP.

    >>> rho = rho_for(4.0, 1e-6)
    >>> epsilon_of(rho, 1e-6) <= 4.0
    True
    """
    _enable_opendp()
    if epsilon <= 0 or not 0 < delta < 1:
        raise InvalidPrivacyParameter(
            "Need epsilon > 0 and 0 < delta < 1.", {"epsilon": epsilon, "delta": delta}
        )
    lo, hi = 1e-12, 1.0
    while epsilon_of(hi, delta) < epsilon:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if epsilon_of(mid, delta) <= epsilon:
            lo = mid
        else:
            hi = mid
    return lo


def auto_delta(n: int) -> float:
    """The default delta, 1 / (n ln n), as Synthetic Data Showcase and the issue specify.

    >>> f"{auto_delta(250_000):.2e}"
    '3.22e-07'
    """
    n = max(int(n), 3)
    return 1.0 / (n * math.log(n))


@dataclass(frozen=True)
class DPSettings:
    """Parameters of `make_dp_aggregates` (defaults follow the Synthetic Data Showcase defaults)."""

    epsilon: float = 4.0
    delta: float | None = None  # None: 1 / (n ln n), from the (public) input size
    length: int = 3
    percentile: float = 99.0
    percentile_share: float = 0.05
    # Share of the budget per length. Default: length 1 weighs 3, every longer length 1 (60/20/20 % at L = 3).
    # Synthetic rows' 2- and 3-way accuracy is limited by the sampler, not by the noise (2-way MAE of the noisy
    # counts is about 1/30 of the synthetic rows'), while their 1-way accuracy is the noise of the 1-way counts:
    # budget moved to length 1 lowers the 1-way error by a quarter and changes 2- and 3-way rows by under 2 %
    # (docs/benchmarks.md). Published 2- and 3-way counts get about 30 % more error than with equal weights.
    length_weights: tuple[float, ...] | None = None
    threshold: tuple[float, ...] = (1.0, 2.5)  # in sigmas, per length (the last entry repeats)


def _clip_records(codes: np.ndarray, m_star: int) -> np.ndarray:
    """Keep at most `m_star` non-missing attributes per record, chosen from the record's own values.

    The choice is a function of the record alone (a hash of its codes), never of its position or of other
    records, so clipping is a row-wise map and adding/removing a record changes only that record's row.
    """
    n, p = codes.shape
    present = codes >= 0
    if m_star >= p or (present.sum(axis=1) <= m_star).all():
        return codes
    mix = np.uint64(0x9E3779B97F4A7C15)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(p):
            h = (h ^ (codes[:, j].astype(np.int64) + 2).astype(np.uint64)) * mix
            h ^= h >> np.uint64(29)
        prio = (h[:, None] ^ (np.arange(1, p + 1, dtype=np.uint64)[None, :] * mix)) * mix
    prio = np.where(present, prio >> np.uint64(11), np.uint64(np.iinfo(np.uint64).max))
    rank = np.argsort(np.argsort(prio, axis=1, kind="stable"), axis=1, kind="stable")
    return np.where(rank < m_star, codes, -1).astype(np.int32)


def _counts_for(exact: Aggregates, cols: tuple[int, ...], card: np.ndarray, cand_keys: np.ndarray) -> np.ndarray:
    """True count of each candidate combination (keys packed with radix `card`), 0 for those not in the data.

    `exact` holds every combination present in the clipped records, counted once for all column tuples, so
    each candidate group costs a binary search instead of a pass over the records.
    """
    m = exact.get(cols)
    if not len(m.counts) or not len(cand_keys):
        return np.zeros(len(cand_keys), dtype=np.int64)
    keys = m.keys(card)  # sorted: count_combinations stores combinations in key order
    pos = np.clip(np.searchsorted(keys, cand_keys), 0, len(keys) - 1)
    return np.where(keys[pos] == cand_keys, m.counts[pos], 0).astype(np.int64)


def _candidates(
    cols: tuple[int, ...], survivors: dict[tuple[int, ...], Marginal], card: np.ndarray
) -> np.ndarray | None:
    """Candidate value tuples for `cols`: every combination whose (l-1)-subsets all survived (post-processing)."""
    prefix = survivors.get(cols[:-1])
    last = survivors.get((cols[-1],))
    if prefix is None or last is None or not len(prefix.counts) or not len(last.counts):
        return None
    m, v = len(prefix.counts), len(last.counts)
    cand = np.empty((m * v, len(cols)), dtype=np.int32)
    cand[:, :-1] = np.repeat(prefix.values, v, axis=0)
    cand[:, -1] = np.tile(last.values[:, 0], m)
    for drop in range(len(cols) - 1):
        sub_cols = cols[:drop] + cols[drop + 1 :]
        sub = survivors.get(sub_cols)
        if sub is None or not len(sub.counts):
            return None
        sub_vals = np.delete(cand, drop, axis=1)
        keep = np.isin(pack(sub_vals, card[list(sub_cols)]), pack(sub.values, card[list(sub_cols)]))
        cand = cand[keep]
        if not len(cand):
            return None
    return cand


def _column_shares(card: np.ndarray) -> np.ndarray:
    """Each column's share of the length-1 budget when columns are measured one by one: cells^(2/3), normalized.

    With a missing cell per column a record adds exactly one cell to each column, so each column's count
    vector can be measured alone at L2 sensitivity 1 with its own rho_j (zCDP composes: the rho_j add up to
    the length's rho). Column j's noise is then sigma_j = 1 / sqrt(2 rho_j), and the expected absolute error
    summed over every released cell, proportional to sum_j cells_j * sigma_j, is smallest for a given total
    rho when rho_j is proportional to cells_j^(2/3) (Lagrange multipliers). One noise level for all columns
    (one vector at sensitivity sqrt(p)) over-serves the two-cell flag columns and under-serves a 21-cell
    country column; the optimum lowers the 1-way error by 11-18 % on the benchmark tables.

    >>> _column_shares(np.array([1, 7])).round(3).tolist()  # 2 cells and 8 cells: 8^(2/3) = 4 x 2^(2/3)/1.59
    [0.284, 0.716]
    """
    weights = (card.astype(np.float64) + 1.0) ** (2.0 / 3.0)
    return weights / weights.sum()


def _consistent_one_way(
    noisy: np.ndarray, card: np.ndarray, sigmas: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Noisy 1-way cells (each column's values, then its missing cell) made to agree on one record count.

    Every column's cells count every record once, so all column sums equal the record count n. n is estimated
    from the column sums (inverse-variance weights: a sum of c cells with noise sigma_j has variance
    c * sigma_j^2), then each column's cells move by the same amount so they sum to it: the least-squares
    projection onto the constraint, which removes 1/(c + 1) of the noise variance of a column of c values.
    `sigmas` holds each column's noise (equal when omitted). Post-processing: no budget.
    Returns the adjusted cells (same layout) and the estimated record count.

    >>> cells, n = _consistent_one_way(np.array([6.0, 4.0, 1.0, 9.0, 3.0]), np.array([1, 2]))
    >>> float(n), cells.round(2).tolist()
    (11.2, [6.6, 4.6, 0.4, 8.4, 2.4])
    """
    sizes = card.astype(np.int64) + 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sums = np.add.reduceat(noisy, starts)
    var = sizes * (np.ones(len(sizes)) if sigmas is None else np.asarray(sigmas, dtype=np.float64)) ** 2
    n = float(np.sum(sums / var) / np.sum(1.0 / var))
    return noisy + np.repeat((n - sums) / sizes, sizes), max(n, 0.0)


def _measure_one_way_by_column(
    true_counts: list[np.ndarray], n: int, card: np.ndarray, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy value and missing cells of every column, each column its own Gaussian at sensitivity 1.

    Returns the noisy cells (each column's values, then its missing cell) and the rho each column spent
    (their sum is at most `rho`; column j's noise sigma is 1 / sqrt(2 rho_j)).
    """
    parts, spent = [], []
    # 1e-9 under each share: the sum of p floats could otherwise round a hair above `rho` (epsilon_spent
    # 4.000000000000001 measured), and the ledger would refuse a charge that exactly fills the budget.
    for t, share in zip(true_counts, _column_shares(card) * (1.0 - 1e-9), strict=True):
        meas = make_gaussian_counts(1.0, float(rho * share))
        parts.append(np.asarray(meas(np.append(t, n - t.sum()).astype(np.int64).tolist()), dtype=np.float64))
        spent.append(float(meas.map(1.0)))
    return np.concatenate(parts), np.array(spent)


def _cap_by_subsets(
    cols: tuple[int, ...], values: np.ndarray, counts: np.ndarray, out: dict, card: np.ndarray
) -> np.ndarray:
    """Consistency: a combination cannot be more frequent than any of its sub-combinations."""
    for drop in range(len(cols)):
        sub_cols = cols[:drop] + cols[drop + 1 :]
        sub = out[sub_cols]
        sub_keys = pack(sub.values, card[list(sub_cols)])
        order = np.argsort(sub_keys)
        keys = pack(np.delete(values, drop, axis=1), card[list(sub_cols)])
        pos = order[np.searchsorted(sub_keys, keys, sorter=order)]
        counts = np.minimum(counts, sub.counts[pos])
    return counts


def make_dp_aggregates(table: EncodedTable, settings: DPSettings | None = None) -> Aggregates:
    """Differentially private counts of every combination of length 1..L of `table` (see module docstring).

    Guarantee: rho-zCDP with rho = rho_for(epsilon, delta), i.e. (epsilon, delta)-DP, for one record (add or
    remove). Caller must make true: one person is one row (deduplicate first, or the unit is weaker); the
    categories of each column are public (they are taken from `table.categories`); the table size is public
    only through the default delta. Unusual parameters (epsilon > 5) log a warning.
    """
    s = settings or DPSettings()
    _enable_opendp()
    if s.length < 1:
        raise InvalidPrivacyParameter("The reporting length must be at least 1.", {"length": s.length})
    if not 0 < s.percentile <= 100 or not 0 < s.percentile_share < 1:
        raise InvalidPrivacyParameter(
            "percentile must be in (0, 100] and percentile_share in (0, 1).",
            {"percentile": s.percentile, "percentile_share": s.percentile_share},
        )
    delta = auto_delta(table.n) if s.delta is None else float(s.delta)
    if s.epsilon > 5:
        warnings.warn(
            f"epsilon = {s.epsilon} is above 5: a weak privacy guarantee.", UserWarning, stacklevel=2
        )
    rho_total = rho_for(s.epsilon, delta)
    length = min(s.length, table.p)
    weights = np.array(s.length_weights or [3.0] + [1.0] * (length - 1), dtype=float)[:length]
    rho_q = s.percentile_share * rho_total
    rho_len = (rho_total - rho_q) * weights / weights.sum()
    card = table.cardinalities
    codes = table.codes
    p = table.p

    # 1. private percentile of attributes per record -> contribution bound
    per_record = (codes >= 0).sum(axis=1).astype(np.int32)
    q_space = dp.vector_domain(dp.atom_domain(T=dp.i32)), dp.symmetric_distance()

    def make_q(scale: float) -> dp.Measurement:
        return dp.m.make_private_quantile(
            *q_space, dp.zero_concentrated_divergence(), list(range(0, p + 1)), s.percentile / 100.0, scale
        )

    q_meas = make_q(dp.binary_search_param(make_q, d_in=1, d_out=rho_q, T=float))
    m_star = max(1, int(q_meas(per_record.tolist())))
    spent = [float(q_meas.map(1))]
    clipped = _clip_records(codes, m_star)
    exact = count_combinations(table.with_codes(clipped), length)
    one_way_missing = p <= m_star + 1
    one_way = count_combinations(table, 1) if one_way_missing and clipped is not codes else exact

    out: dict[tuple[int, ...], Marginal] = {}
    sigmas, thresholds, caps, n_candidates, sensitivities = {}, {}, {}, {}, {}
    one_way_columns: dict[str, dict[str, float]] = {}
    # Length 1 with a missing cell per column (one_way_missing) when that costs no more noise than the record
    # count would: every record then adds exactly one cell per column (sqrt(p) over all columns, 1 per column
    # measured alone), and each column's cells sum to the record count, a constraint that post-processing uses
    # to remove part of the noise.
    total = 0.0
    for size in range(1, length + 1):
        cap = math.comb(m_star, size)
        if cap == 0:
            break
        groups: list[tuple[tuple[int, ...], np.ndarray]] = []
        if size == 1:
            for c in range(p):
                groups.append(((c,), np.arange(card[c], dtype=np.int32)[:, None]))
        else:
            for cols in combinations(range(p), size):
                cand = _candidates(cols, out, card)
                if cand is not None:
                    groups.append((cols, cand))
        with_missing = size == 1 and one_way_missing
        # Length 1 with missing cells counts the records unclipped: each adds exactly one cell per column
        # whatever its number of attributes, so clipping would only bias the counts (records with more than m*
        # attributes would move a value into the missing cell: 74 records per column on the project simulator's
        # table, 8x the noise), at no saving in sensitivity.
        source = one_way if with_missing else exact
        true_counts = [_counts_for(source, cols, card, pack(v, card[list(cols)])) for cols, v in groups]
        factor = s.threshold[min(size - 1, len(s.threshold) - 1)]
        if with_missing:
            cap, sensitivity = p, 1.0  # one cell per column and record; each column measured alone
            noisy, rho_cols = _measure_one_way_by_column(true_counts, table.n, card, rho_len[0])
            spent.append(float(rho_cols.sum()))
            column_sigma = 1.0 / np.sqrt(2.0 * rho_cols)
            cell_sigma = np.repeat(column_sigma, card.astype(np.int64) + 1)
            noisy, total = _consistent_one_way(noisy, card, column_sigma)
            sigma = float(column_sigma.max())
            one_way_columns = {
                name: {"rho": float(r), "sigma": float(g), "threshold": factor * float(g)}
                for name, r, g in zip(table.columns, rho_cols, column_sigma, strict=True)
            }
            n_candidates[size] = len(noisy)
        else:
            vector = np.concatenate([*true_counts, [table.n] if size == 1 else []]).astype(np.int64)
            sensitivity = math.sqrt(cap + (1 if size == 1 else 0))
            meas = make_gaussian_counts(sensitivity, float(rho_len[size - 1]))
            spent.append(float(meas.map(sensitivity)))
            noisy = _add_noise(meas, vector) if len(vector) else np.empty(0)
            sigma = float(sensitivity / math.sqrt(2 * spent[-1])) if spent[-1] > 0 else 0.0
            cell_sigma = np.full(len(noisy), sigma)
            n_candidates[size] = len(vector)
            if size == 1:
                total = max(float(noisy[-1]), 0.0)
        sigmas[size], thresholds[size], caps[size] = sigma, factor * float(cell_sigma.min(initial=sigma)), cap
        sensitivities[size] = sensitivity
        offset = 0
        for cols, vals in groups:
            counts = np.rint(noisy[offset : offset + len(vals)])
            tau = factor * cell_sigma[offset : offset + len(vals)]
            offset += len(vals) + (1 if with_missing else 0)
            if size > 1 and len(vals):
                counts = _cap_by_subsets(cols, vals, counts, out, card)
            keep = counts >= np.maximum(tau, 1.0)
            if keep.any():
                out[cols] = Marginal(cols, vals[keep].astype(np.int32), counts[keep])
    rho_spent = float(sum(spent))
    protection: dict[str, Any] = {
        "method": "differential-privacy",
        "mechanism": "zCDP Gaussian on combination counts (OpenDP make_gaussian), private percentile bound",
        "privacy_unit": PRIVACY_UNIT,
        "epsilon": float(s.epsilon),
        "delta": delta,
        "rho": rho_total,
        "rho_spent": rho_spent,
        "epsilon_spent": epsilon_of(rho_spent, delta),
        "rho_percentile": spent[0],
        "rho_by_length": {str(k): v for k, v in zip(range(1, len(spent)), spent[1:], strict=True)},
        "percentile": s.percentile,
        "attributes_per_record_bound": m_star,
        "contribution_bound_by_length": {str(k): v for k, v in caps.items()},
        "l2_sensitivity_by_length": {str(k): v for k, v in sensitivities.items()},
        "one_way_cells": "values and a missing cell per column, each column measured alone with rho_j in"
        " proportion to its cells^(2/3) (consistent record count)" if one_way_missing
        else "values and the record count",
        # Length 1 with missing cells: the largest column sigma and the smallest column threshold (each
        # column's own rho, sigma and threshold are in one_way_by_column).
        "sigma_by_length": {str(k): v for k, v in sigmas.items()},
        "threshold_by_length": {str(k): v for k, v in thresholds.items()},
        "one_way_by_column": one_way_columns,
        "candidates_by_length": {str(k): v for k, v in n_candidates.items()},
    }
    return Aggregates(table.columns, table.categories, length, total, out, protection)
