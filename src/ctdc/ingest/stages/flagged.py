"""Stage 5, problem rows: one row per flagged cell (row, column, field, code, severity, value shown, message,
what was expected), worded from the registry (`ctdc.ingest.problems`).

Privacy: the value of a direct identifier, of free text (outside a dataset of published aggregates) and of a
cell that looks like a whole row is never copied; the message then says the value is not shown.
"""

from __future__ import annotations

import string

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.problems import problem, render
from ctdc.ingest.report import PROBLEM_SCHEMA
from ctdc.ingest.stages.builder import Builder
from ctdc.ingest.stages.columns import ColumnPlan
from ctdc.standard import Dataset

_MAX_ECHO = 60  # characters of a coded value echoed back in a report


def problem_rows(b: Builder, typed: pl.DataFrame, dataset: Dataset, plan: ColumnPlan) -> pl.DataFrame:
    """The problems of every flag of `b` that holds on some row of `typed` (`PROBLEM_SCHEMA`)."""
    by_field, column_field = plan.by_field, plan.column_field
    # Problems: one row per flagged cell. Values of direct identifiers are never copied.
    non_personal = all(fld.role == "non_identifying" for fld in dataset.fields)
    separators = {c: m.separator or ";" for fld, (cols, maps) in by_field.items()
                  for c, m in zip(cols, maps, strict=True) if dataset.field(fld).type == "codes"}
    parts = []
    # How many cells each flag holds, in one pass: most flags hold none, and only those that do are filtered.
    hits = typed.select(pl.col(name).sum() for name, *_ in b.flags).row(0) if b.flags else ()
    for (name, column, fld, code, raw, expected, severity), n_hits in zip(b.flags, hits, strict=True):
        if not n_hits:
            continue
        f = dataset.field(fld)
        hit = typed.select("row", raw, name).filter(pl.col(name))
        # The raw column may feed another field than the flagged one (a birth date flags `age`): what decides
        # whether the value may be echoed is the field that column is mapped to.
        raw_field = dataset.field(column_field[raw])
        # Free text may name someone, except in a dataset of published aggregates (no person-level data).
        shown = (pl.lit(None, dtype=pl.String) if f.is_direct_identifier or raw_field.is_direct_identifier
                 or (raw_field.type == "string" and not non_personal)
                 else pl.col(raw).fill_null("(empty)").str.slice(0, _MAX_ECHO) if non_personal
                 else echo(pl.col(raw), separators.get(raw)))
        part = hit.select(
            pl.col("row").cast(pl.Int64),
            pl.lit(column).alias("column"), pl.lit(fld).alias("field"), pl.lit(code).alias("code"),
            pl.lit(severity).alias("severity"), shown.alias("value"),
        )
        # One message per distinct value shown (a few hundred at most, however many cells are flagged).
        shown_values = part.get_column("value").unique().to_list()
        messages = pl.DataFrame({"value": shown_values,
                                 "message": [render(code, value=v, label=f.label, column=column, expected=expected)
                                             for v in shown_values]},
                                schema={"value": pl.String, "message": pl.String})
        parts.append(part.join(messages, on="value", how="left", nulls_equal=True, maintain_order="left")
                     .with_columns(pl.lit(expected, dtype=pl.String).alias("expected")))
    return pl.concat(parts) if parts else pl.DataFrame(schema=PROBLEM_SCHEMA)


def echo(raw: pl.Expr, separator: str | None) -> pl.Expr:
    """A flagged value as a report may show it: its start, control characters replaced, and nothing at all when
    it holds two or more of one delimiter (its own code separator aside). That is a row, or the rest of one,
    read as one cell (a line written with another delimiter), and it carries the row's other cells: names,
    phone numbers.

    >>> frame = pl.DataFrame({"v": ["Russie, Fédération de", "28,+33 6 12,DUPONT Marie", "a|b|c", "x\x1b[1m"]})
    >>> frame.select(echo(pl.col("v"), "|")).to_series().to_list()
    ['Russie, Fédération de', None, 'a|b|c', 'x\ufffd[1m']
    """
    row_like = pl.any_horizontal([raw.str.count_matches(d, literal=True) >= 2 for d in ",;\t|" if d != separator])
    return pl.when(row_like).then(None).otherwise(
        raw.str.slice(0, _MAX_ECHO).str.replace_all(r"[\x00-\x1f\x7f]", "\ufffd"))



def message_columns(code: str, **parts: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """`message` and `expected` of a problem whose context varies by row, as expressions: the registry's template
    with each placeholder an expression (`parts`, named as in the template; `expected` joins them when the code
    has several)."""
    pieces: list[pl.Expr] = []
    for text, name, _spec, _conv in string.Formatter().parse(problem(code).message):
        if text:
            pieces.append(pl.lit(text))
        if name:
            pieces.append(parts[name])
    t = problem(code)
    expected = parts["expected"] if not t.parts else pl.concat_str([parts[p] for p in t.parts],
                                                                    separator=P.PART_SEPARATOR)
    return pl.concat_str(pieces).alias("message"), expected.alias("expected")
