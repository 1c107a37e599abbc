"""Synthetic microdata sampled from protected aggregates (k-synthetic or differentially private).

NOTE: pure numpy/polars; no Django. Sampling uses a seeded numpy Generator: it is post-processing of already
protected counts, never DP noise. Mechanism notes: `NOTES.md` (section synthesis).

Columns are sampled one at a time for all records at once (vectorized). The column order and, for each
column, its "parents" (up to L-1 earlier columns) are chosen from the mutual information of the protected
2-way counts. A column's value is drawn with probability proportional to the protected count of (parents'
values, value); "missing" is drawn with the column's share of records without a counted value (from the
1-way counts and the record count). A record whose parents' combination was dropped falls back to fewer parents.

With `enforce_support=True` (k-synthetic), a value may only be drawn when, for every set S of at most L-1
already-drawn non-missing attributes of the record, the combination S + value is in the aggregates. With
k-protected aggregates this gives the k-synthetic guarantee: every combination of length <= L in the output
occurs at least k times in the input.

>>> import polars as pl
>>> from ctdc.privacy.table import encode_table
>>> from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
>>> t = encode_table(pl.DataFrame({"a": ["x"] * 30 + ["y"] * 3, "b": ["u"] * 20 + ["v"] * 13}))
>>> agg = protect_k_rounding(count_combinations(t, 2), k=5, resolution=1)
>>> out = synthesize(agg, n=33, seed=3, enforce_support=True)
>>> sorted(set(map(tuple, out.tolist())))  # a=y (3 < 5 records) never appears; -1 is missing
[(-1, 0), (-1, 1), (0, 0), (0, 1)]
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.aggregates import Aggregates, pack


class _Dense:
    """Dense count arrays of the aggregates' marginals, in any column order, built on demand."""

    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self.card = agg.cardinalities
        self._cache: dict[tuple[int, ...], np.ndarray] = {}

    def get(self, cols: tuple[int, ...]) -> np.ndarray:
        """Counts with axes in the order of `cols` (zeros where a combination is absent or dropped)."""
        if not cols:
            return np.array(self.agg.total)
        key = tuple(sorted(cols))
        if key not in self._cache:
            self._cache[key] = self.agg.get(key).dense(self.card)
        arr = self._cache[key]
        return np.transpose(arr, [key.index(c) for c in cols])


def _mutual_information(dense: _Dense, p: int) -> np.ndarray:
    mi = np.zeros((p, p))
    for i, j in combinations(range(p), 2):
        joint = dense.get((i, j))
        total = joint.sum()
        if total <= 0:
            continue
        pij = joint / total
        pi, pj = pij.sum(axis=1, keepdims=True), pij.sum(axis=0, keepdims=True)
        nz = pij > 0
        mi[i, j] = mi[j, i] = float((pij[nz] * np.log(pij[nz] / (pi @ pj)[nz])).sum())
    return mi


def plan(aggregates: Aggregates) -> list[tuple[int, tuple[int, ...]]]:
    """Column order and parents: a greedy maximum-mutual-information chain over the 2-way counts."""
    p = len(aggregates.columns)
    dense = _Dense(aggregates)
    mi = _mutual_information(dense, p) if aggregates.length >= 2 else np.zeros((p, p))
    max_parents = max(0, min(aggregates.length, p) - 1)
    order = [int(np.argmax(mi.sum(axis=1)))]
    remaining = set(range(p)) - set(order)
    while remaining:
        nxt = max(sorted(remaining), key=lambda c: mi[c, order].max())
        order.append(nxt)
        remaining.discard(nxt)
    steps = []
    for t, c in enumerate(order):
        earlier = order[:t]
        parents = sorted(earlier, key=lambda e: -mi[c, e])[:max_parents]
        steps.append((c, tuple(parents)))
    return steps


def _conditional_weights(
    dense: _Dense, out: np.ndarray, c: int, parents: tuple[int, ...], missing_rate: float, noisy: bool = False
) -> np.ndarray:
    """Unnormalized weight of each value of `c` for every record, given its already drawn parents.

    Level 0 is the 1-way counts. Level i conditions on the first i parents: released counts of (parents, v)
    are kept as they are, and the mass the parents' combination has left (its count, less its expected
    missing share, less the released children) is spread over the values whose combination was not released,
    in proportion to level i-1. Records whose parents' combination was not released stay at level i-1.
    Without this, dropping small combinations (thresholds, k) would bias every conditional to frequent values.

    With `noisy` (DP) counts that remainder is mostly noise where the released children hold nearly all of the
    parents' mass: it is the difference of two noisy counts, and spreading it over the unreleased values in
    proportion to level i-1 hands all of it to them however unlikely level i-1 made them. Level after level
    that turned "minor" age bands into 891 adults (of 19,533) on the project simulator's table, where the
    truth has none. So the unreleased values get at most the share level i-1 gives them of the parents' count.
    """
    n = out.shape[0]
    card = dense.card
    weights = np.broadcast_to(dense.get((c,)), (n, int(card[c]))).copy()
    rows = np.ones(n, dtype=bool)
    for i in range(1, len(parents) + 1):
        subset = parents[:i]
        rows &= out[:, subset[-1]] >= 0
        idx = np.flatnonzero(rows)
        if not len(idx):
            break
        key = np.zeros(len(idx), dtype=np.int64)
        for s in subset:
            key = key * int(card[s]) + out[idx, s]
        joint = dense.get((*subset, c)).reshape(-1, int(card[c]))[key]
        base = dense.get(subset).reshape(-1)[key]
        remainder = np.maximum(base * (1.0 - missing_rate) - joint.sum(axis=1), 0.0)
        lower = weights[idx] * (joint <= 0)
        lower_mass = lower.sum(axis=1)
        if noisy:
            previous = weights[idx].sum(axis=1)
            share = np.divide(lower_mass, previous, out=np.zeros_like(lower_mass), where=previous > 0)
            remainder = np.minimum(remainder, base * (1.0 - missing_rate) * share)
        spread = np.divide(remainder, lower_mass, out=np.zeros_like(remainder), where=lower_mass > 0)
        level = joint + spread[:, None] * lower
        ok = (base > 0) & (level.sum(axis=1) > 0)
        weights[idx[ok]] = level[ok]
    return weights


# Expected counts moving by less than this many records between two raking iterations have converged.
STALL_RECORDS = 1e-7


def _rake(weights: np.ndarray, target: np.ndarray, sizes: np.ndarray, tolerance: float = 0.5,
          iterations: int | None = None) -> np.ndarray:
    """Rescale each value's column of row-wise probabilities so their sum approaches the 1-way target.

    Row g of `weights` stands for `sizes[g]` records. Errors in already drawn parents shift every conditional a
    little; raking the probabilities of this column towards its released 1-way counts (iterative proportional
    fitting on one margin) stops that drift from accumulating along the chain. Zero weights stay zero, so the
    k-synthetic support is untouched. Iterates until every value's expected count is within `tolerance`
    records of its target, or `iterations` (by default as many as 2e7 cell updates allow, 50 to 2,000): where
    a column depends strongly on its parents (majority status on age band, country of exploitation on
    citizenship) 50 iterations left about 100 records on the wrong value. The target is met exactly even when
    it is noisy (DP): the 1-way counts carry most of the budget, and stopping within their noise instead left
    the rows 5-15 % further from the truth than the counts (docs/benchmarks.md).
    """
    probs = weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300)
    if iterations is None:
        iterations = int(np.clip(2e7 / max(probs.size, 1), 50, 2000))
    previous = None
    for _ in range(iterations):
        expected = sizes @ probs
        if np.abs(expected - target).max() < tolerance:
            break
        # A fixed point short of the target: a value no row may take (zero weights) or a target whose total is
        # not the rows' total leaves an error no iteration removes. Once the expected counts stop moving, the
        # remaining iterations (up to 2,000 of them) would change nothing: most columns of a small release
        # ended here, and raking was half of a k-synthetic build's time.
        if previous is not None and np.abs(expected - previous).max() < STALL_RECORDS:
            break
        previous = expected
        factor = np.divide(target, expected, out=np.ones_like(target), where=expected > 0)
        probs = probs * factor[None, :]
        probs /= np.maximum(probs.sum(axis=1, keepdims=True), 1e-300)
    return probs


def _stratified_uniforms(group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform per record, stratified among records of the same `group` (records sharing a distribution).

    Within a group of m records the uniforms are (0 + U, 1 + U, ..., m - 1 + U) / m in a random order
    (systematic sampling). Each record still draws from its own distribution, but a group's value counts match
    their expectation to within one, instead of carrying multinomial noise (about sqrt(n p) records per value).
    """
    n = len(group)
    if n == 0:
        return np.empty(0)
    order = np.lexsort((rng.random(n), group))
    sizes = np.bincount(group)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, sizes)
    offset = rng.random(len(sizes))
    return (rank + offset[group]) / sizes[group]


def _parent_groups(out: np.ndarray, parents: tuple[int, ...], card: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(one representative row per distinct combination of the parents' drawn values, each record's group).

    A record's conditional distribution depends only on its parents' values (missing included), so weights are
    worked out once per group instead of once per record.
    """
    n = out.shape[0]
    if not parents or n == 0:
        return np.zeros(min(n, 1), dtype=np.int64), np.zeros(n, dtype=np.int64)
    cols = list(parents)
    key = pack(out[:, cols].astype(np.int64) + 1, card[cols] + 1)  # +1: missing (-1) is a value of its own
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    return first, group.reshape(-1)


class _Drawn:
    """The records holding a value in each set of already drawn columns, for the k-synthetic support mask.

    Drawn columns never change, so the rows where a column (or a pair of columns) holds a value, their packed
    values and the distinct ones are worked out once and reused for every later column. Sparse columns (most
    flags) then cost in proportion to their filled cells, not to the number of records.
    """

    def __init__(self, out: np.ndarray, card: np.ndarray) -> None:
        self.out, self.card = out, card
        self._cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def rows(self, subset: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(records with a value in every column of `subset`, their values packed in subset order, distinct keys)."""
        hit = self._cache.get(subset)
        if hit is not None:
            return hit
        last = subset[-1]
        if len(subset) == 1:
            idx = np.flatnonzero(self.out[:, last] >= 0).astype(np.int32)
            key = self.out[idx, last].astype(np.int64)
        else:
            prev_idx, prev_key, _ = self.rows(subset[:-1])
            vals = self.out[prev_idx, last]
            keep = vals >= 0
            idx = prev_idx[keep]
            key = prev_key[keep].astype(np.int64) * int(self.card[last]) + vals[keep]
        if int(np.prod(self.card[list(subset)], dtype=np.float64)) < 2**31:
            key = key.astype(np.int32)  # the cache holds hundreds of these: half the memory
        result = (idx, key, np.unique(key))
        if len(subset) <= 2:  # longer sets are used once per column: caching them would only cost memory
            self._cache[subset] = result
        return result

    def support_mask(self, dense: _Dense, c: int, done: list[int], length: int) -> np.ndarray:
        """Which values of `c` each record may take: S + value must be in the aggregates for every drawn S, |S| < L."""
        n, width = self.out.shape[0], int(self.card[c])
        value_ok = dense.get((c,)) > 0
        allowed = np.repeat(value_ok[None, :], n, axis=0)
        for size in range(1, min(length - 1, len(done)) + 1):
            for subset in combinations(done, size):
                idx, key, distinct = self.rows(subset)
                if not len(idx):
                    continue
                support = dense.get((*subset, c)).reshape(-1, width) > 0
                if support[np.ix_(distinct, value_ok)].all():
                    continue  # every drawn combination of S allows every value still allowed: nothing to mask
                allowed[idx] &= support[key]
        return allowed


def _match_one_way(values: np.ndarray, target: np.ndarray, allowed: np.ndarray | None, prob: np.ndarray,
                   rng: np.random.Generator) -> None:
    """Move the fewest cells of one drawn column so that each value's count equals `target` (in place).

    Cells of a value drawn too often become missing (always safe); cells of a value drawn too rarely are taken
    from missing cells whose record may hold it (`allowed`, the k-synthetic support), the likeliest first
    (`prob`, each record's probability of each value). Only when no such cell is left does a count stay short.
    """
    width = len(target)
    counts = np.bincount(values[values >= 0], minlength=width)
    for v in np.flatnonzero(counts > target):
        rows = np.flatnonzero(values == v)
        values[rng.choice(rows, int(counts[v] - target[v]), replace=False)] = -1
    counts = np.bincount(values[values >= 0], minlength=width)
    for v in np.flatnonzero(counts < target):
        free = (values == -1) if allowed is None else (values == -1) & allowed[:, v]
        rows = np.flatnonzero(free)
        take = min(int(target[v] - counts[v]), len(rows))
        if take:
            w = prob[rows, v] + 1e-12
            values[rng.choice(rows, take, replace=False, p=w / w.sum())] = v


def synthesize(
    aggregates: Aggregates,
    n: int | None = None,
    seed: int = 0,
    enforce_support: bool = False,
    calibrate: bool = True,
    exact_one_way: bool = False,
) -> np.ndarray:
    """Sample `n` synthetic records (codes, `-1` missing) from `aggregates`; deterministic under `seed`.

    `n` defaults to the aggregates' (protected) record count. Post-processing only: the output has the
    guarantee of the aggregates it is drawn from, and with `enforce_support` the k-synthetic guarantee.
    `calibrate` rakes each column's probabilities towards its released 1-way counts (see `_rake`).
    `exact_one_way` then moves a few cells of each column, as it is drawn, so that every value's count in the
    output equals its released 1-way count (k-synthetic: the rows agree with the published, rounded counts and
    never show an exact input count; `n` must be the aggregates' total).
    """
    n = int(round(aggregates.total)) if n is None else int(n)
    if n < 0:
        raise InvalidPrivacyParameter("The number of synthetic records must not be negative.", {"n": n})
    rng = np.random.default_rng(seed)
    p = len(aggregates.columns)
    card = aggregates.cardinalities
    dense = _Dense(aggregates)
    out = np.full((n, p), -1, dtype=np.int32)
    drawn = _Drawn(out, card)
    # DP counts carry noise (sigma > 0); k-protected counts are exact.
    noisy = float(aggregates.protection.get("sigma_by_length", {}).get("1", 0.0)) > 0
    done: list[int] = []
    for c, parents in plan(aggregates):
        if card[c] == 0:  # a column that is missing everywhere stays missing
            done.append(c)
            continue
        # Share of records without a counted value in this column (missing, or a value too rare to publish).
        counted = float(dense.get((c,)).sum())
        missing_rate = min(max(1.0 - counted / aggregates.total, 0.0), 1.0) if aggregates.total > 0 else 1.0
        if enforce_support:
            # The support mask depends on every drawn column, not just the parents: one row per record.
            rep, group = np.arange(n), np.arange(n)
        else:
            rep, group = _parent_groups(out, parents, card)
        values = _conditional_weights(dense, out[rep], c, parents, missing_rate, noisy=noisy)
        g = len(rep)
        mass = values.sum(axis=1)
        weights = np.zeros((g, int(card[c]) + 1))  # last column: missing
        has = mass > 0
        weights[has, :-1] = values[has] * ((1.0 - missing_rate) / mass[has])[:, None]
        weights[:, -1] = missing_rate
        allowed = None
        if enforce_support:
            allowed = drawn.support_mask(dense, c, done, aggregates.length)
            masked = weights[:, :-1] * allowed
            # When the allowed values carry no weight for a record, fall back to their 1-way counts; then
            # restore the value share so masking does not turn into extra missing cells.
            empty = masked.sum(axis=1) <= 0
            masked[empty] = allowed[empty] * dense.get((c,))[None, :]
            mass = masked.sum(axis=1)
            has = mass > 0
            masked[has] *= ((1.0 - missing_rate) / mass[has])[:, None]
            weights[:, :-1] = masked
        total = weights.sum(axis=1)
        weights[total <= 0, -1] = 1.0  # nothing allowed: the cell stays missing (always safe)
        sizes = np.bincount(group, minlength=g).astype(np.float64)
        if calibrate and n:
            one_way = dense.get((c,))
            target = np.append(one_way, max(aggregates.total - one_way.sum(), 0.0))
            weights = _rake(weights, target * (n / max(target.sum(), 1e-12)), sizes)
        cum = np.cumsum(weights, axis=1)
        cum /= np.maximum(cum[:, -1:], 1e-300)
        # Records whose distributions are identical share one stratum of uniforms.
        probe = rng.random(weights.shape[1])
        _, stratum = np.unique(np.round(weights @ probe, 12), return_inverse=True)
        u = _stratified_uniforms(stratum.reshape(-1)[group], rng)
        # Inverse CDF for every record at once: row j of `cum` lies in [j, j + 1] once shifted by j, so one
        # searchsorted over the flattened rows finds each record's value within its own group's row.
        width = weights.shape[1]
        shifted = (cum + np.arange(g)[:, None]).ravel()
        choice = np.searchsorted(shifted, u + group, side="right") - group * width
        choice = np.minimum(choice, int(card[c]))
        out[:, c] = np.where(choice == card[c], -1, choice)
        if exact_one_way:
            target = np.rint(dense.get((c,))).astype(np.int64)
            column = out[:, c].copy()
            _match_one_way(column, target, allowed, weights[group], rng)
            out[:, c] = column
        done.append(c)
    return out
