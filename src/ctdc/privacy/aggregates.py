"""Counts of every attribute-value combination up to a reporting length, and their k-rounding protection.

NOTE: pure numpy/polars; no Django.

A *combination* of length `l` is a set of `l` (column, value) pairs on `l` distinct columns; its count is the
number of records holding all of them. Missing cells are not values, so combinations never include them.

Counting is vectorized per column tuple: the codes of a tuple are packed into one int64 key per record (mixed
radix, extended one column at a time from the prefix's key) and counted with `np.bincount` (or `np.unique`
when the key space is large). Enumeration is depth-first over column tuples with Apriori pruning on records:
a record whose prefix combination is missing or rarer than `min_count` cannot hold a longer combination with
count >= `min_count`, so it is dropped before the next column is added.

The published file format (`aggregates.csv`, as Synthetic Data Showcase writes it):

    combination,length,count
    gender:female,1,1290
    gender:female;age_band:18-20,2,210

`combination` joins `column:value` with `;` in column order; the empty combination (length 0) is the record
count.

>>> import polars as pl
>>> from ctdc.privacy.table import encode_table
>>> t = encode_table(pl.DataFrame({"a": ["x", "x", "y"], "b": ["u", "u", None]}))
>>> agg = count_combinations(t, length=2)
>>> agg.to_frame().rows()
[('', 0, 3), ('a:x', 1, 2), ('a:y', 1, 1), ('b:u', 1, 2), ('a:x;b:u', 2, 2)]
>>> protect_k_rounding(agg, k=2, resolution=1).to_frame().rows()
[('', 0, 3), ('a:x', 1, 2), ('b:u', 1, 2), ('a:x;b:u', 2, 2)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.table import EncodedTable

# Above this many cells a column tuple is counted with np.unique (sort) instead of a dense np.bincount.
DENSE_LIMIT = 1 << 22


@dataclass(frozen=True, eq=False)
class Marginal:
    """The non-zero (or retained) counts of one column tuple: `values[i]` (codes) has `counts[i]`."""

    cols: tuple[int, ...]
    values: np.ndarray  # (m, len(cols)) int32 codes, no missing
    counts: np.ndarray  # (m,) float64

    def keys(self, radices: np.ndarray) -> np.ndarray:
        """Mixed-radix int64 key of each combination (radix = the columns' cardinalities)."""
        return pack(self.values, radices[list(self.cols)])

    def dense(self, cardinalities: np.ndarray) -> np.ndarray:
        """Counts as a dense array of shape `(card_c for c in cols)` (zeros where absent)."""
        shape = tuple(int(cardinalities[c]) for c in self.cols)
        out = np.zeros(shape, dtype=np.float64)
        if len(self.counts):
            out[tuple(self.values.T)] = self.counts
        return out


@dataclass(frozen=True, eq=False)
class Aggregates:
    """Counts of combinations of length 1..`length` over a table's columns, plus the record count.

    `protection` records how the counts were protected (`{"method": "none"}`, k-rounding with `k` and
    `resolution`, or differential privacy with its budget); it travels with the counts into reports.
    """

    columns: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    length: int
    total: float
    marginals: dict[tuple[int, ...], Marginal]
    protection: dict[str, Any] = field(default_factory=lambda: {"method": "none"})

    @property
    def cardinalities(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories], dtype=np.int64)

    def of_length(self, length: int) -> Iterator[Marginal]:
        return (m for cols, m in self.marginals.items() if len(cols) == length)

    def n_combinations(self, length: int | None = None) -> int:
        return sum(len(m.counts) for m in self.marginals.values() if length is None or len(m.cols) == length)

    def get(self, cols: tuple[int, ...]) -> Marginal:
        """The marginal of `cols` (an empty one when every combination was dropped or never counted)."""
        m = self.marginals.get(cols)
        if m is None:
            m = Marginal(cols, np.empty((0, len(cols)), np.int32), np.empty(0, np.float64))
        return m

    def as_dict_counts(self) -> dict[tuple[tuple[int, int], ...], float]:
        """`{((col, code), ...): count}` for every combination; handy for small tables and tests."""
        out: dict[tuple[tuple[int, int], ...], float] = {}
        for cols, m in self.marginals.items():
            for vals, c in zip(m.values.tolist(), m.counts.tolist(), strict=True):
                out[tuple(zip(cols, vals, strict=True))] = c
        return out

    def to_frame(self) -> pl.DataFrame:
        """One row per combination: `combination` (`col:value;…`), `length`, `count` (integer)."""
        parts = [pl.DataFrame({"combination": [""], "length": [0], "count": [round(self.total)]})]
        # Every `col:value` label once, and each combination's labels gathered and joined by polars, length by
        # length: a release has thousands of column tuples, and a frame built per tuple cost seconds per build.
        labels = pl.Series([f"{name}:{v}" for name, cats in zip(self.columns, self.categories, strict=True)
                            for v in cats], dtype=pl.String)
        offsets = np.concatenate([[0], np.cumsum([len(cats) for cats in self.categories])[:-1]]).astype(np.int64)
        for size in sorted({len(c) for c in self.marginals}):
            tuples = [m for cols, m in sorted(self.marginals.items()) if len(cols) == size and len(m.counts)]
            if not tuples:
                continue
            codes = np.concatenate([m.values.astype(np.int64) + offsets[list(m.cols)] for m in tuples])
            counts = np.concatenate([m.counts for m in tuples])
            pieces = pl.DataFrame({f"c{i}": labels.gather(codes[:, i]) for i in range(size)})
            combination = pieces.select(pl.concat_str(pl.all(), separator=";")).to_series()
            parts.append(pl.DataFrame({
                "combination": combination,
                "length": pl.Series(np.full(len(counts), size), dtype=pl.Int64),
                "count": pl.Series(np.rint(counts).astype(np.int64)),
            }))
        return pl.concat(parts, how="vertical_relaxed")


def pack(values: np.ndarray, radices: np.ndarray) -> np.ndarray:
    """Pack rows of codes into one int64 key each (mixed radix, first column most significant).

    >>> pack(np.array([[1, 2], [0, 1]]), np.array([3, 4])).tolist()
    [6, 1]
    """
    key = np.zeros(values.shape[0], dtype=np.int64)
    for i in range(values.shape[1]):
        key = key * int(radices[i]) + values[:, i]
    return key


def unpack(keys: np.ndarray, radices: np.ndarray) -> np.ndarray:
    """Inverse of `pack`.

    >>> unpack(np.array([6, 1]), np.array([3, 4])).tolist()
    [[1, 2], [0, 1]]
    """
    out = np.empty((len(keys), len(radices)), dtype=np.int32)
    rest = keys.astype(np.int64, copy=True)
    for i in range(len(radices) - 1, -1, -1):
        rest, out[:, i] = np.divmod(rest, int(radices[i]))
    return out


# Extensions of one prefix are counted together in blocks of at most this many (column, record) cells.
BLOCK_CELLS = 1 << 22


def count_combinations(
    table: EncodedTable,
    length: int = 3,
    min_count: int = 1,
    columns: tuple[int, ...] | None = None,
) -> Aggregates:
    """Count every combination of length 1..`length` present in `table` with count >= `min_count`.

    `columns` restricts the combinations to some column indices. `min_count > 1` prunes: combinations (and
    their extensions) rarer than `min_count` are never enumerated. Unprotected counts: never publish them.

    >>> import polars as pl
    >>> from ctdc.privacy.table import encode_table
    >>> t = encode_table(pl.DataFrame({"a": list("xxy"), "b": list("uvv")}))
    >>> count_combinations(t, length=2, min_count=2).to_frame().rows()
    [('', 0, 3), ('a:x', 1, 2), ('b:v', 1, 2)]
    """
    if length < 1:
        raise InvalidPrivacyParameter("The reporting length must be at least 1.", {"length": length})
    min_count = max(1, int(min_count))
    card = table.cardinalities
    radix = card + 1  # code 0 stands for missing inside keys
    # (p, n), contiguous per column, as narrow as the codes allow (a quarter of int64's memory on a release table)
    narrow = np.int16 if int(radix.max(initial=1)) < 2**15 else np.int32
    shifted = np.ascontiguousarray(table.codes.T, dtype=narrow)
    shifted += 1
    cols_all = tuple(range(table.p)) if columns is None else tuple(columns)
    # Enumerate the sparsest columns first: a prefix of rarely filled columns keeps few rows alive, so every
    # extension below it scans few rows (3x faster on the release table, whose flag columns are mostly empty).
    # Marginals are stored under their columns in table order all the same, their values in key order.
    filled = (shifted[list(cols_all)] > 0).sum(axis=1)
    enum = np.array([cols_all[i] for i in np.argsort(filled, kind="stable")], dtype=np.int64)
    marginals: dict[tuple[int, ...], Marginal] = {}

    def extend(prefix: tuple[int, ...], rows: np.ndarray | None, key: np.ndarray, space: int, start: int) -> None:
        """Count every one-column extension (enumeration positions start..) of `prefix`, whose records are `rows`
        (None: all) with packed keys `key`, block by block; then extend the ones that may go deeper."""
        alive = table.n if rows is None else len(rows)
        block = max(1, BLOCK_CELLS // max(alive, 1))
        for lo in range(start, len(enum), block):
            hi = min(lo + block, len(enum))
            cs = enum[lo:hi]
            rad = radix[cs]
            spaces = space * rad
            offsets = np.concatenate([[0], np.cumsum(spaces)[:-1]])
            held = shifted[cs] if rows is None else shifted[np.ix_(cs, rows)]
            full = key[None, :] * rad[:, None] + held + offsets[:, None]
            valid = held > 0  # a combination holding a missing cell is not a combination
            keys = full[valid]
            total = int(spaces.sum())
            if total <= max(DENSE_LIMIT, 4 * len(keys)):
                cnt = np.bincount(keys, minlength=total)
                uniq = np.flatnonzero(cnt >= min_count)
                counts = cnt[uniq]
                every = every_counts = None
            else:
                every, every_counts = np.unique(keys, return_counts=True)
                keep = every_counts >= min_count
                uniq, counts = every[keep], every_counts[keep]
                cnt = None
            seg = np.searchsorted(offsets, uniq, side="right") - 1
            _store(prefix, cs, seg, uniq - offsets[seg], counts, rad)
            if len(prefix) + 1 >= length:
                continue
            held_any = np.bincount(seg, minlength=len(cs)) > 0
            for i in np.flatnonzero(held_any):
                sub = np.flatnonzero(valid[i])
                if min_count > 1:  # Apriori: a record of a rarer combination holds no longer counted one
                    mine = full[i][sub]
                    held_by = cnt[mine] if cnt is not None else every_counts[np.searchsorted(every, mine)]
                    sub = sub[held_by >= min_count]
                extend((*prefix, int(cs[i])), sub if rows is None else rows[sub], full[i][sub] - offsets[i],
                       space * int(rad[i]), lo + i + 1)

    def _store(prefix: tuple[int, ...], cs: np.ndarray, seg: np.ndarray, local: np.ndarray, counts: np.ndarray,
               rad: np.ndarray) -> None:
        """Store the combinations of one block (segment `seg` = extension column `cs[seg]`, `local` its key)
        as marginals under their columns in table order, values in key order."""
        if not len(local):
            return
        last = local % rad[seg]
        head = unpack(local // rad[seg], radix[list(prefix)]) if prefix else np.empty((len(local), 0), np.int32)
        order = np.argsort(prefix, kind="stable")
        ordered = np.array(prefix, dtype=np.int64)[order] if prefix else np.empty(0, np.int64)
        head = head[:, order]
        new = cs[seg]
        ins = np.searchsorted(ordered, new)  # where the extension column goes among the prefix's, per combination
        d = len(prefix) + 1
        vals = np.empty((len(local), d), dtype=np.int32)
        for j in range(d):
            before = head[:, j] if j < d - 1 else last
            after = head[:, j - 1] if j > 0 else last
            vals[:, j] = np.where(j < ins, before, np.where(j == ins, last, after)) - 1
        sort = np.lexsort((*(vals[:, j] for j in range(d - 1, -1, -1)), seg))
        vals, seg, counts = vals[sort], seg[sort], counts[sort].astype(np.float64)
        bounds = np.flatnonzero(np.diff(seg)) + 1
        for a, b in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(seg)]]), strict=True):
            cols = tuple(sorted((*prefix, int(cs[seg[a]]))))
            marginals[cols] = Marginal(cols, vals[a:b], counts[a:b])

    n = table.n
    extend((), None, np.zeros(n, dtype=np.int64), 1, 0)
    ordered = {cols: marginals[cols] for cols in sorted(marginals)}
    return Aggregates(table.columns, table.categories, length, float(n), ordered)


def protect_k_rounding(aggregates: Aggregates, k: int = 11, resolution: int = 10) -> Aggregates:
    """k-rounding: drop combinations with count < `k`, round the others down to a multiple of `resolution`.

    Guarantee: every published combination occurs at least `k` times in the input (the rounded value may be
    below `k` when `resolution > 1`; the combination itself is still one of at least `k` records). Privacy
    unit: one record. Not differential privacy. See NOTES.md.

    >>> import polars as pl
    >>> from ctdc.privacy.table import encode_table
    >>> t = encode_table(pl.DataFrame({"a": ["x"] * 23 + ["y"] * 4}))
    >>> protect_k_rounding(count_combinations(t, 1), k=5, resolution=10).to_frame().rows()
    [('', 0, 20), ('a:x', 1, 20)]
    """
    if k < 1:
        raise InvalidPrivacyParameter("k must be at least 1.", {"k": k})
    if resolution < 1:
        raise InvalidPrivacyParameter(
            "The rounding resolution must be at least 1.", {"resolution": resolution}
        )
    out: dict[tuple[int, ...], Marginal] = {}
    for cols, m in aggregates.marginals.items():
        keep = m.counts >= k
        if keep.any():
            counts = np.floor(m.counts[keep] / resolution) * resolution
            out[cols] = Marginal(cols, m.values[keep], counts)
    total = float(np.floor(aggregates.total / resolution) * resolution)
    return replace(
        aggregates,
        marginals=out,
        total=total,
        protection={"method": "k-rounding", "k": int(k), "resolution": int(resolution)},
    )
