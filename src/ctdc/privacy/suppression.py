"""Local suppression of rare combinations: after k-anonymization of the quasi-identifiers, no combination of up
to L released values (quasi-identifiers and the other released fields) may describe 1 to k-1 records.

NOTE: pure numpy/polars; no Django. Mechanism notes: `NOTES.md` (section k-anonymization).

k-anonymity on the quasi-identifiers alone leaves the other released columns as they are: on 1,500 simulated
cases, 1,488 k-anonymous rows were unique on all released columns, and a short combination such as
(citizenship, trafficking duration, means of control) can still single out one victim to anyone who knows
two of those facts. This is the k^m-anonymity of Terrovitis et al. (2008) with m = L: every combination of up
to L values in the output is shared by at least k rows.

A combination is a set of known values: a missing or suppressed (`*`) cell matches no value, so it never
makes a combination and never completes one. That is conservative for the check: an attacker who knows L
values of a victim cannot exclude a row with `*` in one of them, so at least as many rows stay candidates as
the exact matches counted here.

A set-valued field (`;`-joined codes) is one value per code it holds, as in the aggregates and in k^m-anonymity
of set-valued data: a row holds `means_of_control: threats` when its set contains `threats`. Suppressing such a
value removes that code from the row's set and adds `*` to it ("and codes not shown"), so the row never says
something false and keeps its other codes.

The quasi-identifier cells are never touched (their classes are already of size k and a `*` there would split
a class). In each rare combination, the value suppressed is the one of its non-quasi-identifier values that
the fewest rows hold (the most identifying). Suppressing a value can make another combination that held it
rare, so passes repeat, each over the combinations touching a column changed by the previous one, until one
finds nothing: each pass removes values, so this ends.

>>> df = pl.DataFrame({"g": ["f"] * 12 + ["m"] * 12, "s": ["a"] * 11 + ["b"] + ["a"] * 12})
>>> out, n = suppress_rare_combinations(df, ["g"], ["s"], k=11, length=2)
>>> n, out["s"].to_list().count("*")  # s=b describes one record: suppressed; then (g=f, s=a) has 11 rows
(1, 1)
>>> sets = pl.DataFrame({"g": ["f"] * 12, "m": ["a;b"] * 11 + ["a;c"]})
>>> suppress_rare_combinations(sets, ["g"], ["m"], k=11, length=2, multi=["m"])[0]["m"].to_list()[-2:]
['a;b', 'a;*']
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import polars as pl

from ctdc.privacy.aggregates import pack
from ctdc.privacy.hierarchy import SUPPRESSED

# Above this many possible keys a column tuple is counted by sorting (np.unique) instead of a dense bincount.
_DENSE_LIMIT = 1 << 22


def _codes(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes with -1 for missing or `*`, the distinct values in code order) of a text column."""
    s = series.cast(pl.String)
    s = pl.select(pl.when(s == SUPPRESSED).then(None).otherwise(s)).to_series()
    values = s.drop_nulls().unique().sort()
    lookup = dict(zip(values.to_list(), range(values.len()), strict=True))
    codes = s.replace_strict(lookup, default=-1, return_dtype=pl.Int64).to_numpy()
    return codes, values.to_numpy()


def _rare_rows(block: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """Of `rows` (those holding a value in every column of `block`), the ones whose combination 1..k-1 rows hold."""
    if not len(rows):
        return rows
    values = block[rows]
    radices = values.max(axis=0) + 1
    keys = pack(values, radices)
    size = float(np.prod(radices.astype(np.float64)))
    if size <= max(_DENSE_LIMIT, 4 * len(keys)):
        counts = np.bincount(keys, minlength=int(size))[keys]
    else:
        _, inverse, cnt = np.unique(keys, return_inverse=True, return_counts=True)
        counts = cnt[inverse.reshape(-1)]
    return rows[counts < k]


def _items(df: pl.DataFrame, cols: Sequence[str], multi: Sequence[str]) -> tuple[np.ndarray, list[int], list[str]]:
    """(item codes, owning column of each item, code of each set item ("" for a single-valued column)).

    A single-valued column is one item column (-1 missing or `*`). A set-valued column becomes one item
    column per code some row holds: 0 where the row's set holds it, -1 elsewhere.
    """
    blocks, owner, code_of = [], [], []
    for j, c in enumerate(cols):
        if c in multi:
            parts = df[c].cast(pl.String).str.split(";")
            codes = [x for x in parts.explode().drop_nulls().unique().sort().to_list() if x != SUPPRESSED]
            for code in codes:
                held = parts.list.contains(code).fill_null(False).to_numpy()
                blocks.append(np.where(held, 0, -1))
                owner.append(j)
                code_of.append(code)
        else:
            blocks.append(_codes(df[c])[0])
            owner.append(j)
            code_of.append("")
    return np.column_stack(blocks).astype(np.int64), owner, code_of


def suppress_rare_combinations(df: pl.DataFrame, keep: Sequence[str], suppress: Sequence[str], k: int,
                               length: int, multi: Sequence[str] = ()) -> tuple[pl.DataFrame, int]:
    """`df` with values of `suppress` suppressed until no combination of up to `length` values of `keep` +
    `suppress` is held by 1 to k-1 rows; and the number of values suppressed.

    `multi` names the set-valued columns (`;`-joined codes). `keep` (the k-anonymized quasi-identifiers) are
    read, never changed. Other columns of `df` are untouched.
    """
    cols = [*keep, *suppress]
    if not suppress or df.height == 0:
        return df, 0
    codes, owner, code_of = _items(df, cols, multi)
    p = codes.shape[1]
    free = {i for i in range(p) if owner[i] >= len(keep)}
    suppressed = np.zeros(codes.shape, dtype=bool)
    present: dict[int, np.ndarray] = {}

    def rows_of(i: int) -> np.ndarray:
        if i not in present:
            present[i] = np.flatnonzero(codes[:, i] >= 0)
        return present[i]

    dirty = set(range(p))
    while dirty:
        changed: set[int] = set()
        for size in range(1, min(length, p) + 1):
            for combo in combinations(range(p), size):
                targets = [c for c in combo if c in free]
                if not targets or dirty.isdisjoint(combo):
                    continue  # a combination none of whose columns changed keeps its counts
                # The rows holding every value of the combination, starting from its sparsest column.
                order = sorted(combo, key=lambda i: len(rows_of(i)))
                rows = rows_of(order[0])
                for i in order[1:]:
                    rows = rows[codes[rows, i] >= 0]
                rare = _rare_rows(codes[:, list(combo)], rows, k)
                if not len(rare):
                    continue
                freq = np.column_stack([np.bincount(codes[rows_of(t), t])[codes[rare, t]] for t in targets])
                picked = np.asarray(targets)[np.argmin(freq, axis=1)]
                codes[rare, picked] = -1
                suppressed[rare, picked] = True
                for t in np.unique(picked):
                    present.pop(int(t), None)
                    changed.add(int(t))
        dirty = changed
    n = int(suppressed.sum())
    if not n:
        return df, 0
    out = []
    for j in range(len(keep), len(cols)):
        items = [i for i in range(p) if owner[i] == j]
        hit = suppressed[:, items].any(axis=1)
        if not hit.any():
            continue
        values = df[cols[j]].cast(pl.String).to_list()
        for r in np.flatnonzero(hit):
            if code_of[items[0]] == "":
                values[r] = SUPPRESSED
            else:
                gone = {code_of[i] for i in items if suppressed[r, i]}
                kept = [c for c in values[r].split(";") if c not in gone and c != SUPPRESSED]
                values[r] = ";".join([*kept, SUPPRESSED])
        out.append(pl.Series(cols[j], values, dtype=pl.String))
    return df.with_columns(out), n
