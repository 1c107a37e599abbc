"""The intake pipeline: contributor file + mapping spec -> harmonized records, quarantine and a report.

    read (readers) -> pick mapped columns -> normalise each field (normalize) -> derive age, age band,
    majority status, registration year -> keyed identity hash -> drop every direct identifier ->
    split rows into accepted / quarantined / duplicates -> ValidationReport

Invariant, for every file: rows_read == accepted + quarantined + duplicates.

Privacy: direct identifiers (see the standard's disclosure roles) are read only to derive age and the keyed
identity hash, and are dropped before the result leaves this module. Problem messages for those columns never
carry the value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ctdc.errors import IngestError
from ctdc.fixtures.population import age_band
from ctdc.ingest.countries import country_lookup, normalise_key
from ctdc.ingest.mapping import ColumnMap, MappingSpec
from ctdc.ingest.normalize import (
    Normalised,
    code_lookup,
    normalise_boolean,
    normalise_code,
    normalise_codes,
    normalise_date,
    normalise_integer,
)
from ctdc.ingest.readers import read_table
from ctdc.ingest.report import PROBLEM_SCHEMA, ValidationReport
from ctdc.standard import Dataset, Field, load_standard

_MAX_ECHO = 60  # characters of a coded value echoed back in a report


@dataclass(frozen=True)
class IngestResult:
    records: pl.DataFrame      # accepted rows: record_id, source_row, identity_hash and the stored fields
    quarantine: pl.DataFrame   # row, record_id, codes: rows held back, with their reasons (no values)
    report: ValidationReport
    read_info: dict
    ignored_columns: list[str]


_SRC = "src:"


def _resolve(frame: pl.DataFrame, wanted: str) -> str | None:
    """The prefixed frame column for a source column name: exact match first, then folded."""
    if _SRC + wanted in frame.columns:
        return _SRC + wanted
    folded = {normalise_key(c.removeprefix(_SRC)): c for c in frame.columns}
    return folded.get(normalise_key(wanted))


def _message(code: str, column: str, f: Field, shown: str | None, expected: str) -> str:
    value = f"'{shown}'" if shown is not None else "The value (not shown: the column holds a direct identifier)"
    texts = {
        "unknown-code": f"{value} is not a valid value for {f.label}. Expected {expected}. Fix the value, or add it to the mapping's values for column '{column}'.",
        "unknown-country": f"{value} is not a country we recognise. Expected an ISO 3166 code or a country name in English, French or Spanish.",
        "bad-date": f"{value} is not a valid date. Expected {expected}.",
        "not-a-number": f"{value} is not a whole number.",
        "out-of-range": f"{value} is outside the allowed range {expected}.",
        "impossible-age": f"The age computed or given here is impossible ({expected}). Check the birth date and the registration date.",
        "missing-required": f"{f.label} is required on every record and is missing.",
    }
    return texts[code]


class _Builder:
    """Accumulates typed columns and problem flags while walking the mapped fields."""

    def __init__(self, frame: pl.DataFrame, dataset: Dataset) -> None:
        self.frame = frame
        self.dataset = dataset
        self.values: dict[str, pl.Expr] = {}
        self.flags: list[tuple[str, str, str, str, pl.Expr, str]] = []  # (flag col, column, field, code, raw col, expected)

    def flag(self, bad: pl.Expr, column: str, field: str, code: str, raw: str, expected: str) -> None:
        name = f"__flag{len(self.flags)}"
        self.flags.append((name, column.removeprefix(_SRC), field, code, raw, expected))
        self.frame = self.frame.with_columns(bad.fill_null(False).alias(name))


def _raw(sources: list[str]) -> pl.Expr:
    # Several source columns for one field: text joins with a space, others take the first non-empty.
    return pl.coalesce([pl.col(s) for s in sources]) if len(sources) > 1 else pl.col(sources[0])


def _field_value(b: _Builder, f: Field, sources: list[str], maps: list[ColumnMap]) -> None:
    cm = maps[0]
    col = sources[0]
    raw = _raw(sources)
    if f.type == "string":
        b.values[f.name] = pl.concat_str([pl.col(s) for s in sources], separator=" ", ignore_nulls=True).replace("", None)
        return
    if cm.from_age and f.codelist is not None:
        n, out = normalise_integer(raw, 0, 120)
        b.flag(n.bad, col, f.name, "not-a-number", col, "a whole number")
        b.flag(out, col, f.name, "impossible-age", col, "0 to 120")
        b.values[f.name] = pl.when(n.value < 18).then(pl.lit("minor")).when(n.value >= 18).then(pl.lit("adult"))
        return
    if f.type == "date":
        n = normalise_date(raw, cm.date_formats)
        b.values[f.name] = n.value
        fmts = ", ".join(cm.date_formats) or "YYYY-MM-DD or DD/MM/YYYY"
        b.flag(n.bad, col, f.name, "bad-date", col, fmts)
        return
    if f.type == "integer":
        n, out = normalise_integer(raw, f.min, f.max)
        b.values[f.name] = n.value
        b.flag(n.bad, col, f.name, "not-a-number", col, "a whole number")
        b.flag(out, col, f.name, "impossible-age" if f.name == "age" else "out-of-range", col, f"{f.min} to {f.max}")
        return
    if f.type == "boolean":
        n = normalise_boolean(raw, cm.values)
        b.values[f.name] = n.value
        b.flag(n.bad, col, f.name, "unknown-code", col, "yes/no (true/false)")
        return
    assert f.codelist is not None
    if f.codelist.name == "country":
        lookup = dict(country_lookup())
        lookup.update(code_lookup([], cm.values))
        n = normalise_code(raw, lookup)
        b.values[f.name] = n.value
        b.flag(n.bad, col, f.name, "unknown-country", col, "a country")
        return
    lookup = code_lookup([(c.code, c.label) for c in f.codelist.entries], cm.values)
    expected = "one of " + ", ".join(f.codelist.codes[:12]) + (" …" if len(f.codelist.codes) > 12 else "")
    if f.type == "codes":
        n: Normalised = normalise_codes(raw, lookup, list(f.codelist.codes), cm.separator or ";")
    else:
        n = normalise_code(raw, lookup)
    b.values[f.name] = n.value
    b.flag(n.bad, col, f.name, "unknown-code", col, expected)


def identity_hash(names: pl.Series, births: pl.Series, citizenship: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 of normalised name, birth date and citizenship; null unless name and birth date are known.

    >>> import polars as pl, datetime as dt
    >>> a = identity_hash(pl.Series(["DUPONT Marie"]), pl.Series([dt.date(1990, 1, 2)]), pl.Series(["FR"]), b"k")
    >>> b = identity_hash(pl.Series(["Marie Dupont"]), pl.Series([dt.date(1990, 1, 2)]), pl.Series(["FR"]), b"k")
    >>> a[0] == b[0] and len(a[0]) == 64
    True

    Keyed (a deployment secret), so the hash cannot be reversed by hashing candidate names without the key.
    """
    out = []
    for name, born, cit in zip(names.to_list(), births.to_list(), citizenship.to_list(), strict=True):
        if not name or born is None:
            out.append(None)
            continue
        # Token order differs between sources ("DUPONT Marie" vs "Marie Dupont"): sort the folded tokens.
        tokens = sorted(t for t in (normalise_key(part) for part in name.split()) if t)
        msg = f"{' '.join(tokens)}|{born.isoformat()}|{cit or ''}".encode()
        out.append(hmac.new(key, msg, hashlib.sha256).hexdigest())
    return pl.Series("identity_hash", out, dtype=pl.String)


def ingest_file(path: Path, spec: MappingSpec, *, identity_key: bytes,
                defaults: dict[str, object] | None = None) -> IngestResult:
    """Run the whole intake pipeline on one file. Raises `IngestError` only when the file cannot be read.

    `defaults` fills fields the file does not map (e.g. `data_source` from the organisation's kind); the
    mapping's own `constants` win over them.
    """
    dataset = load_standard().dataset(spec.dataset)
    read = read_table(Path(path), spec.reader)
    # Source columns live under a prefix so typed fields never overwrite a raw column of the same name.
    frame = read.frame.rename({c: _SRC + c for c in read.frame.columns})
    rows_read = frame.height

    # Which mapped columns are present; group them by target field.
    by_field: dict[str, tuple[list[str], list[ColumnMap]]] = {}
    used: set[str] = set()
    for src, cm in spec.columns.items():
        actual = _resolve(frame, src)
        if actual is None:
            continue
        used.add(actual)
        by_field.setdefault(cm.field, ([], []))
        by_field[cm.field][0].append(actual)
        by_field[cm.field][1].append(cm)
    column_field = {c: fld for fld, (cols, _maps) in by_field.items() for c in cols}
    rid_col = next((c for c in (_resolve(frame, r) for r in spec.record_id) if c), None)
    if rid_col:
        used.add(rid_col)
    ignored = [c.removeprefix(_SRC) for c in frame.columns if c not in used]
    rid_name = rid_col.removeprefix(_SRC) if rid_col else None
    if not by_field:
        raise IngestError(
            f"{Path(path).name}: none of the mapping's columns are in the file. "
            f"File columns: {', '.join(read.frame.columns[:15])}. Choose another preset or edit the mapping.",
            {"file": Path(path).name, "columns": read.frame.columns[:50]},
        )
    if "registration_year" not in by_field and "registration_date" not in by_field:
        raise IngestError(
            f"{Path(path).name}: no column is mapped to the registration year or date, which every record needs "
            "(problem code missing-required-column).",
            {"file": Path(path).name, "code": "missing-required-column", "field": "registration_year"},
        )

    frame = frame.with_columns(read.row_numbers())
    frame = frame.with_columns(
        (pl.col(rid_col) if rid_col else pl.concat_str([pl.lit("row-"), pl.col("row").cast(pl.String)]))
        .alias("__record_id")
    )
    b = _Builder(frame, dataset)
    for f in dataset.fields:
        if f.name in by_field:
            _field_value(b, f, *by_field[f.name])
    typed = b.frame.with_columns(**{name: expr for name, expr in b.values.items()})

    # Derived fields, each only when the file does not give it directly.
    derived: dict[str, pl.Expr] = {}
    if "registration_year" not in by_field:
        derived["registration_year"] = pl.col("registration_date").dt.year().cast(pl.Int64)
    if "age" not in by_field and "birth_date" in by_field and "registration_date" in by_field:
        reg, born = pl.col("registration_date"), pl.col("birth_date")
        before_birthday = (reg.dt.month() < born.dt.month()) | (
            (reg.dt.month() == born.dt.month()) & (reg.dt.day() < born.dt.day()))
        derived["age"] = (reg.dt.year() - born.dt.year() - before_birthday.cast(pl.Int64)).cast(pl.Int64)
    elif "age" in by_field and "birth_date" in by_field and "registration_date" in by_field:
        reg, born = pl.col("registration_date"), pl.col("birth_date")
        before_birthday = (reg.dt.month() < born.dt.month()) | (
            (reg.dt.month() == born.dt.month()) & (reg.dt.day() < born.dt.day()))
        derived["age"] = pl.coalesce(
            (reg.dt.year() - born.dt.year() - before_birthday.cast(pl.Int64)).cast(pl.Int64), pl.col("age"))
    typed = typed.with_columns(**derived)
    if "age" in derived:
        age_field = dataset.field("age")
        col = by_field.get("birth_date", by_field.get("age"))[0][0]
        impossible = (pl.col("age") < age_field.min) | (pl.col("age") > age_field.max)
        b.frame = typed
        b.flag(impossible, col, "age", "impossible-age", col, f"{age_field.min} to {age_field.max} years")
        typed = b.frame.with_columns(pl.when(impossible.fill_null(False)).then(None).otherwise(pl.col("age")).alias("age"))
    more: dict[str, pl.Expr] = {}
    if "age" in typed.columns and "age_band" not in by_field:
        more["age_band"] = age_band(pl.col("age"))
    if "age" in typed.columns and "majority_status" not in by_field:
        more["majority_status"] = pl.when(pl.col("age") < 18).then(pl.lit("minor")).when(pl.col("age") >= 18).then(pl.lit("adult"))
    typed = typed.with_columns(**more)
    constants = {**(defaults or {}), **spec.constants}
    typed = typed.with_columns(
        **{k: pl.lit(v) for k, v in constants.items() if k not in by_field and k in dataset.field_names})
    reg_field = dataset.field("registration_year")
    year_col = (by_field.get("registration_year") or by_field["registration_date"])[0][0]
    b.frame = typed
    # Missing only when no other problem already explains the empty year (a bad date, say).
    explained = [pl.col(n) for n, _c, fld, *_ in b.flags if fld in ("registration_year", "registration_date")]
    b.flag(pl.col("registration_year").is_null() & ~pl.any_horizontal(explained or [pl.lit(False)]),
           year_col, "registration_year", "missing-required", year_col, "")
    out_of_range = (pl.col("registration_year") < reg_field.min) | (pl.col("registration_year") > reg_field.max)
    b.flag(out_of_range, year_col, "registration_year", "out-of-range", year_col, f"{reg_field.min} to {reg_field.max}")
    typed = b.frame

    # Problems: one row per flagged cell. Values of direct identifiers are never copied.
    parts = []
    for name, column, fld, code, raw, expected in b.flags:
        f = dataset.field(fld)
        hit = typed.filter(pl.col(name))
        if not hit.height:
            continue
        # The raw column may feed another field than the flagged one (a birth date flags `age`): what decides
        # whether the value may be echoed is the field that column is mapped to.
        raw_field = dataset.field(column_field[raw])
        shown = (pl.lit(None, dtype=pl.String) if f.is_direct_identifier or raw_field.is_direct_identifier
                 or raw_field.type == "string" else pl.col(raw).str.slice(0, _MAX_ECHO))
        severity = "error"
        part = hit.select(
            pl.col("row").cast(pl.Int64),
            pl.lit(column).alias("column"), pl.lit(fld).alias("field"), pl.lit(code).alias("code"),
            pl.lit(severity).alias("severity"), shown.alias("value"),
        )
        part = part.with_columns(
            pl.struct("value").map_elements(
                lambda s, code=code, column=column, f=f, expected=expected: _message(code, column, f, s["value"], expected),
                return_dtype=pl.String,
            ).alias("message") if part.height < 50_000 else pl.lit(_message(code, column, f, None, expected)).alias("message")
        )
        parts.append(part)
    problems = pl.concat(parts) if parts else pl.DataFrame(schema=PROBLEM_SCHEMA)

    # Duplicates: a record id seen on an earlier row of the same file.
    dup = typed.select(pl.col("__record_id").is_duplicated() & ~pl.col("__record_id").is_first_distinct()).to_series()
    typed = typed.with_columns(__dup=dup)
    dups = typed.filter(pl.col("__dup"))
    if dups.height:
        problems = pl.concat([problems, dups.select(
            pl.col("row").cast(pl.Int64), pl.lit(rid_name or "(row number)").alias("column"),
            pl.lit("record_id").alias("field"), pl.lit("duplicate-record-id").alias("code"),
            pl.lit("warning").alias("severity"), pl.col("__record_id").str.slice(0, _MAX_ECHO).alias("value"),
            pl.lit("This record id already appeared on an earlier row of the file; the later row was not imported.")
            .alias("message"),
        )])
    error_rows = problems.filter(pl.col("severity") == "error").select("row").unique()
    typed = typed.with_columns(__error=pl.col("row").is_in(error_rows["row"].implode()))

    accepted = typed.filter(~pl.col("__dup") & ~pl.col("__error"))
    quarantined = typed.filter(~pl.col("__dup") & pl.col("__error"))
    hashes = identity_hash(
        accepted["full_name"] if "full_name" in accepted.columns else pl.Series([None] * accepted.height, dtype=pl.String),
        accepted["birth_date"] if "birth_date" in accepted.columns else pl.Series([None] * accepted.height, dtype=pl.Date),
        accepted["citizenship"] if "citizenship" in accepted.columns else pl.Series([None] * accepted.height, dtype=pl.String),
        identity_key,
    )
    stored = [f for f in dataset.stored_fields]
    records = accepted.with_columns(hashes).select(
        pl.col("__record_id").alias("record_id"), pl.col("row").alias("source_row"), "identity_hash",
        *[(pl.col(f.name) if f.name in accepted.columns else pl.lit(None)).alias(f.name) for f in stored],
    )
    quarantine = quarantined.select(pl.col("row"), pl.col("__record_id").alias("record_id")).join(
        problems.filter(pl.col("severity") == "error").group_by("row").agg(pl.col("code").unique().sort().str.join(";").alias("codes")),
        on="row", how="left",
    ).sort("row")
    report = ValidationReport.from_problems(
        problems.sort("row", "column"), rows_read=rows_read, accepted=records.height,
        quarantined=quarantine.height, duplicates=dups.height,
    )
    assert rows_read == records.height + quarantine.height + dups.height, "intake invariant broken"
    info = {"format": read.format, "encoding": read.encoding, "delimiter": read.delimiter, "sheet": read.sheet,
            "record_id_column": rid_name, "mapping": spec.name, "mapping_version": spec.version_hash}
    return IngestResult(records, quarantine, report, info, ignored)
