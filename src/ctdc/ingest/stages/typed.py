"""Stage 2, typing: each mapped field's source columns normalised to the standard's type, with problem flags.

Coded, date and number columns are normalised once per distinct value (`Builder.dictionary`) and mapped back; a
value that does not fit is flagged with the registry's code (`unknown-code`, `bad-date`, `not-a-number`...)
and stays blank in the typed column. Multi-valued fields given as 0/1 flag columns are `flag_groups`.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.countries import country_lookup
from ctdc.ingest.derive import majority_status
from ctdc.ingest.mapping import ColumnMap, MappingSpec
from ctdc.ingest.normalize import (
    code_lookup,
    normalise_boolean,
    normalise_code,
    normalise_codes,
    normalise_date,
    normalise_integer,
    normalise_number,
)
from ctdc.ingest.stages.builder import Builder, parts, raw_column
from ctdc.ingest.stages.columns import ColumnPlan
from ctdc.ingest.stages.flag_groups import flag_groups
from ctdc.standard import Dataset, Field
from ctdc.standard.rules import age_bounds


def type_fields(b: Builder, spec: MappingSpec, dataset: Dataset, plan: ColumnPlan) -> tuple[pl.DataFrame, dict]:
    """Every mapped field typed (and flag groups read) over `b`'s frame: the typed frame and how rows encoded
    their flag groups."""
    frame = b.frame
    for f in dataset.fields:
        if f.name in plan.by_field:
            type_field(b, f, *plan.by_field[f.name])
    flag_stats = flag_groups(b, spec, dataset, frame)
    return b.frame.with_columns(**{name: expr for name, expr in b.values.items()}), flag_stats


def upper_bound(f: Field) -> int | float | None:
    """The field's upper bound. A year (unit `year`) also ends at the current one: a case is not registered, nor a
    fee paid, in a year that has not come (the standard's bound, 2030, leaves room for the standard's lifetime)."""
    if f.unit == "year" and f.max is not None:
        return min(int(f.max), date.today().year)
    return f.max


def type_field(b: Builder, f: Field, sources: list[str], maps: list[ColumnMap]) -> None:
    cm = maps[0]
    col = sources[0]
    raw = raw_column(sources)
    if f.type == "string":
        b.values[f.name] = pl.concat_str([pl.col(s) for s in sources], separator=" ", ignore_nulls=True).replace("", None)
        return
    if cm.from_age and f.codelist is not None:
        # A majority status given as an age: the standard's bounds of an age and its majority rule.
        youngest, oldest = age_bounds()

        def from_age(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_integer(x, youngest, oldest)
            return {"value": majority_status(n.value), "bad": n.bad, "out": out}
        d = b.dictionary(raw, from_age)
        b.flag(d["bad"], col, f.name, "not-a-number", col, P.WHOLE_NUMBER)
        b.flag(d["out"], col, f.name, "impossible-age", col, f"{youngest} to {oldest}")
        b.values[f.name] = d["value"]
        return
    if f.type == "date":
        d = b.dictionary(raw, lambda x: parts(normalise_date(x, cm.date_formats)))
        b.values[f.name] = d["value"]
        fmts = ", ".join(cm.date_formats) or P.ANY_DATE
        b.flag(d["bad"], col, f.name, "bad-date", col, fmts)
        return
    if f.type == "integer" and (cm.thousands or cm.censored):
        _censored_integer(b, f, col, raw, cm)
        return
    if f.type == "integer":
        top = upper_bound(f)

        def integer(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_integer(x, f.min, top)
            return {**parts(n), "out": out}
        d = b.dictionary(raw, integer)
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "not-a-number", col, P.WHOLE_NUMBER)
        b.flag(d["out"], col, f.name, "impossible-age" if f.name == "age" else "out-of-range", col,
               f"{f.min} to {top}")
        return
    if f.type == "number":
        def number(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_number(x, f.min, f.max)
            return {**parts(n), "out": out}
        d = b.dictionary(raw, number)
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "not-a-number", col, P.DECIMAL_NUMBER)
        b.flag(d["out"], col, f.name, "out-of-range", col, f"{f.min} to {f.max if f.max is not None else 'any'}")
        return
    if f.type == "boolean":
        d = b.dictionary(raw, lambda x: parts(normalise_boolean(x, cm.values)))
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "unknown-code", col, P.YES_NO)
        return
    assert f.codelist is not None
    if f.codelist.name == "country":
        lookup = dict(country_lookup())
        lookup.update(code_lookup([], cm.values))
        d = b.dictionary(raw, lambda x: parts(normalise_code(x, lookup)))
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "unknown-country", col, P.A_COUNTRY)
        return
    lookup = code_lookup([(c.code, c.label) for c in f.codelist.entries], cm.values)
    expected = "one of " + ", ".join(f.codelist.codes[:12]) + (" …" if len(f.codelist.codes) > 12 else "")
    if f.type == "codes":
        d = b.dictionary(raw, lambda x: parts(normalise_codes(x, lookup, list(f.codelist.codes), cm.separator or ";")))
    else:
        d = b.dictionary(raw, lambda x: parts(normalise_code(x, lookup)))
    b.values[f.name] = d["value"]
    b.flag(d["bad"], col, f.name, "unknown-code", col, expected)


def _censored_integer(b: Builder, f: Field, col: str, raw: pl.Expr, cm: ColumnMap) -> None:
    """A count written with thousands separators, or a censoring marker standing for an interval (`<5`: 1 to 4).

    A marker never becomes a number: the field stays blank and `<field>_lower`, `<field>_upper` and
    `<field>_censored` hold the interval; an exact value has both bounds equal to it. Each censored cell and each
    separator is reported as a warning, so the report shows how every figure was read.
    """
    sep = cm.thousands
    grouped = (rf"^\d{{1,3}}({re.escape(sep)}\d{{3}})+$") if sep else None
    markers = {k.strip(): v for k, v in cm.censored.items()}

    def parse(x: pl.Expr) -> dict[str, pl.Expr]:
        text = x.str.strip_chars()
        with_sep = text.str.contains(grouped) if grouped else pl.lit(False)
        plain = pl.when(with_sep).then(text.str.replace_all(re.escape(sep), "", literal=False)).otherwise(text) \
            if sep else text
        n, out = normalise_integer(plain, f.min, upper_bound(f))
        marker = text.is_in(list(markers)) if markers else pl.lit(False)
        lo = text.replace_strict({k: v[0] for k, v in markers.items()}, default=None, return_dtype=pl.Int64) \
            if markers else pl.lit(None, dtype=pl.Int64)
        hi = text.replace_strict({k: v[1] for k, v in markers.items()}, default=None, return_dtype=pl.Int64) \
            if markers else pl.lit(None, dtype=pl.Int64)
        return {"value": pl.when(marker).then(None).otherwise(n.value), "bad": n.bad & ~marker, "out": out,
                "lower": pl.when(marker).then(lo).otherwise(n.value),
                "upper": pl.when(marker).then(hi).otherwise(n.value),
                "censored": pl.when(marker).then(True).when(n.value.is_not_null()).then(False),
                "marker": marker, "separator": with_sep.fill_null(False)}

    d = b.dictionary(raw, parse)
    b.values[f.name] = d["value"]
    b.values[f"{f.name}_lower"] = d["lower"]
    b.values[f"{f.name}_upper"] = d["upper"]
    b.values[f"{f.name}_censored"] = d["censored"]
    b.flag(d["bad"], col, f.name, "not-a-number", col, P.WHOLE_NUMBER)
    b.flag(d["out"], col, f.name, "out-of-range", col, f"{f.min} to {upper_bound(f)}")
    intervals = ", ".join(f"'{k}' = {lo} to {hi}" for k, (lo, hi) in markers.items())
    if markers:
        b.flag(d["marker"], col, f.name, "censored-value", col, intervals)
    if sep:
        b.flag(d["separator"], col, f.name, "thousands-separator", col, f"'{sep}' every three digits")

