"""Threshold-protected counts: the simplest aggregate protection, counts below `k` are suppressed.

Privacy unit: one victim (one row). Guarantee: every published count is >= k or absent; no count of fewer than
k victims appears. This is a disclosure-control rule, not differential privacy (see docs/privacy.md).

>>> import polars as pl
>>> df = pl.DataFrame({"gender": ["female"] * 12 + ["male"] * 3})
>>> protected_counts(df, ["gender"], k=11).rows()
[('gender', 'female', 12)]
"""

from __future__ import annotations

import polars as pl

from ctdc.errors import PrivacyError


def protected_counts(
    frame: pl.DataFrame, columns: list[str], *, k: int, multi: frozenset[str] = frozenset()
) -> pl.DataFrame:
    """One-way counts of each column's values, suppressing counts below `k`.

    `multi` names `;`-joined multi-valued columns, whose values are counted separately (a victim with two
    exploitation types counts once in each). Missing values are not counted.
    Returns columns `dimension`, `value`, `count`, sorted by dimension then count descending.
    """
    if k < 2:
        raise PrivacyError(f"A suppression threshold k={k} protects nobody; use k >= 2.", {"k": k})
    parts = []
    for col in columns:
        series = frame.select(pl.col(col).cast(pl.String))
        if col in multi:
            series = series.select(pl.col(col).str.split(";")).explode(col)
        counts = (
            series.drop_nulls()
            .group_by(col)
            .len(name="count")
            .select(
                pl.lit(col).alias("dimension"), pl.col(col).alias("value"), pl.col("count").cast(pl.Int64)
            )
        )
        parts.append(counts)
    if not parts:
        return pl.DataFrame(schema={"dimension": pl.String, "value": pl.String, "count": pl.Int64})
    out = pl.concat(parts)
    return out.filter(pl.col("count") >= k).sort(
        ["dimension", "count", "value"], descending=[False, True, False]
    )
