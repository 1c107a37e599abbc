"""Disclosure checks run on a release's OUTPUT, independently of the method that made it.

NOTE: pure Python on polars and numpy; never import Django here.

The privacy engine states guarantees; these checks recount them on the rows about to be published with code that
shares nothing with the engine, so a bug in a mechanism cannot silently publish. A release with a failed
*blocking* check can be built and inspected by a steward but is never published (`DisclosureCheckFailed`).

Each check has a stable kebab-case id (never renamed once released):

    quasi-identifier-k     k-anonymity (rows are real records): every class of the quasi-identifier columns
                           (missing and `*` count as values) has at least k rows.
                           Synthetic rows: every combination of up to L quasi-identifier values in the output
                           occurs at least k times in the input (the k-synthetic guarantee, recounted).
    rare-combinations      no combination of up to L values of the released columns (quasi-identifiers plus
                           every other released field; a set-valued field gives one value per code its set
                           holds) in the output describes a group of 1 to k-1 victims. Real (k-anonymous) rows:
                           counted in the output itself. Synthetic rows: counted in the input; a combination
                           absent from the input was made up by noise and points at nobody, so it does not
                           count. Missing and suppressed (`*`) cells are not values: they match nobody.
    unique-record-copies   no output row is identical to an input record that is unique in the input: synthetic
                           rows are compared on every released column (a copy would republish one victim's whole
                           record); k-anonymous rows are real records, so they are compared on quasi-identifiers.
                           Synthetic rows may match by chance: at most `copy_share` of them (default 0.1%).

Which checks block publishing, per method:

    k-anonymity    all three, nothing allowed. The method suppresses values until rare-combinations passes
                   (`ctdc.privacy.suppression`), so a k-anonymity release can always be published.
    k-synthetic    all three; unique-record-copies up to `copy_share`.
    dp-synthetic   none. The three are run and logged for data stewards as advisory: differential privacy
                   bounds what any output reveals about one victim whatever rows it happens to hold, and a gate
                   that reads the input (publish only when a rebuild happens to pass) would be a selection on
                   the data outside the DP mechanism, which voids the guarantee.

What the public sees of the checks (`public_checks`): checks counted on the output alone (k-anonymity's
quasi-identifier-k and rare-combinations) in full; a blocking check that reads the input, only its id, title and
outcome (a published release passed it); nothing of a dp-synthetic release's checks, not even pass/fail (one
bit about the input). Their counts and details go to the steward report.

>>> import polars as pl
>>> inp = pl.DataFrame({"g": ["f"] * 12 + ["m"], "s": ["a"] * 13})
>>> out = check_release(inp, inp, quasi_identifiers=["g"], sensitive=["s"], k=11, length=2,
...                     method="k-anonymity")
>>> [(c.id, c.passed) for c in out]  # the one male record is unique on his quasi-identifiers
[('quasi-identifier-k', False), ('rare-combinations', False), ('unique-record-copies', False)]
>>> [c.blocking for c in check_release(inp, inp, quasi_identifiers=["g"], sensitive=["s"], k=11, length=2,
...                                    method="dp-synthetic")]
[False, False, False]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl

MISSING = "\x00missing"
SUPPRESSED = "*"


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    passed: bool
    blocking: bool
    found: int
    allowed: int
    detail: str
    # True when the check counts anything in the input: its counts and detail are for stewards only.
    reads_input: bool = True

    @property
    def blocks(self) -> bool:
        return self.blocking and not self.passed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def public_dict(self) -> dict[str, Any]:
        """What the public may see of this check (see the module docstring)."""
        if not self.reads_input:
            return self.as_dict()
        return {"id": self.id, "title": self.title, "passed": self.passed, "blocking": self.blocking,
                "detail": "Counted on the input: the counts are in the steward report."}


def public_checks(checks: list[CheckResult]) -> list[dict[str, Any]]:
    """The checks as the public report shows them: advisory checks that read the input are left out entirely.

    >>> advisory = CheckResult("unique-record-copies", "t", True, False, 3, 0, "3 rows ...")
    >>> gate = CheckResult("unique-record-copies", "t", True, True, 0, 0, "0 rows ...")
    >>> public_checks([advisory]), "found" in public_checks([gate])[0]
    ([], False)
    """
    return [c.public_dict() for c in checks if c.blocking or not c.reads_input]


def _filled(frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    return frame.select(pl.col(c).cast(pl.String).fill_null(MISSING) for c in cols)


def _item_columns(frame: pl.DataFrame, cols: list[str], multi: set[str],
                  vocabulary: dict[str, list[str]]) -> list[np.ndarray]:
    """Codes (-1: no value) of each item column: a single-valued column is one; a set-valued column is one per
    code of its vocabulary (0 where the row's set holds the code). Missing and `*` are never values."""
    out = []
    for c in cols:
        values = frame[c].cast(pl.String)
        if c in multi:
            parts = values.str.split(";")
            out.extend(np.where(parts.list.contains(code).fill_null(False).to_numpy(), 0, -1)
                       for code in vocabulary[c])
        else:
            lookup = {v: i for i, v in enumerate(vocabulary[c])}
            out.append(values.replace_strict(lookup, default=-1, return_dtype=pl.Int64).to_numpy())
    return out


# Combinations whose packed values fit in this many slots are counted with np.bincount instead of np.unique.
BINCOUNT_SPACE = 1 << 16


def _rare(inp: pl.DataFrame, out: pl.DataFrame, cols: list[str], k: int, length: int, synthetic: bool,
          multi: set[str] = frozenset()) -> tuple[int, int]:
    """(combinations of up to `length` values of `cols` in the output that describe 1..k-1 people, all).

    People are counted in the input for synthetic rows, in the output itself for real (k-anonymous) rows. A
    set-valued column (`multi`) gives one value per code its sets hold.
    """
    vocabulary = {}
    for c in cols:
        values = out[c].cast(pl.String)
        if c in multi:
            values = values.str.split(";").explode()
        vocabulary[c] = sorted(v for v in values.drop_nulls().unique().to_list() if v != SUPPRESSED)
    o_items = _item_columns(out, cols, multi, vocabulary)
    r_items = _item_columns(inp, cols, multi, vocabulary) if synthetic else o_items
    radix = [max(int(x.max()) + 1, 1) if len(x) else 1 for x in o_items]
    o_rows = [np.flatnonzero(x >= 0) for x in o_items]
    r_rows = [np.flatnonzero(x >= 0) for x in r_items] if synthetic else o_rows

    def holding(combo: tuple[int, ...], items: list[np.ndarray], rows: list[np.ndarray]) -> np.ndarray:
        """The rows holding a value in each column of `combo` (from its sparsest column's rows)."""
        idx = min((rows[i] for i in combo), key=len)
        for i in combo:
            idx = idx[items[i][idx] >= 0]
        return idx

    def keys(combo: tuple[int, ...], items: list[np.ndarray], rows: list[np.ndarray]) -> np.ndarray:
        """Packed values of `combo` for the rows holding a value in each of its columns."""
        idx = holding(combo, items, rows)
        key = np.zeros(len(idx), dtype=np.int64)
        for i in combo:
            key = key * radix[i] + items[i][idx]
        return key

    # combinations() gives the triples of one pair one after the other: the pair's rows and packed key are kept
    # (per side) and a triple extends them with its third column, unless that column is so sparse that starting
    # from its own rows is cheaper. The same keys with a third of the gathers (issue 17's release benchmark).
    prefix: dict[int, tuple[tuple[int, ...], np.ndarray, np.ndarray]] = {}

    def keys_of(combo: tuple[int, ...], items: list[np.ndarray], rows: list[np.ndarray], side: int) -> np.ndarray:
        if len(combo) != 3:
            return keys(combo, items, rows)
        pair, c = combo[:2], combo[2]
        hit = prefix.get(side)
        if hit is None or hit[0] != pair:
            idx = holding(pair, items, rows)
            hit = prefix[side] = (pair, idx, items[pair[0]][idx].astype(np.int64) * radix[pair[1]]
                                  + items[pair[1]][idx])
        _pair, idx, key = hit
        if 4 * len(rows[c]) < len(idx):
            return keys(combo, items, rows)
        held = items[c][idx]
        keep = held >= 0
        return key[keep] * radix[c] + held[keep]

    found = total = 0
    for size in range(1, min(length, len(o_items)) + 1):
        for combo in combinations(range(len(o_items)), size):
            o_keys = keys_of(combo, o_items, o_rows, 0)
            if not len(o_keys):
                continue
            space = math.prod(radix[i] for i in combo)
            if space <= BINCOUNT_SPACE:
                # Small key spaces (most combinations: flags and short code lists) are counted by position,
                # which is what the sorted search below does, without two sorts per combination.
                in_output = np.bincount(o_keys, minlength=space)
                present = in_output > 0
                people = np.bincount(keys_of(combo, r_items, r_rows, 1), minlength=space) if synthetic else in_output
                total += int(present.sum())
                found += int((present & (people < k) & ((people >= 1) if synthetic else True)).sum())
                continue
            present = np.unique(o_keys)
            ref, counts = np.unique(keys_of(combo, r_items, r_rows, 1), return_counts=True)
            total += len(present)
            pos = np.searchsorted(ref, present)
            hit = (pos < len(ref)) & (ref[np.minimum(pos, max(len(ref) - 1, 0))] == present) if len(ref) else \
                np.zeros(len(present), dtype=bool)
            people = np.where(hit, counts[np.minimum(pos, max(len(ref) - 1, 0))] if len(ref) else 0, 0)
            found += int(((people < k) & ((people >= 1) if synthetic else True)).sum())
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
                           f"(smallest class: {smallest} rows).", reads_input=False)
    found, total = _rare(inp, out, qi, k, length, synthetic=True)
    return CheckResult("quasi-identifier-k", title, found == 0, blocking, found, 0,
                       f"{found} of {total} combinations of up to {length} quasi-identifier values in the output "
                       f"belong to fewer than k={k} victims of the input.")


def rare_combinations(inp: pl.DataFrame, out: pl.DataFrame, cols: list[str], k: int, length: int,
                      synthetic: bool, blocking: bool, multi: set[str] = frozenset()) -> CheckResult:
    title = f"No combination of up to {length} values describing fewer than k victims"
    found, total = _rare(inp, out, cols, k, length, synthetic, multi)
    where = "in the input" if synthetic else "in the output"
    return CheckResult("rare-combinations", title, found == 0, blocking, found, 0,
                       f"{found} of {total} combinations of up to {length} values of {len(cols)} columns describe "
                       f"1 to {k - 1} victims {where}.", reads_input=synthetic)


def unique_record_copies(inp: pl.DataFrame, out: pl.DataFrame, columns: list[str], allowed: int,
                         blocking: bool = True) -> CheckResult:
    title = "No output row copies a unique input record"
    unique = _filled(inp, columns).group_by(columns).len().filter(pl.col("len") == 1).drop("len")
    found = int(_filled(out, columns).join(unique, on=columns, how="semi").height)
    return CheckResult("unique-record-copies", title, found <= allowed, blocking, found, allowed,
                       f"{found} output rows are identical on {len(columns)} columns to an input record that is "
                       f"unique in the input (allowed: {allowed}).")


def check_release(inp: pl.DataFrame, out: pl.DataFrame, *, quasi_identifiers: list[str], sensitive: list[str],
                  k: int, length: int, method: str, copy_share: float = 0.001,
                  multi: list[str] | None = None) -> list[CheckResult]:
    """Run every disclosure check of a release; the caller refuses to publish if `any(c.blocks ...)`.

    `sensitive` names the other released columns that rare-combinations looks at with the quasi-identifiers;
    `multi` those of them (or of the quasi-identifiers) that hold `;`-joined sets of codes.
    """
    synthetic = method != "k-anonymity"
    gate = method != "dp-synthetic"
    qi = [c for c in quasi_identifiers if c in out.columns]
    wide = qi + [c for c in sensitive if c in out.columns and c not in qi]
    return [
        quasi_identifier_k(inp, out, qi, k, length, synthetic, blocking=gate),
        rare_combinations(inp, out, wide, k, length, synthetic, blocking=gate, multi=set(multi or ())),
        unique_record_copies(inp, out, list(out.columns) if synthetic else qi,
                             allowed=int(copy_share * out.height) if synthetic else 0, blocking=gate),
    ]
