"""Vectorised normalisation of text cells into the standard's types and codes.

Each `normalise_*` function takes the raw text column (a polars expression) and returns a `Normalised` pair:
the typed value and a boolean `bad` flag for cells that had a value we could not interpret. The pipeline turns
flags into reported problems; nothing is coerced silently.

>>> import polars as pl
>>> df = pl.DataFrame({"x": ["F", " m ", "?", None]})
>>> n = normalise_code(pl.col("x"), {"f": "female", "m": "male"})
>>> df.select(n.value, n.bad).rows()
[('female', False), ('male', False), (None, True), (None, False)]
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# A mapping value of `null` means "this source value is a way of saying not recorded": no problem, no value.
MISSING = "\x00missing"
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y%m%d")
TRUE_WORDS = ("true", "yes", "y", "1", "oui", "si", "sí", "vrai", "verdadero")
FALSE_WORDS = ("false", "no", "n", "0", "non", "faux", "falso")


@dataclass(frozen=True)
class Normalised:
    value: pl.Expr
    bad: pl.Expr


def fold(expr: pl.Expr) -> pl.Expr:
    """Vectorised twin of `ctdc.ingest.countries.normalise_key`: no case, accents, punctuation or spaces."""
    return (
        expr.str.normalize("NFKD").str.replace_all(r"[^\x00-\x7F]", "").str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]", "")
    )


def _lookup_value(raw: pl.Expr, lookup: dict[str, str]) -> pl.Expr:
    return fold(raw).replace_strict(lookup, default=None, return_dtype=pl.String)


def normalise_code(raw: pl.Expr, lookup: dict[str, str]) -> Normalised:
    """One code per cell; `lookup` maps folded source values to codes (or MISSING)."""
    mapped = _lookup_value(raw, lookup)
    bad = raw.is_not_null() & mapped.is_null()
    value = pl.when(mapped == MISSING).then(None).otherwise(mapped)
    return Normalised(value, bad)


def normalise_codes(raw: pl.Expr, lookup: dict[str, str], order: list[str], separator: str) -> Normalised:
    """Several codes per cell, split on `separator`; output is `;`-joined in code-list order, de-duplicated."""
    rank = {code: i for i, code in enumerate(order)}
    # A whole cell that is one known value wins over splitting: some labels contain the separator
    # ("Activities of households as employers; undifferentiated ...").
    whole = fold(raw).replace_strict(lookup, default=None, return_dtype=pl.String)
    raw = pl.when(whole.is_not_null()).then(whole).otherwise(raw)
    parts = raw.str.split(separator).list.eval(pl.element().str.strip_chars()).list.eval(
        pl.element().filter(pl.element() != "")
    )
    mapped = parts.list.eval(fold(pl.element()).replace_strict(lookup, default=None, return_dtype=pl.String))
    bad = raw.is_not_null() & (mapped.list.eval(pl.element().is_null()).list.any())
    ranked = mapped.list.eval(
        pl.element().filter(pl.element().is_not_null() & (pl.element() != MISSING))
        .replace_strict(rank, default=None, return_dtype=pl.Int32)
    ).list.unique().list.sort()
    codes = ranked.list.eval(pl.element().replace_strict({i: c for c, i in rank.items()}, return_dtype=pl.String))
    value = codes.list.join(";").replace("", None)
    return Normalised(value, bad.fill_null(False))


MONTH_FORMATS = ("%Y-%m", "%m/%Y", "%Y/%m", "%m.%Y")


def normalise_date(raw: pl.Expr, formats: tuple[str, ...] = ()) -> Normalised:
    """Dates in the mapping's formats first, then common ones; ISO date-times keep their date part.

    Partial dates keep their precision (see `date_precision`): `2019-03` is 1 March 2019 at month precision,
    `2019` is 1 January 2019 at year precision.
    """
    day, month, year = _date_candidates(raw, formats)
    value = pl.coalesce(day, month, year)
    return Normalised(value, raw.is_not_null() & value.is_null())


def date_precision(raw: pl.Expr, formats: tuple[str, ...] = ()) -> pl.Expr:
    """`day`, `month` or `year`: how much of the date the source gave (null where it gave none).

    >>> import polars as pl
    >>> pl.DataFrame({"d": ["2019-03-04", "2019-03", "2019", "x"]}).select(date_precision(pl.col("d"))).to_series().to_list()
    ['day', 'month', 'year', None]
    """
    day, month, year = _date_candidates(raw, formats)
    return (pl.when(day.is_not_null()).then(pl.lit("day")).when(month.is_not_null()).then(pl.lit("month"))
            .when(year.is_not_null()).then(pl.lit("year")))


def _date_candidates(raw: pl.Expr, formats: tuple[str, ...]) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    text = pl.when(raw.str.contains(r"^\d{4}-\d{2}-\d{2}[T ]")).then(raw.str.slice(0, 10)).otherwise(raw)
    day = pl.coalesce([text.str.to_date(fmt, strict=False) for fmt in (*formats, *DEFAULT_DATE_FORMATS)])
    month = pl.coalesce([(text + "-01").str.to_date(fmt + "-%d", strict=False) for fmt in MONTH_FORMATS])
    year = pl.when(text.str.contains(r"^\d{4}$")).then((text + "-01-01").str.to_date("%Y-%m-%d", strict=False))
    return day, month, year


def _bounded(raw: pl.Expr, value: pl.Expr, lo: float | None, hi: float | None) -> tuple[Normalised, pl.Expr]:
    """`value` parsed from `raw`: not a number where `raw` held something that did not parse, out of range (and
    then missing) outside `lo`..`hi`."""
    bad = raw.is_not_null() & value.is_null()
    out = pl.lit(False)
    if lo is not None:
        out = out | (value < lo)
    if hi is not None:
        out = out | (value > hi)
    out = out.fill_null(False)
    return Normalised(pl.when(out).then(None).otherwise(value), bad), out


def normalise_integer(raw: pl.Expr, lo: int | None, hi: int | None) -> tuple[Normalised, pl.Expr]:
    """Whole numbers ("12", "12.0"); returns the value and its not-a-number flag, plus an out-of-range flag."""
    text = raw.str.replace(r"\.0+$", "")
    value = text.str.to_integer(strict=False)
    return _bounded(raw, value, lo, hi)


def normalise_number(raw: pl.Expr, lo: float | None, hi: float | None) -> tuple[Normalised, pl.Expr]:
    """Decimal numbers with a point ("1200", "1200.50", "1,200.50": commas only between groups of three digits);
    a decimal comma ("1200,50") is ambiguous with a thousands separator and is not a number. Returns the value and
    its not-a-number flag, plus an out-of-range flag.

    >>> frame = pl.DataFrame({"v": ["1,200.50", "80", "1200,50", "-3", None]})
    >>> n, out = normalise_number(pl.col("v"), 0, None)
    >>> frame.select(n.value, n.bad.alias("bad"), out.alias("out")).rows()
    [(1200.5, False, False), (80.0, False, False), (None, True, False), (None, False, True), (None, False, False)]
    """
    text = raw.str.strip_chars()
    plain = pl.when(text.str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")).then(text.str.replace_all(",", "")) \
        .otherwise(text)
    value = pl.when(plain.str.contains(r"^-?(\d+(\.\d*)?|\.\d+)$")).then(plain).otherwise(None) \
        .cast(pl.Float64, strict=False)
    return _bounded(raw, value, lo, hi)


def normalise_boolean(raw: pl.Expr, values: dict[str, object]) -> Normalised:
    lookup = {w: "t" for w in TRUE_WORDS} | {w: "f" for w in FALSE_WORDS}
    for k, v in values.items():
        lookup[_fold_text(k)] = MISSING if v is None else ("t" if v in (True, "true", "yes", 1) else "f")
    mapped = _lookup_value(raw, lookup)
    value = pl.when(mapped == "t").then(True).when(mapped == "f").then(False).otherwise(None)
    return Normalised(value, raw.is_not_null() & mapped.is_null())


def _fold_text(text: str) -> str:
    from ctdc.ingest.countries import normalise_key

    return normalise_key(str(text))


def code_lookup(codes: list[tuple[str, str]], values: dict[str, object]) -> dict[str, str]:
    """Folded source spelling -> code: the code itself, its label, then the mapping's own values (which win)."""
    lookup: dict[str, str] = {}
    for code, label in codes:
        lookup[_fold_text(code)] = code
        lookup[_fold_text(label)] = code
    for source, target in values.items():
        lookup[_fold_text(source)] = MISSING if target is None else str(target)
    lookup.pop("", None)
    return lookup
