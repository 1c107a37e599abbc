"""Formula injection: text a spreadsheet program would run as a formula is written with a leading apostrophe.

A cell that starts with `=`, `+`, `-` or `@` is a formula to Excel, LibreOffice and Google Sheets when a CSV is
opened (and `=` when openpyxl writes a string), and a leading tab or carriage return hides such a start from
naive filters (OWASP, "CSV Injection"). Every CSV and XLSX ctdc produces passes its text cells through `defuse`
(or `defuse_frame` for a polars table): the apostrophe makes the program show the text as text. Numbers stay
numbers; only text cells are touched.

>>> [defuse(v) for v in ["=1+1", "+33 1", "-5", "@SUM(A1)", "\\tx", "\\rx", "plain", 7, None]]
["'=1+1", "'+33 1", "'-5", "'@SUM(A1)", "'\\tx", "'\\rx", 'plain', 7, None]
"""

from __future__ import annotations

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]"


def defuse(value):
    """`value` with an apostrophe in front when it is text starting like a formula; anything else as it is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) else value


def defuse_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text column defused (`defuse`), other columns untouched.

    >>> defuse_frame(pl.DataFrame({"a": ["=x", "y", None], "n": [-1, 2, 3]})).rows()
    [("'=x", -1), ('y', 2), (None, 3)]
    """
    text = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(_PATTERN)).then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String)).alias(c) for c in text)
