"""The builder every stage of a piece adds to: typed columns (`values`) and problem flags over one frame.

A flag names its problem code (`ctdc.ingest.problems`: the registry decides its severity), the source column it
is reported at, the field it is about, the raw column whose value the report may echo, and what was expected.
"""

from __future__ import annotations

import polars as pl

from ctdc.ingest.normalize import Normalised
from ctdc.ingest.problems import problem
from ctdc.ingest.stages.columns import SRC


class Builder:
    """Accumulates typed columns and problem flags while walking the mapped fields.

    A flag is kept as an expression until the frame is next read: all pending flags are then computed in one
    `with_columns`, so polars evaluates them together (in parallel, common subexpressions once) instead of one
    pass over the rows per flag (the public CTDC layout has some 70 flags; issue 14).
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame = frame
        self._pending: list[pl.Expr] = []
        self.values: dict[str, pl.Expr] = {}
        # (flag column, source column, field, problem code, raw column, expected, severity)
        self.flags: list[tuple[str, str, str, str, str, str, str]] = []

    @property
    def frame(self) -> pl.DataFrame:
        if self._pending:
            pending, self._pending = self._pending, []
            self._frame = self._frame.with_columns(pending)
        return self._frame

    @frame.setter
    def frame(self, frame: pl.DataFrame) -> None:
        # Only ever set to a frame derived from `self.frame` (read above, so nothing is pending).
        assert not self._pending, "flags pending while the frame is replaced"
        self._frame = frame

    def dictionary(self, raw: pl.Expr, normalise) -> dict[str, pl.Expr]:
        """Normalise each *distinct* raw value once, then map the results back onto every row.

        Coded columns have few distinct values (a country column of a million rows has a few hundred), so the
        costly folding and parsing runs on a small frame; mapping back is a hash lookup.
        """
        # `raw` reads source columns only, which pending flags never change: no need to compute them first.
        uniques = self._frame.select(raw.alias("raw")).drop_nulls().unique()
        exprs = normalise(pl.col("raw"))
        table = uniques.with_columns(**exprs)
        out = {}
        for name in exprs:
            if table.schema[name] == pl.Boolean and name != "value":  # a problem flag: blank = no problem
                out[name] = raw.is_in(table.filter(pl.col(name))["raw"].implode()).fill_null(False)
            elif table.schema[name] == pl.Boolean:  # a yes/no field: a blank stays not recorded, never "no"
                out[name] = raw.replace_strict(table["raw"], table[name], default=None, return_dtype=pl.Boolean)
            else:
                out[name] = raw.replace_strict(table["raw"], table[name], default=None, return_dtype=table.schema[name])
        return out

    def flag(self, bad: pl.Expr, column: str, field: str, code: str, raw: str, expected: str,
             severity: str | None = None) -> None:
        """Report `code` (`ctdc.ingest.problems`) wherever `bad` holds; its severity is the registry's."""
        registered = problem(code).severity
        if severity not in (None, registered):
            raise ValueError(f"problem {code} is an {registered} in the registry, flagged as {severity}")
        severity = registered
        name = f"__flag{len(self.flags)}"
        self.flags.append((name, column.removeprefix(SRC), field, code, raw, expected, severity))
        self._pending.append(bad.fill_null(False).alias(name))


def raw_column(sources: list[str]) -> pl.Expr:
    # Several source columns for one field: text joins with a space, others take the first non-empty.
    return pl.coalesce([pl.col(s) for s in sources]) if len(sources) > 1 else pl.col(sources[0])


def parts(n: Normalised) -> dict[str, pl.Expr]:
    return {"value": n.value, "bad": n.bad}
