"""Disclosure checks run on a release's OUTPUT, independently of the method that made it.

NOTE: pure Python on polars; never import Django here.

The privacy engine states guarantees; these checks recount them on the rows about to be published with code that
shares nothing with the engine, so a bug in a mechanism cannot silently publish. A release with a failed
*blocking* check can be built and inspected by a steward but is never published (`DisclosureCheckFailed`).

Each check has a stable kebab-case id (never renamed once released):

    quasi-identifier-k     k-anonymity (rows are real records): every class of the quasi-identifier columns
                           (missing and `*` count as values) has at least k rows.
                           Synthetic rows: every combination of up to L quasi-identifier values in the output
                           occurs at least k times in the input (the k-synthetic guarantee, recounted).
    rare-combinations      no combination of up to L values of the quasi-identifiers and the single-valued
                           sensitive fields in the output describes a real group of 1 to k-1 victims (counted in
                           the input; for k-anonymity, in the output). A combination absent from the input was
                           made up by noise and points at nobody, so it does not count.
    unique-record-copies   no output row is identical to an input record that is unique in the input: synthetic
                           rows are compared on every released column (a copy would republish one victim's whole
                           record); k-anonymous rows are real records, so they are compared on quasi-identifiers.
                           Synthetic rows may match by chance: at most `copy_share` of them (default 0.1%).

Which checks block publishing, per method:

    k-anonymity    all three, nothing allowed
    k-synthetic    all three; unique-record-copies up to `copy_share`
    dp-synthetic   unique-record-copies (up to `copy_share`) blocks. The other two are reported as advisory:
                   differential privacy bounds what any output reveals about one victim whatever combinations
                   the rows happen to hold, and noisy synthesis at epsilon = 4 does reproduce rare
                   combinations (about a quarter of the quasi-identifier triples of 20,000 simulated cases).

>>> import polars as pl
>>> inp = pl.DataFrame({"g": ["f"] * 12 + ["m"], "s": ["a"] * 13})
>>> out = check_release(inp, inp, quasi_identifiers=["g"], sensitive=["s"], k=11, length=2,
...                     method="k-anonymity")
>>> [(c.id, c.passed) for c in out]  # the one male record is unique on his quasi-identifiers
[('quasi-identifier-k', False), ('rare-combinations', False), ('unique-record-copies', False)]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import polars as pl

MISSING = "\x00missing"


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    passed: bool
    blocking: bool
    found: int
    allowed: int
    detail: str

    @property
    def blocks(self) -> bool:
        return self.blocking and not self.passed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _filled(frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(pl.String).fill_null(MISSING) for c in cols)


def _rare(inp: pl.DataFrame, out: pl.DataFrame, cols: list[str], k: int, length: int,
          synthetic: bool) -> tuple[int, int]:
    """(combinations of up to `length` values of `cols` in the output that describe 1..k-1 people, all)."""
    reference = (inp if synthetic else out).select(pl.col(c).cast(pl.String) for c in cols)
    o = out.select(pl.col(c).cast(pl.String) for c in cols)
    found = total = 0
    for size in range(1, min(length, len(cols)) + 1):
        for combo in combinations(cols, size):
            c = list(combo)
            ref = reference.select(c).drop_nulls().group_by(c).len()
            present = o.select(c).drop_nulls().unique()
            total += present.height
            counts = present.join(ref, on=c, how="left").with_columns(pl.col("len").fill_null(0))
            rare = counts.filter((pl.col("len") < k) & ((pl.col("len") >= 1) if synthetic else pl.lit(True)))
            found += rare.height
    return found, total


def quasi_identifier_k(inp: pl.DataFrame, out: pl.DataFrame, qi: list[str], k: int, length: int,
                       synthetic: bool, blocking: bool) -> CheckResult:
    title = "Quasi-identifiers shared by at least k victims"
    if not synthetic:
        sizes = _filled(out, qi).group_by(qi).len()
        small = sizes.filter(pl.col("len") < k)
        found = int(small["len"].sum()) if small.height else 0
        smallest = int(sizes["len"].min()) if sizes.height else 0
        return CheckResult("quasi-identifier-k", title, found == 0, blocking, found, 0,
                           f"{found} output rows are in a quasi-identifier class smaller than k={k} "
                           f"(smallest class: {smallest} rows).")
    found, total = _rare(inp, out, qi, k, length, synthetic=True)
    return CheckResult("quasi-identifier-k", title, found == 0, blocking, found, 0,
                       f"{found} of {total} combinations of up to {length} quasi-identifier values in the output "
                       f"belong to fewer than k={k} victims of the input.")


def rare_combinations(inp: pl.DataFrame, out: pl.DataFrame, cols: list[str], k: int, length: int,
                      synthetic: bool, blocking: bool) -> CheckResult:
    title = f"No combination of up to {length} values describing fewer than k victims"
    found, total = _rare(inp, out, cols, k, length, synthetic)
    where = "in the input" if synthetic else "in the output"
    return CheckResult("rare-combinations", title, found == 0, blocking, found, 0,
                       f"{found} of {total} combinations of up to {length} values of {len(cols)} columns describe "
                       f"1 to {k - 1} victims {where}.")


def unique_record_copies(inp: pl.DataFrame, out: pl.DataFrame, columns: list[str], allowed: int) -> CheckResult:
    title = "No output row copies a unique input record"
    unique = _filled(inp, columns).group_by(columns).len().filter(pl.col("len") == 1).drop("len")
    found = int(_filled(out, columns).join(unique, on=columns, how="semi").height)
    return CheckResult("unique-record-copies", title, found <= allowed, True, found, allowed,
                       f"{found} output rows are identical on {len(columns)} columns to an input record that is "
                       f"unique in the input (allowed: {allowed}).")


def check_release(inp: pl.DataFrame, out: pl.DataFrame, *, quasi_identifiers: list[str], sensitive: list[str],
                  k: int, length: int, method: str, copy_share: float = 0.001) -> list[CheckResult]:
    """Run every disclosure check of a release; the caller refuses to publish if `any(c.blocks ...)`.

    `sensitive` names the single-valued sensitive columns that rare-combinations also looks at.
    """
    synthetic = method != "k-anonymity"
    advisory = method == "dp-synthetic"
    qi = [c for c in quasi_identifiers if c in out.columns]
    wide = qi + [c for c in sensitive if c in out.columns]
    return [
        quasi_identifier_k(inp, out, qi, k, length, synthetic, blocking=not advisory),
        rare_combinations(inp, out, wide if synthetic else qi, k, length, synthetic, blocking=not advisory),
        unique_record_copies(inp, out, list(out.columns) if synthetic else qi,
                             allowed=int(copy_share * out.height) if synthetic else 0),
    ]
