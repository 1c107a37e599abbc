"""Disclosure-risk assessment of a table: equivalence classes, k, uniqueness, l-diversity, rare combinations.

NOTE: pure numpy/polars; no Django.

The attacker model is the prosecutor model: the attacker knows a person is in the table and knows their
quasi-identifiers. A record in an equivalence class (records sharing every quasi-identifier value) of size `f`
is re-identified with probability `1/f`. Missing quasi-identifier values form their own value here (a blank is
as visible to an attacker as a code), while rare *combinations* count only non-missing values, like the
aggregates.

>>> import polars as pl
>>> df = pl.DataFrame({"g": ["f", "f", "m", "m", "m"], "a": ["1", "1", "1", "2", "2"], "s": list("xyxxx")})
>>> r = assess_risk(df, quasi_identifiers=["g", "a"], sensitive=["s"], k=2)
>>> r.k, r.records_at_risk, r.sample_uniques, r.l_diversity
(1, 1, 1, {'s': 1})
>>> r.rare_combinations
{1: 0, 2: 1}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.aggregates import count_combinations, pack
from ctdc.privacy.table import EncodedTable, encode_table

# Class-size buckets used in every report (lower bound inclusive, upper bound inclusive; None = no bound).
SIZE_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (1, 1),
    (2, 2),
    (3, 4),
    (5, 10),
    (11, 20),
    (21, 50),
    (51, None),
)


@dataclass(frozen=True)
class RiskReport:
    """Disclosure-risk numbers of one table; `as_dict()` is the JSON form used by the CLI and reports."""

    n_records: int
    quasi_identifiers: tuple[str, ...]
    k_threshold: int
    k: int
    n_classes: int
    records_at_risk: int
    share_at_risk: float
    sample_uniques: int
    share_unique: float
    class_sizes: list[dict[str, Any]]
    l_diversity: dict[str, int]
    l_diverse_share: dict[str, float]
    rare_combinations: dict[int, int]
    record_risk: dict[str, float]
    expected_reidentifications: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["quasi_identifiers"] = list(self.quasi_identifiers)
        d["rare_combinations"] = {str(k): v for k, v in self.rare_combinations.items()}
        return d

    def summary_lines(self) -> list[str]:
        """A short readable report (the CLI prints it without `--json`)."""
        lines = [
            f"records: {self.n_records}; quasi-identifiers: {', '.join(self.quasi_identifiers)}",
            f"k (smallest equivalence class): {self.k} over {self.n_classes} classes",
            f"records at risk (class smaller than k={self.k_threshold}): {self.records_at_risk}"
            f" ({self.share_at_risk:.1%})",
            f"sample uniques: {self.sample_uniques} ({self.share_unique:.1%})",
            f"record re-identification risk: mean {self.record_risk['mean']:.4f},"
            f" p90 {self.record_risk['p90']:.4f}, max {self.record_risk['max']:.4f}",
            f"expected re-identifications: {self.expected_reidentifications:.1f}",
        ]
        for length, count in self.rare_combinations.items():
            lines.append(f"rare combinations of length {length} (count < {self.k_threshold}): {count}")
        for col, l_value in self.l_diversity.items():
            lines.append(
                f"l-diversity of {col}: l = {l_value}; classes with l >= 2: {self.l_diverse_share[col]:.1%}"
            )
        return lines


def equivalence_classes(table: EncodedTable, cols: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Class id of every record and size of every class, on `cols` (missing is a value of its own).

    >>> import polars as pl
    >>> ids, sizes = equivalence_classes(encode_table(pl.DataFrame({"a": list("xxy")})), [0])
    >>> ids.tolist(), sizes.tolist()
    ([0, 0, 1], [2, 1])
    """
    cols = list(cols)
    if not cols:
        return np.zeros(table.n, dtype=np.int64), np.array([table.n])
    key = pack(table.codes[:, cols].astype(np.int64) + 1, table.cardinalities[cols] + 1)
    _, ids, sizes = np.unique(key, return_inverse=True, return_counts=True)
    return ids.reshape(-1), sizes


def assess_risk(
    df: pl.DataFrame | EncodedTable,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
    k: int = 11,
    length: int | None = None,
) -> RiskReport:
    """Measure the re-identification risk of `df` on its `quasi_identifiers`.

    `k` is the threshold for "at risk" and "rare"; `length` (default: number of quasi-identifiers, at most 3)
    bounds the rare-combination search. `sensitive` columns get distinct l-diversity: the smallest number of
    distinct non-missing values in an equivalence class. Privacy unit: one record.
    """
    if k < 1:
        raise InvalidPrivacyParameter("k must be at least 1.", {"k": k})
    qi = tuple(quasi_identifiers)
    if not qi:
        raise InvalidPrivacyParameter("Name at least one quasi-identifier.", {"quasi_identifiers": []})
    wanted = list(dict.fromkeys([*qi, *sensitive]))
    table = df if isinstance(df, EncodedTable) else encode_table(df, wanted)
    qi_idx = [table.index_of(c) for c in qi]
    ids, sizes = equivalence_classes(table, qi_idx)
    record_size = sizes[ids]
    n = table.n
    at_risk = int((record_size < k).sum())
    uniques = int((record_size == 1).sum())
    risk = 1.0 / record_size

    buckets = []
    for lo, hi in SIZE_BUCKETS:
        in_bucket = (sizes >= lo) & (sizes <= (hi if hi is not None else np.iinfo(np.int64).max))
        buckets.append(
            {
                "sizes": f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi else f"{lo}+"),
                "classes": int(in_bucket.sum()),
                "records": int(sizes[in_bucket].sum()),
            }
        )

    l_div: dict[str, int] = {}
    l_share: dict[str, float] = {}
    for col in sensitive:
        j = table.index_of(col)
        vals = table.codes[:, j].astype(np.int64)
        present = vals >= 0
        distinct = np.zeros(len(sizes), dtype=np.int64)
        if present.any():
            pair = np.unique(ids[present] * (int(table.cardinalities[j]) + 1) + vals[present])
            np.add.at(distinct, pair // (int(table.cardinalities[j]) + 1), 1)
        l_div[col] = int(distinct.min())
        l_share[col] = float((distinct >= 2).mean())

    length = min(len(qi), 3) if length is None else int(length)
    if length < 1:
        raise InvalidPrivacyParameter("The combination length must be at least 1.", {"length": length})
    agg = count_combinations(table, length=length, columns=tuple(qi_idx))
    rare = {size: 0 for size in range(1, min(length, len(qi)) + 1)}
    for m in agg.marginals.values():
        rare[len(m.cols)] += int((m.counts < k).sum())

    return RiskReport(
        n_records=n,
        quasi_identifiers=qi,
        k_threshold=int(k),
        k=int(sizes.min()),
        n_classes=len(sizes),
        records_at_risk=at_risk,
        share_at_risk=at_risk / n,
        sample_uniques=uniques,
        share_unique=uniques / n,
        class_sizes=buckets,
        l_diversity=l_div,
        l_diverse_share=l_share,
        rare_combinations=rare,
        record_risk={
            "mean": float(risk.mean()),
            "p50": float(np.quantile(risk, 0.5)),
            "p90": float(np.quantile(risk, 0.9)),
            "p99": float(np.quantile(risk, 0.99)),
            "max": float(risk.max()),
        },
        expected_reidentifications=float(risk.sum()),
    )
