"""Evaluation of a protected output against its input: preserved, fabricated and suppressed combinations, errors.

NOTE: pure numpy/polars; no Django. The report compares with the *sensitive* input, so it is itself
sensitive: it goes to data stewards, not to the public release (its counts are not protected).

Per combination length `l` and per output (the synthetic rows, the reported aggregates):

- `preserved`: share of the input's combinations that the output also has (count > 0);
- `suppressed`: share of the input's combinations missing from the output;
- `fabricated`: number (and share of the output's combinations) that the input does not have;
- `error_by_bucket`: for the input's combinations grouped by input count (1-10, 11-100, 101-1000, >1000),
  the mean absolute error and mean relative error of the output count (0 when absent).

>>> import polars as pl
>>> from ctdc.privacy.table import encode_table
>>> from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
>>> t = encode_table(pl.DataFrame({"a": ["x"] * 12 + ["y"] * 2}))
>>> orig = count_combinations(t, 1)
>>> m = compare_aggregates(orig, protect_k_rounding(orig, k=5, resolution=10))
>>> m[1]["preserved"], m[1]["suppressed"], m[1]["fabricated"]
(0.5, 0.5, 0)
>>> m[1]["error_by_bucket"][0]["mean_absolute_error"]
2.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ctdc.privacy.aggregates import Aggregates

BUCKETS: tuple[tuple[int, int | None], ...] = ((1, 10), (11, 100), (101, 1000), (1001, None))


def _combinations(aggregates: Aggregates, size: int, ids: dict[tuple[int, ...], int]) -> pl.DataFrame:
    """Every combination of the marginals of `size` columns as (marginal id, its codes, count), one frame."""
    parts = [(ids.setdefault(m.cols, len(ids)), m) for m in aggregates.of_length(size)]
    values = np.concatenate([m.values for _, m in parts]) if parts else np.empty((0, size), np.int32)
    lengths = np.fromiter((len(m.counts) for _, m in parts), dtype=np.int64, count=len(parts))
    columns = {"marginal": np.repeat(np.fromiter((i for i, _ in parts), dtype=np.int32, count=len(parts)), lengths)}
    columns.update({f"v{j}": values[:, j].astype(np.int32) for j in range(size)})
    columns["count"] = np.concatenate([m.counts for _, m in parts]) if parts else np.empty(0)
    return pl.DataFrame(columns)


def compare_aggregates(original: Aggregates, output: Aggregates) -> dict[int, dict[str, Any]]:
    """Per length, how `output` counts compare with `original` (unprotected) counts."""
    result: dict[int, dict[str, Any]] = {}
    for size in range(1, original.length + 1):
        # One join per length over every marginal at once: a release has thousands of column tuples, and a
        # search per tuple spent seconds of each build in Python overhead.
        ids: dict[tuple[int, ...], int] = {}
        o_frame = _combinations(original, size, ids)
        if output is original:  # dp-synthetic: the published counts are the rows' own counts; nothing to join
            n_out, n_fab = o_frame.height, 0
            o = xv = o_frame["count"].to_numpy()
        else:
            x_frame = _combinations(output, size, ids)
            on = ["marginal", *(f"v{j}" for j in range(size))]
            matched = o_frame.join(x_frame, on=on, how="left", maintain_order="left")
            n_out = x_frame.height
            n_fab = x_frame.join(o_frame, on=on, how="anti").height
            o = matched["count"].to_numpy()
            xv = matched["count_right"].fill_null(0.0).to_numpy()
        present = xv > 0
        buckets = []
        for lo, hi in BUCKETS:
            sel = (o >= lo) & (o <= (hi if hi is not None else np.inf))
            err = np.abs(xv[sel] - o[sel])
            buckets.append(
                {
                    "bucket": f"{lo}-{hi}" if hi else f">{lo - 1}",
                    "combinations": int(sel.sum()),
                    "mean_absolute_error": float(err.mean()) if sel.any() else None,
                    "mean_relative_error": float((err / o[sel]).mean()) if sel.any() else None,
                }
            )
        result[size] = {
            "original_combinations": len(o),
            "output_combinations": n_out,
            "preserved": float(present.mean()) if len(o) else None,
            "suppressed": float(1 - present.mean()) if len(o) else None,
            "fabricated": n_fab,
            "fabricated_share": n_fab / n_out if n_out else 0.0,
            "error_by_bucket": buckets,
        }
    return result


def marginal_mae(
    original: Aggregates, output: Aggregates, n_original: float, n_output: float
) -> dict[int, float]:
    """Mean absolute error of all 1..L-way marginals as proportions (every cell of every marginal table).

    The benchmark's accuracy number: the counts of each column tuple are divided by the table size (so tables
    of different sizes compare), and the error is averaged over every cell of the full marginal table.

    >>> import polars as pl
    >>> from ctdc.privacy.table import encode_table
    >>> from ctdc.privacy.aggregates import count_combinations
    >>> a = count_combinations(encode_table(pl.DataFrame({"a": list("xxyy")})), 1)
    >>> b = count_combinations(encode_table(pl.DataFrame({"a": list("xyyy")})), 1)
    >>> marginal_mae(a, b, 4, 4)
    {1: 0.25}
    """
    card = original.cardinalities
    out: dict[int, float] = {}
    for size in range(1, original.length + 1):
        errs = []
        for cols in {c for c in original.marginals if len(c) == size} | {
            c for c in output.marginals if len(c) == size
        }:
            o = original.get(cols).dense(card) / max(n_original, 1)
            x = output.get(cols).dense(card) / max(n_output, 1)
            errs.append(np.abs(o - x).ravel())
        out[size] = float(np.concatenate(errs).mean()) if errs else 0.0
    return out


def blank_marginal_mae(
    original: np.ndarray, synthetic: np.ndarray, cardinalities: np.ndarray, length: int = 3
) -> dict[int, float]:
    """Mean absolute error, in records, over every cell of every 1..`length`-way contingency table.

    Blank is a value: each column's table has its values (codes `0..c-1`), a blank cell (code `-1`) and an
    "outside" cell (code `-2`: a synthetic value the input's domain does not have, always 0 in the input), so
    missingness patterns are scored like any other value and invented values are errors. The synthetic counts
    are scaled to the input's record count (a DP synthesizer releases a noisy number of rows).

    >>> import numpy as np
    >>> a = np.array([[0], [0], [-1], [1]])
    >>> b = np.array([[0], [-1], [-1], [-2]])
    >>> blank_marginal_mae(a, b, np.array([2]), 1)  # cells 0, 1, blank, outside: |2-1|+|1-0|+|1-2|+|0-1|
    {1: 1.0}
    """
    n, p = original.shape
    scale = n / max(synthetic.shape[0], 1)
    width = np.asarray(cardinalities, dtype=np.int64) + 2

    def shifted(codes: np.ndarray) -> np.ndarray:
        # values keep 0..c-1, blank -> c, outside -> c + 1
        c = codes.astype(np.int64)
        return np.where(c >= 0, c, np.where(c == -1, width[None, :] - 2, width[None, :] - 1))

    o, s = shifted(original), shifted(synthetic)
    errors: dict[int, list[float]] = {size: [] for size in range(1, length + 1)}
    cells: dict[int, int] = {size: 0 for size in range(1, length + 1)}

    def visit(cols: tuple[int, ...], ko: np.ndarray, ks: np.ndarray, size: int) -> None:
        m = int(np.prod(width[list(cols)]))
        diff = np.bincount(ko, minlength=m) - scale * np.bincount(ks, minlength=m)
        errors[size].append(float(np.abs(diff).sum()))
        cells[size] += m
        if size < length:
            for nxt in range(cols[-1] + 1, p):
                visit((*cols, nxt), ko * width[nxt] + o[:, nxt], ks * width[nxt] + s[:, nxt], size + 1)

    for j in range(p):
        visit((j,), o[:, j], s[:, j], 1)
    return {size: sum(errors[size]) / max(cells[size], 1) for size in errors if cells[size]}
