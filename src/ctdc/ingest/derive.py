"""Fields derived from others by the standard's own rules, as polars expressions.

NOTE: pure Python on polars; imports only `ctdc.standard`. The bands come from the code list (`age_band.yaml`:
each code's `min` and `max`) and the majority rule from its `majority` (`ctdc.standard.rules`), never from a table
of our own, so intake and the standard cannot disagree.

>>> import polars as pl
>>> pl.DataFrame({"age": [0, 8, 9, 17, 18, 47, 48, 120, 121, None]}).select(age_band(pl.col("age"))).to_series().to_list()
['0-8', '0-8', '9-17', '9-17', '18-20', '39-47', '48+', '48+', None, None]
>>> pl.DataFrame({"age": [0, 17, 18, None]}).select(majority_status(pl.col("age"))).to_series().to_list()
['minor', 'minor', 'adult', None]
"""

from __future__ import annotations

import polars as pl

from ctdc.standard import Standard, load_standard
from ctdc.standard.rules import age_of_majority


def age_band(age: pl.Expr, standard: Standard | None = None, codelist: str = "age_band") -> pl.Expr:
    """The `age_band` code of an integer age expression: the code whose [min, max] holds it; null otherwise.
    `codelist` names the bands (`perpetrator_age_band` for perpetrators)."""
    expr = pl.when(age.is_null()).then(None)
    for entry in (standard or load_standard()).codelist(codelist).entries:
        expr = expr.when(age.is_between(entry.extra["min"], entry.extra["max"])).then(pl.lit(entry.code))
    return expr.otherwise(None)


def majority_status(age: pl.Expr, standard: Standard | None = None) -> pl.Expr:
    """'minor' or 'adult' for an integer age expression, by the standard's majority rule; null stays null."""
    adult = age_of_majority(standard)
    return pl.when(age < adult).then(pl.lit("minor")).when(age >= adult).then(pl.lit("adult"))
