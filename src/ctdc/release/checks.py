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

from dataclasses import asdict, dataclass
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
            out.extend(np.where(parts.list.contains(code).fill_null(False).to_numpy(), 0, -1).astype(np.int8)
                       for code in vocabulary[c])
        else:
            # as narrow as the vocabulary allows: a release table has ~110 items of 250,000 rows on each side
            lookup = {v: i for i, v in enumerate(vocabulary[c])}
            dtype = pl.Int16 if len(lookup) < 2**15 else pl.Int32
            out.append(values.replace_strict(lookup, default=-1, return_dtype=dtype).to_numpy())
    return out


# Extensions of one prefix are counted in blocks of at most this many (column, row) cells, so the keys of a
# block stay a few tens of MB whatever the table's width.
BLOCK_CELLS = 1 << 22
# Blocks whose packed values fit in this many slots (or in 4 slots a key) are counted with np.bincount, the
# others by sorting (np.unique).
BINCOUNT_SPACE = 1 << 16


def _rare(inp: pl.DataFrame, out: pl.DataFrame, cols: list[str], k: int, length: int, synthetic: bool,
          multi: set[str] = frozenset()) -> tuple[int, int]:
    """(combinations of up to `length` values of `cols` in the output that describe 1..k-1 people, all).

    People are counted in the input for synthetic rows, in the output itself for real (k-anonymous) rows. A
    set-valued column (`multi`) gives one value per code its sets hold.

    Depth-first over item prefixes, sparsest items first: a prefix keeps the rows (of each side) holding a value
    in each of its items and their packed key, and all its one-item extensions are counted at once, their keys
    offset into one key space per block of extensions. Only the two sums are wanted, so nothing is kept per
    combination. A prefix that no output row holds has no extension in the output and is not followed. (Issue 17,
    item 7: with the recruitment and platform flags the victims release has about 110 items and 220,000 triples;
    counting triple by triple spent most of its time in Python.)
    """
    vocabulary = {}
    for c in cols:
        values = out[c].cast(pl.String)
        if c in multi:
            values = values.str.split(";").explode()
        vocabulary[c] = sorted(v for v in values.drop_nulls().unique().to_list() if v != SUPPRESSED)
    o_items = _item_columns(out, cols, multi, vocabulary)
    r_items = _item_columns(inp, cols, multi, vocabulary) if synthetic else o_items
    m = len(o_items)
    if m == 0 or length < 1:
        return 0, 0
    # Sparsest first: a prefix of rarely held items keeps few rows for everything after it. The order changes
    # no count (a combination is a set of values).
    order = np.argsort([int((x >= 0).sum()) for x in o_items], kind="stable")
    radix = np.array([max(int(o_items[i].max()) + 1, 1) if len(o_items[i]) else 1 for i in order], dtype=np.int64)
    dtype = np.int16 if radix.max() < 2**15 else np.int32
    o_mat = np.stack([o_items[i].astype(dtype) for i in order])
    r_mat = np.stack([r_items[i].astype(dtype) for i in order]) if synthetic else o_mat
    del o_items, r_items
    mats = (o_mat, r_mat) if synthetic else (o_mat,)
    found = total = 0

    def tally(prefix_space: int, start: int, stop: int, rows: tuple[np.ndarray, ...],
              keys: tuple[np.ndarray, ...]) -> None:
        """Add the extensions start..stop-1 of one prefix (its rows and keys per side) to found and total."""
        nonlocal found, total
        spaces = prefix_space * radix[start:stop]
        offsets = np.concatenate([[0], np.cumsum(spaces)[:-1]])
        packed = []
        for mat, idx, key in zip(mats, rows, keys, strict=True):
            held = mat[start:stop][:, idx]
            valid = held >= 0
            full = key[None, :] * radix[start:stop, None] + held + offsets[:, None]
            packed.append(full[valid])
        space = int(spaces.sum())
        if space <= max(BINCOUNT_SPACE, 4 * sum(len(p) for p in packed)):
            in_output = np.bincount(packed[0], minlength=space)
            present = in_output > 0
            people = np.bincount(packed[1], minlength=space) if synthetic else in_output
            total += int(present.sum())
            found += int((present & (people < k) & ((people >= 1) if synthetic else True)).sum())
            return
        present, in_output = np.unique(packed[0], return_counts=True)
        total += len(present)
        if synthetic:
            ref, counts = np.unique(packed[1], return_counts=True)
            if not len(ref):
                return
            pos = np.minimum(np.searchsorted(ref, present), len(ref) - 1)
            people = np.where(ref[pos] == present, counts[pos], 0)
            found += int(((people < k) & (people >= 1)).sum())
        else:
            found += int((in_output < k).sum())

    def visit(depth: int, prefix_space: int, start: int, rows: tuple[np.ndarray, ...],
              keys: tuple[np.ndarray, ...]) -> None:
        if start >= m:
            return
        block = max(1, BLOCK_CELLS // max(max(len(r) for r in rows), 1))
        for lo in range(start, m, block):
            tally(prefix_space, lo, min(lo + block, m), rows, keys)
        if depth + 1 >= length:
            return
        for c in range(start, m):
            sub_rows, sub_keys = [], []
            for mat, idx, key in zip(mats, rows, keys, strict=True):
                held = mat[c][idx]
                keep = held >= 0
                sub_rows.append(idx[keep])
                sub_keys.append(key[keep] * radix[c] + held[keep])
            if not len(sub_rows[0]):
                continue  # no output row holds this prefix: none of its extensions is in the output
            visit(depth + 1, prefix_space * int(radix[c]), c + 1, tuple(sub_rows), tuple(sub_keys))

    everyone = tuple(np.arange(mat.shape[1]) for mat in mats)
    visit(0, 1, 0, everyone, tuple(np.zeros(mat.shape[1], dtype=np.int64) for mat in mats))
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
