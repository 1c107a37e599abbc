"""Independent reference implementations (plain polars group_by) that the tests compare the engine with."""

from __future__ import annotations

from itertools import combinations

import polars as pl


def combination_counts(df: pl.DataFrame, length: int) -> dict[tuple[tuple[str, str], ...], int]:
    """Every combination of non-missing values up to `length`, counted with polars group_by."""
    text = df.select(pl.all().cast(pl.String))
    out: dict[tuple[tuple[str, str], ...], int] = {}
    for size in range(1, length + 1):
        for cols in combinations(text.columns, size):
            sub = text.select(cols).drop_nulls()
            for row in sub.group_by(list(cols)).len().iter_rows():
                out[tuple(zip(cols, row[:-1], strict=True))] = row[-1]
    return out
