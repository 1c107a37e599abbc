"""Bounding and candidates of the DP aggregates: each record's contribution bound m*, clipping, and the
combinations that get a noisy count.

NOTE: pure numpy + OpenDP (the private percentile); no Django. The mechanism that uses these is `dp.py`.

Neighbouring relation (docs/privacy.md): add or remove one victim with all their rows; one victim is one row
once the snapshot has established the privacy unit. What must not depend on the victim:

- the contribution bound m* is a *private* percentile (OpenDP `make_private_quantile`) of the number of
  non-missing attributes per record; clipping to it is a function of each record alone (a hash of its own
  codes), so adding or removing a victim changes one clipped row and nothing else;
- the length-1 candidates are every value of each column's public domain (`EncodedTable.domain`), never the
  values seen in the data; length-l candidates are built from released (noisy, thresholded) counts only, so
  they are post-processing.
"""

from __future__ import annotations

import numpy as np

from ctdc.privacy.accounting import make_private_count_quantile
from ctdc.privacy.aggregates import Aggregates, Marginal, pack


def contribution_bound(codes: np.ndarray, percentile: float, rho: float) -> tuple[int, float]:
    """m*: a `rho`-zCDP `percentile` of the number of non-missing attributes per record (at least 1), and the rho
    OpenDP's map says it spent. The candidates 0..p are public (p = number of columns).

    >>> m, spent = contribution_bound(np.zeros((500, 4), dtype=np.int32), 99.0, 0.05)
    >>> 1 <= m <= 4, spent <= 0.05
    (True, True)
    """
    p = codes.shape[1]
    per_record = (codes >= 0).sum(axis=1).astype(np.int32)
    meas = make_private_count_quantile(p, percentile / 100.0, rho)
    return max(1, int(meas(per_record.tolist()))), float(meas.map(1))


def clip_records(codes: np.ndarray, m_star: int) -> np.ndarray:
    """Keep at most `m_star` non-missing attributes per record, chosen from the record's own values.

    The choice is a function of the record alone (a hash of its codes), never of its position or of other
    records, so clipping is a row-wise map and adding/removing a record changes only that record's row.

    >>> clip_records(np.array([[0, 1, 2], [0, -1, -1]], dtype=np.int32), 1).__ge__(0).sum(axis=1).tolist()
    [1, 1]
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


def counts_for(exact: Aggregates, cols: tuple[int, ...], card: np.ndarray, cand_keys: np.ndarray) -> np.ndarray:
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


def one_way_candidates(card: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Length 1: every value of every column's domain (`card` = the domain sizes), whether or not it occurs."""
    return [((c,), np.arange(card[c], dtype=np.int32)[:, None]) for c in range(len(card))]


def candidates(
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


def cap_by_subsets(
    cols: tuple[int, ...], values: np.ndarray, counts: np.ndarray, out: dict, card: np.ndarray
) -> np.ndarray:
    """Consistency (post-processing): a combination cannot be more frequent than any of its sub-combinations."""
    for drop in range(len(cols)):
        sub_cols = cols[:drop] + cols[drop + 1 :]
        sub = out[sub_cols]
        sub_keys = pack(sub.values, card[list(sub_cols)])
        order = np.argsort(sub_keys)
        keys = pack(np.delete(values, drop, axis=1), card[list(sub_cols)])
        pos = order[np.searchsorted(sub_keys, keys, sorter=order)]
        counts = np.minimum(counts, sub.counts[pos])
    return counts
