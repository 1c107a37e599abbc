"""k-anonymization: global recoding along generalization hierarchies plus local suppression.

NOTE: pure numpy/polars; no Django. Mechanism notes: `NOTES.md` (section k-anonymization).

For every node of the generalization lattice (one level per quasi-identifier), the table is recoded, then
records in classes smaller than `k` get cells suppressed (`*`) one quasi-identifier at a time, and records still
in a class smaller than `k` once all their quasi-identifiers are suppressed are dropped. The node with the least
information loss wins. Information loss is the Loss Metric (Iyengar 2002): a cell generalized to a group of `g`
of its column's `c` values costs `(g - 1) / (c - 1)`; a suppressed cell or a cell of a dropped record costs 1;
the measure is the mean over all quasi-identifier cells.

>>> import polars as pl
>>> from ctdc.privacy.hierarchy import year_hierarchy
>>> df = pl.DataFrame({"year": ["2010", "2011", "2012", "2013"] * 2, "sex": ["f"] * 4 + ["m"] * 4})
>>> res = make_k_anonymous(df, ["year", "sex"], k=2, hierarchies=[year_hierarchy(2010, 2013, 2, "year")])
>>> res.records_retained, res.levels, res.cells_suppressed
(8, {'year': 'period', 'sex': 'sex'}, 0)
>>> sorted(set(res.data.rows()))
[('2010-2011', 'f'), ('2010-2011', 'm'), ('2012-2013', 'f'), ('2012-2013', 'm')]
>>> res.baseline_records_retained  # suppression alone keeps nothing
0
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ctdc.errors import InvalidPrivacyParameter, KAnonymityNotMet
from ctdc.privacy.aggregates import pack
from ctdc.privacy.hierarchy import SUPPRESSED, Hierarchy, identity_hierarchy
from ctdc.privacy.table import encode_table


@dataclass(frozen=True, eq=False)
class KAnonymityResult:
    """A k-anonymous table and how it was made."""

    data: pl.DataFrame
    k: int
    quasi_identifiers: tuple[str, ...]
    levels: dict[str, str]
    records_in: int
    records_retained: int
    cells_suppressed: int
    information_loss: float
    baseline_records_retained: int
    nodes_evaluated: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "quasi_identifiers": list(self.quasi_identifiers),
            "levels": self.levels,
            "records_in": self.records_in,
            "records_retained": self.records_retained,
            "records_dropped": self.records_in - self.records_retained,
            "cells_suppressed": self.cells_suppressed,
            "information_loss": self.information_loss,
            "suppression_only_records_retained": self.baseline_records_retained,
            "nodes_evaluated": self.nodes_evaluated,
        }


@dataclass(frozen=True, eq=False)
class _Level:
    """One hierarchy level as arrays over a column's codes: group id per code and loss per code."""

    name: str
    group: np.ndarray  # (card,) int64 generalized code of each original code
    labels: tuple[str, ...]  # label of each generalized code
    loss: np.ndarray  # (card,) float64 Loss Metric of a cell holding each original code


@dataclass
class _Outcome:
    levels: tuple[int, ...]
    codes: np.ndarray  # (n, q) generalized codes; -1 missing, -2 suppressed
    keep: np.ndarray  # (n,) bool
    cells_suppressed: int
    loss: float


def _levels_for(hierarchy: Hierarchy, categories: tuple[str, ...]) -> list[_Level]:
    card = len(categories)
    out = []
    for level in range(hierarchy.n_levels):
        generalized = [hierarchy.generalize(v, level) for v in categories]
        labels = tuple(dict.fromkeys(generalized))
        index = {v: i for i, v in enumerate(labels)}
        group = np.array([index[v] for v in generalized], dtype=np.int64)
        sizes = np.bincount(group, minlength=len(labels))
        loss = (sizes[group] - 1) / (card - 1) if card > 1 else np.zeros(card)
        if level == hierarchy.n_levels - 1:
            loss = np.ones(card)
        if card == 0:  # a column missing everywhere: pad so lookups of the (unused) code 0 stay in range
            group, loss = np.zeros(1, dtype=np.int64), np.zeros(1)
        out.append(_Level(hierarchy.names[level], group, labels, loss.astype(np.float64)))
    return out


SUPPRESSED_CODE = -2


def _class_sizes(codes: np.ndarray, radices: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Size of the equivalence class of each record in `rows` (only records in `rows` count)."""
    key = pack(codes[rows] + 2, radices + 2)
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    return cnt[inv.reshape(-1)]


def _evaluate(base: np.ndarray, levels: list[list[_Level]], node: tuple[int, ...], k: int) -> _Outcome:
    n, q = base.shape
    codes = np.empty_like(base)
    loss_cells = np.zeros(n)
    radices = np.empty(q, dtype=np.int64)
    for j, lv in enumerate(node):
        level = levels[j][lv]
        col = base[:, j]
        present = col >= 0
        codes[:, j] = np.where(present, level.group[np.maximum(col, 0)], -1)
        loss_cells += np.where(present, level.loss[np.maximum(col, 0)], 0.0)
        radices[j] = len(level.labels)
    rows = np.arange(n)
    sizes = _class_sizes(codes, radices, rows)
    suppressed = 0
    for _ in range(q):
        risky = sizes < k
        if not risky.any():
            break
        # Local suppression: blank, for the risky records, the quasi-identifier that splits them most.
        r_codes = codes[risky]
        distinct = [
            len(np.unique(r_codes[:, j])) if (r_codes[:, j] != SUPPRESSED_CODE).any() else -1
            for j in range(q)
        ]
        j = int(np.argmax(distinct))
        if distinct[j] < 0:
            break
        hit = risky & (codes[:, j] != SUPPRESSED_CODE)
        codes[hit, j] = SUPPRESSED_CODE
        present = base[hit, j] >= 0
        loss_cells[np.flatnonzero(hit)[present]] += 1.0 - levels[j][node[j]].loss[base[hit, j][present]]
        suppressed += int(present.sum())
        sizes = _class_sizes(codes, radices, rows)
    keep = sizes >= k
    if not keep.all():
        # Records still in a class below k are dropped: each of their cells costs the full 1.
        loss_cells[~keep] = q
        suppressed -= int(((codes[~keep] == SUPPRESSED_CODE) & (base[~keep] >= 0)).sum())
        kept_sizes = _class_sizes(codes, radices, np.flatnonzero(keep))
        assert (kept_sizes >= k).all()
    return _Outcome(node, codes, keep, suppressed, float(loss_cells.sum() / (n * q)))


def make_k_anonymous(
    df: pl.DataFrame,
    quasi_identifiers: Sequence[str],
    k: int = 11,
    hierarchies: Sequence[Hierarchy] = (),
    max_nodes: int = 400,
) -> KAnonymityResult:
    """Generalize and suppress `quasi_identifiers` of `df` until every class has at least `k` records.

    Guarantee: in the returned `data`, every combination of the quasi-identifier columns (suppressed `*` and
    missing counted as values) occurs at least `k` times; checked again on the output frame before returning.
    Privacy unit: one record. Not differential privacy; assumes the quasi-identifier list is complete.
    Quasi-identifiers without a hierarchy can only be kept or suppressed. When the lattice has more than
    `max_nodes` nodes the search is greedy (from the bottom, one level at a time, cheapest step first).
    Generalized quasi-identifier columns come back as text; other columns are untouched.
    """
    if k < 1:
        raise InvalidPrivacyParameter("k must be at least 1.", {"k": k})
    qi = tuple(quasi_identifiers)
    if not qi:
        raise InvalidPrivacyParameter("Name at least one quasi-identifier.", {"quasi_identifiers": []})
    by_col = {h.column: h for h in hierarchies}
    table = encode_table(df, qi)
    levels = [
        _levels_for(by_col.get(c, identity_hierarchy(c)), table.categories[j]) for j, c in enumerate(qi)
    ]
    base = table.codes.astype(np.int64)
    n = table.n

    base_sizes = _class_sizes(base, table.cardinalities, np.arange(n))
    baseline_retained = int((base_sizes >= k).sum())

    dims = [len(lv) for lv in levels]
    # Only the score of each node is kept (a full outcome holds n x q codes); the best outcome is kept whole.
    seen: dict[tuple[int, ...], tuple[float, int, tuple[int, ...]]] = {}
    best: _Outcome | None = None

    def visit(node: tuple[int, ...]) -> tuple[float, int, tuple[int, ...]]:
        nonlocal best
        if node not in seen:
            outcome = _evaluate(base, levels, node, k)
            seen[node] = (outcome.loss, -int(outcome.keep.sum()), node)
            if best is None or seen[node] < (best.loss, -int(best.keep.sum()), best.levels):
                best = outcome
        return seen[node]

    if int(np.prod(dims)) <= max_nodes:
        for node in itertools.product(*(range(d) for d in dims)):
            visit(node)
    else:
        # Greedy path up the lattice: always take the cheapest one-level step; the best node seen wins.
        node = tuple(0 for _ in dims)
        visit(node)
        while len(seen) < max_nodes:
            steps = [
                tuple(v + (i == j) for i, v in enumerate(node))
                for j in range(len(dims))
                if node[j] + 1 < dims[j]
            ]
            if not steps:
                break
            node = min(steps, key=visit)
    assert best is not None

    out = df.filter(pl.Series(best.keep))
    replaced = []
    for j, c in enumerate(qi):
        level = levels[j][best.levels[j]]
        lookup = np.array([*level.labels, SUPPRESSED, None], dtype=object)
        col_codes = best.codes[best.keep, j]
        idx = np.where(col_codes == SUPPRESSED_CODE, len(level.labels), col_codes)
        idx = np.where(col_codes == -1, len(level.labels) + 1, idx)
        replaced.append(pl.Series(c, lookup[idx].tolist(), dtype=pl.String))
    out = out.with_columns(replaced)
    _check_k(out, qi, k)
    return KAnonymityResult(
        data=out,
        k=int(k),
        quasi_identifiers=qi,
        levels={c: levels[j][best.levels[j]].name for j, c in enumerate(qi)},
        records_in=n,
        records_retained=int(best.keep.sum()),
        cells_suppressed=int(best.cells_suppressed),
        information_loss=best.loss,
        baseline_records_retained=baseline_retained,
        nodes_evaluated=len(seen),
    )


def suppress_only(df: pl.DataFrame, quasi_identifiers: Sequence[str], k: int = 11) -> pl.DataFrame:
    """The naive baseline: drop every record whose quasi-identifier class is smaller than `k`.

    >>> suppress_only(pl.DataFrame({"a": list("xxy")}), ["a"], k=2).height
    2
    """
    qi = list(quasi_identifiers)
    return df.filter(pl.len().over(qi) >= k)


def _check_k(df: pl.DataFrame, qi: Sequence[str], k: int) -> None:
    """Fail closed: recount the classes on the output frame itself."""
    if df.height == 0:
        raise KAnonymityNotMet(
            f"No record can be kept at k={k}: the table has fewer than k records even with every"
            " quasi-identifier suppressed.",
            {"k": k},
        )
    smallest = df.group_by(list(qi)).len().get_column("len").min()
    if smallest < k:
        raise KAnonymityNotMet(
            f"The output still has a quasi-identifier class of {smallest} records (k={k}).",
            {"k": k, "smallest_class": int(smallest)},
        )
