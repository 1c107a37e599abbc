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

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ctdc.errors import IngestError
from ctdc.fixtures.population import age_band
from ctdc.ingest.countries import country_lookup, normalise_key
from ctdc.ingest.identity import identity_hash, record_id_hash
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
# Coarser multi-valued fields derived from a finer one through an attribute of its codes (see the code lists):
# target field -> (source field, attribute). Only where the file does not give the target itself.
DERIVED_CODES = {"means_of_control_groups": ("means_of_control", "group"),
                 "labour_sectors_isic": ("labour_sectors", "isic")}


@dataclass(frozen=True)
class IngestResult:
    records: pl.DataFrame      # accepted rows: record_id (keyed hash), source_row, identity_hash, stored fields
    quarantine: pl.DataFrame   # row, record_id (keyed hash), codes: rows held back, with their reasons (no values)
    report: ValidationReport
    read_info: dict
    ignored_columns: list[str]


_SRC = "src:"
# Fields the pipeline derives from another when the file does not give them: a blank is the source's blank.
_DERIVED_FROM = {"registration_year": "registration_date", "age": "birth_date"}


def _resolve(frame: pl.DataFrame | list[str], wanted: str, prefix: str = _SRC) -> str | None:
    """The frame column (prefixed) for a source column name: exact match first, then ignoring case/accents."""
    columns = frame.columns if isinstance(frame, pl.DataFrame) else frame
    if prefix + wanted in columns:
        return prefix + wanted
    folded = {normalise_key(c.removeprefix(prefix)): c for c in columns}
    return folded.get(normalise_key(wanted))


def _wanted(spec: MappingSpec) -> list[str]:
    """Every source column name the spec can use."""
    names = [*spec.columns, *spec.record_id]
    for group in spec.flags:
        names += [*group.columns, *([group.text] if group.text else [])]
    return names


def _echo(raw: pl.Expr, separator: str | None) -> pl.Expr:
    """A flagged value as a report may show it: its start, control characters replaced, and nothing at all when
    it holds two or more of one delimiter (its own code separator aside). That is a row, or the rest of one,
    read as one cell (a line written with another delimiter), and it carries the row's other cells: names,
    phone numbers.

    >>> frame = pl.DataFrame({"v": ["Russie, Fédération de", "28,+33 6 12,DUPONT Marie", "a|b|c", "x\x1b[1m"]})
    >>> frame.select(_echo(pl.col("v"), "|")).to_series().to_list()
    ['Russie, Fédération de', None, 'a|b|c', 'x\ufffd[1m']
    """
    row_like = pl.any_horizontal([raw.str.count_matches(d, literal=True) >= 2 for d in ",;\t|" if d != separator])
    return pl.when(row_like).then(None).otherwise(
        raw.str.slice(0, _MAX_ECHO).str.replace_all(r"[\x00-\x1f\x7f]", "\ufffd"))


def _message(code: str, column: str, f: Field, shown: str | None, expected: str) -> str:
    value = f"'{shown}'" if shown is not None else "The value (not shown: it could identify someone)"
    texts = {
        "unknown-code": f"{value} is not a valid value for {f.label}. Expected {expected}. Fix the value, or add it to the mapping's values for column '{column}'.",
        "unknown-country": f"{value} is not a country we recognise. Expected an ISO 3166 code or a country name in English, French or Spanish.",
        "bad-date": f"{value} is not a valid date. Expected {expected}.",
        "not-a-number": f"{value} is not a whole number.",
        "out-of-range": f"{value} is outside the allowed range {expected}.",
        "impossible-age": f"The age computed or given here is impossible ({expected}). Check the birth date and the registration date.",
        "missing-required": f"{f.label} is required on every record and is missing.",
        "inconsistent-majority": f"The age band and the majority status contradict each other ({expected}).",
        "flags-text-disagree": f"{value} lists other values than the flag columns set ({expected}); the flags were used.",
    }
    return texts[code]


class _Builder:
    """Accumulates typed columns and problem flags while walking the mapped fields."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self.values: dict[str, pl.Expr] = {}
        # (flag column, source column, field, problem code, raw column, expected, severity)
        self.flags: list[tuple[str, str, str, str, str, str, str]] = []

    def dictionary(self, raw: pl.Expr, normalise) -> dict[str, pl.Expr]:
        """Normalise each *distinct* raw value once, then map the results back onto every row.

        Coded columns have few distinct values (a country column of a million rows has a few hundred), so the
        costly folding and parsing runs on a small frame; mapping back is a hash lookup.
        """
        uniques = self.frame.select(raw.alias("raw")).drop_nulls().unique()
        exprs = normalise(pl.col("raw"))
        table = uniques.with_columns(**exprs)
        out = {}
        for name in exprs:
            if table.schema[name] == pl.Boolean:
                out[name] = raw.is_in(table.filter(pl.col(name))["raw"].implode()).fill_null(False)
            else:
                out[name] = raw.replace_strict(table["raw"], table[name], default=None, return_dtype=table.schema[name])
        return out

    def flag(self, bad: pl.Expr, column: str, field: str, code: str, raw: str, expected: str,
             severity: str = "error") -> None:
        name = f"__flag{len(self.flags)}"
        self.flags.append((name, column.removeprefix(_SRC), field, code, raw, expected, severity))
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
        def from_age(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_integer(x, 0, 120)
            return {"value": pl.when(n.value < 18).then(pl.lit("minor")).when(n.value >= 18).then(pl.lit("adult")),
                    "bad": n.bad, "out": out}
        d = b.dictionary(raw, from_age)
        b.flag(d["bad"], col, f.name, "not-a-number", col, "a whole number")
        b.flag(d["out"], col, f.name, "impossible-age", col, "0 to 120")
        b.values[f.name] = d["value"]
        return
    if f.type == "date":
        d = b.dictionary(raw, lambda x: _parts(normalise_date(x, cm.date_formats)))
        b.values[f.name] = d["value"]
        fmts = ", ".join(cm.date_formats) or "YYYY-MM-DD or DD/MM/YYYY"
        b.flag(d["bad"], col, f.name, "bad-date", col, fmts)
        return
    if f.type == "integer":
        def integer(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_integer(x, f.min, f.max)
            return {**_parts(n), "out": out}
        d = b.dictionary(raw, integer)
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "not-a-number", col, "a whole number")
        b.flag(d["out"], col, f.name, "impossible-age" if f.name == "age" else "out-of-range", col,
               f"{f.min} to {f.max}")
        return
    if f.type == "boolean":
        d = b.dictionary(raw, lambda x: _parts(normalise_boolean(x, cm.values)))
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "unknown-code", col, "yes/no (true/false)")
        return
    assert f.codelist is not None
    if f.codelist.name == "country":
        lookup = dict(country_lookup())
        lookup.update(code_lookup([], cm.values))
        d = b.dictionary(raw, lambda x: _parts(normalise_code(x, lookup)))
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "unknown-country", col, "a country")
        return
    lookup = code_lookup([(c.code, c.label) for c in f.codelist.entries], cm.values)
    expected = "one of " + ", ".join(f.codelist.codes[:12]) + (" …" if len(f.codelist.codes) > 12 else "")
    if f.type == "codes":
        d = b.dictionary(raw, lambda x: _parts(normalise_codes(x, lookup, list(f.codelist.codes), cm.separator or ";")))
    else:
        d = b.dictionary(raw, lambda x: _parts(normalise_code(x, lookup)))
    b.values[f.name] = d["value"]
    b.flag(d["bad"], col, f.name, "unknown-code", col, expected)


def _derive_codes(frame: pl.DataFrame, dataset: Dataset, source: str, target: str, attribute: str) -> pl.Expr:
    """Map each `;`-joined code list of `source` through its codes' `attribute` into `target`'s codes."""
    src, dst = dataset.field(source).codelist, dataset.field(target).codelist
    assert src is not None and dst is not None
    rank = {c: i for i, c in enumerate(dst.codes)}
    table: dict[str, str | None] = {}
    for value in frame[source].drop_nulls().unique().to_list():
        out: set[str] = set()
        for code in filter(None, value.split(";")):
            found = src.entry(code).extra.get(attribute) if code in src else None
            out.update([found] if isinstance(found, str) else (found or []))
        table[value] = ";".join(sorted((c for c in out if c in rank), key=rank.__getitem__))
    return pl.col(source).replace_strict(table, default=None, return_dtype=pl.String)


def _parts(n: Normalised) -> dict[str, pl.Expr]:
    return {"value": n.value, "bad": n.bad}


_FLAG_TRUE = ("1", "true", "yes", "1.0")
_FLAG_FALSE = ("0", "false", "no", "0.0")


def _flag_groups(b: _Builder, spec: MappingSpec, dataset: Dataset, frame: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Turn 0/1 flag columns into multi-valued fields (rule in `ctdc.ingest.mapping`); return how rows encoded them."""
    stats: dict[str, dict[str, int]] = {}
    for group in spec.flags:
        f = dataset.field(group.field)
        present = [(c, code) for src, code in group.columns.items() if (c := _resolve(frame, src))]
        if not present or f.codelist is None:
            continue
        rank = {code: i for i, code in enumerate(f.codelist.codes)}
        lowered = {c: pl.col(c).str.to_lowercase() for c, _ in present}
        for c, _ in present:
            bad = pl.col(c).is_not_null() & ~lowered[c].is_in([*_FLAG_TRUE, *_FLAG_FALSE])
            b.flag(bad, c, f.name, "unknown-code", c, "1, 0 or empty")
        ordered = sorted(((c, code) for c, code in present if code), key=lambda t: rank[t[1]])
        codes = pl.concat_str([pl.when(lowered[c].is_in(_FLAG_TRUE)).then(pl.lit(code)) for c, code in ordered],
                              separator=";", ignore_nulls=True) if ordered else pl.lit("")
        recorded = pl.any_horizontal([pl.col(c).is_not_null() for c, _ in present])
        any_zero = pl.any_horizontal([lowered[c].is_in(_FLAG_FALSE) for c, _ in present]).fill_null(False)
        text_col = _resolve(frame, group.text) if group.text else None
        text_codes = None
        if text_col:
            lookup = code_lookup([(e.code, e.label) for e in f.codelist.entries], group.text_values)
            parsed = normalise_codes(pl.col(text_col), lookup, list(f.codelist.codes), ";")
            text_codes = parsed.value
            # Only a text that names values, compared with recorded flags: "Not specified" maps to nothing.
            disagree = recorded & pl.col(text_col).is_not_null() & (parsed.value.fill_null("") != codes.fill_null(""))
            b.flag(disagree, text_col, f.name, "flags-text-disagree", text_col,
                   "flags: " + ", ".join(c.removeprefix(_SRC) for c, _ in present[:3]) + " …", severity="warning")
        # A "not specified" flag with no other flag set says "unknown", not "none".
        unspecified = [lowered[c].is_in(_FLAG_TRUE) for c, code in present if code is None]
        unknown_only = pl.any_horizontal(unspecified).fill_null(False) & (codes.fill_null("") == "") \
            if unspecified else pl.lit(False)
        flag_value = pl.when(recorded & ~unknown_only).then(codes)
        existing = b.values.get(f.name)
        fallback = [e for e in (text_codes, existing) if e is not None]
        b.values[f.name] = pl.coalesce([flag_value, *fallback]) if fallback else flag_value
        counts = b.frame.select(
            zero_one=(recorded & any_zero).sum(), one_empty=(recorded & ~any_zero).sum(), not_recorded=(~recorded).sum(),
        ).row(0, named=True)
        stats[f.name] = {"rule": "any flag set -> recorded, empty = no; all empty -> not recorded", **counts}
    return stats


def ingest_file(path: Path, spec: MappingSpec, *, identity_key: bytes, organisation: str = "",
                defaults: dict[str, object] | None = None) -> IngestResult:
    """Run the whole intake pipeline on one file. Raises `IngestError` only when the file cannot be read.

    `defaults` fills fields the file does not map (e.g. `data_source` from the organisation's kind); the
    mapping's own `constants` win over them. Record ids leave this function only as `record_id_hash` keyed
    with `identity_key` and bound to `organisation` (the repository passes a stable name of the organisation).
    """
    dataset = load_standard().dataset(spec.dataset)
    wanted = _wanted(spec)

    def select(header: list[str]) -> list[str]:
        found = {c for w in wanted if (c := _resolve(header, w, prefix=""))}
        return [c for c in header if c in found]

    read = read_table(Path(path), spec.reader, select)
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
    for group in spec.flags:
        for src in (*group.columns, *([group.text] if group.text else [])):
            if actual := _resolve(frame, src):
                used.add(actual)
                column_field[actual] = group.field
    rid_col = next((c for c in (_resolve(frame, r) for r in spec.record_id) if c), None)
    if rid_col:
        used.add(rid_col)
    ignored = [c for c in (read.header or []) if _SRC + c not in used]
    rid_name = rid_col.removeprefix(_SRC) if rid_col else None
    if not by_field:
        raise IngestError(
            f"{Path(path).name}: none of the mapping's columns are in the file. "
            f"File columns: {', '.join(read.frame.columns[:15])}. Choose another preset or edit the mapping.",
            {"file": Path(path).name, "columns": read.frame.columns[:50], "mapping": spec.name,
             "reason": "no-mapped-columns"},
        )
    if "registration_year" not in by_field and "registration_date" not in by_field:
        raise IngestError(
            f"{Path(path).name}: no column is mapped to the registration year or date, which every record needs "
            "(problem code missing-required-column).",
            {"file": Path(path).name, "code": "missing-required-column", "field": "registration_year",
             "reason": "missing-required-column"},
        )

    # Empty cells of every mapped column, in file order: a blank is a missing value, and the report says how many.
    blank_counts = frame.select(pl.col(c).null_count() for c in frame.columns if c in used).row(0, named=True) \
        if used else {}
    blanks = {c.removeprefix(_SRC): n for c, n in blank_counts.items()}
    frame = frame.with_columns(read.row_numbers())
    frame = frame.with_columns(
        # A row without a record id (an empty cell, or no record-id column) is known by its row number.
        pl.coalesce([*([pl.col(rid_col)] if rid_col else []),
                     pl.concat_str([pl.lit("row-"), pl.col("row").cast(pl.String)])]).alias("__record_id")
    )
    b = _Builder(frame)
    for f in dataset.fields:
        if f.name in by_field:
            _field_value(b, f, *by_field[f.name])
    flag_stats = _flag_groups(b, spec, dataset, frame)
    typed = b.frame.with_columns(**{name: expr for name, expr in b.values.items()})

    # Derived fields, each only when the file does not give it directly.
    derived: dict[str, pl.Expr] = {}
    if "registration_year" not in by_field:
        derived["registration_year"] = pl.col("registration_date").dt.year().cast(pl.Int64)
    if "birth_date" in by_field and "registration_date" in by_field:
        # Age at registration from the two dates; an age column, when mapped too, fills rows without dates.
        reg, born = pl.col("registration_date"), pl.col("birth_date")
        before_birthday = (reg.dt.month() < born.dt.month()) | (
            (reg.dt.month() == born.dt.month()) & (reg.dt.day() < born.dt.day()))
        computed = (reg.dt.year() - born.dt.year() - before_birthday.cast(pl.Int64)).cast(pl.Int64)
        derived["age"] = pl.coalesce(computed, pl.col("age")) if "age" in by_field else computed
    typed = typed.with_columns(**derived)
    if "age" in derived:
        age_field = dataset.field("age")
        col = by_field.get("birth_date", by_field.get("age"))[0][0]
        impossible = (pl.col("age") < age_field.min) | (pl.col("age") > age_field.max)
        b.frame = typed
        b.flag(impossible, col, "age", "impossible-age", col, f"{age_field.min} to {age_field.max} years")
        typed = b.frame.with_columns(pl.when(impossible.fill_null(False)).then(None).otherwise(pl.col("age")).alias("age"))
    more: dict[str, pl.Expr] = {}
    if "age_at_exploitation" in typed.columns and "majority_status_at_exploitation" not in by_field:
        at = pl.col("age_at_exploitation")
        more["majority_status_at_exploitation"] = pl.when(at < 18).then(pl.lit("minor")).when(at >= 18).then(pl.lit("adult"))
    for target, (source, attribute) in DERIVED_CODES.items():
        if source in typed.columns and target not in typed.columns and target in dataset.field_names:
            more[target] = _derive_codes(typed, dataset, source, target, attribute)
    if "age" in typed.columns and "age_band" not in by_field:
        more["age_band"] = age_band(pl.col("age"))
    if "age" in typed.columns and "majority_status" not in by_field:
        more["majority_status"] = pl.when(pl.col("age") < 18).then(pl.lit("minor")).when(pl.col("age") >= 18).then(pl.lit("adult"))
    typed = typed.with_columns(**more)
    constants = {**(defaults or {}), **spec.constants}
    typed = typed.with_columns(
        **{k: pl.lit(v) for k, v in constants.items() if k not in by_field and k in dataset.field_names})
    if "age_band" in by_field and "majority_status" in by_field:
        minor_band = pl.col("age_band").is_in(["0-8", "9-17"])
        clash = (minor_band != (pl.col("majority_status") == "minor")) & pl.col("age_band").is_not_null() \
            & pl.col("majority_status").is_not_null()
        b.frame = typed
        col = by_field["majority_status"][0][0]
        b.flag(clash, col, "majority_status", "inconsistent-majority", col, "0-8 and 9-17 are minors")
        typed = b.frame
    reg_field = dataset.field("registration_year")
    year_col = (by_field.get("registration_year") or by_field["registration_date"])[0][0]
    b.frame = typed
    # What is required is the standard's decision (`required: true`), per dataset: a blank in any other field is
    # a missing value (a k-anonymized file suppresses years, ages, genders) and the record goes in. A required
    # field is missing only when no other problem already explains the blank (a bad date, say).
    for f in dataset.fields:
        sources = by_field.get(f.name) or by_field.get(_DERIVED_FROM.get(f.name, ""))
        if not f.required or sources is None or f.name not in typed.columns:
            continue
        explained = [pl.col(n) for n, _c, fld, *_rest in b.flags if fld in (f.name, _DERIVED_FROM.get(f.name))]
        b.flag(pl.col(f.name).is_null() & ~pl.any_horizontal(explained or [pl.lit(False)]),
               sources[0][0], f.name, "missing-required", sources[0][0], "")
    out_of_range = (pl.col("registration_year") < reg_field.min) | (pl.col("registration_year") > reg_field.max)
    b.flag(out_of_range, year_col, "registration_year", "out-of-range", year_col, f"{reg_field.min} to {reg_field.max}")
    typed = b.frame

    # Problems: one row per flagged cell. Values of direct identifiers are never copied.
    separators = {c: m.separator or ";" for fld, (cols, maps) in by_field.items()
                  for c, m in zip(cols, maps, strict=True) if dataset.field(fld).type == "codes"}
    parts = []
    for name, column, fld, code, raw, expected, severity in b.flags:
        f = dataset.field(fld)
        hit = typed.filter(pl.col(name))
        if not hit.height:
            continue
        # The raw column may feed another field than the flagged one (a birth date flags `age`): what decides
        # whether the value may be echoed is the field that column is mapped to.
        raw_field = dataset.field(column_field[raw])
        shown = (pl.lit(None, dtype=pl.String) if f.is_direct_identifier or raw_field.is_direct_identifier
                 or raw_field.type == "string" else _echo(pl.col(raw), separators.get(raw)))
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
    typed = typed.with_columns(__first_row=pl.col("row").first().over("__record_id"))
    dups = typed.filter(pl.col("__dup"))
    if dups.height:
        # The record id itself is never echoed (it may be a case number printed on letters): the row that
        # first had it is named instead.
        problems = pl.concat([problems, dups.select(
            pl.col("row").cast(pl.Int64), pl.lit(rid_name or "(row number)").alias("column"),
            pl.lit("record_id").alias("field"), pl.lit("duplicate-record-id").alias("code"),
            pl.lit("warning").alias("severity"), pl.lit(None, dtype=pl.String).alias("value"),
            pl.format("This record id already appeared on row {} of the file; this row was not imported.",
                      pl.col("__first_row")).alias("message"),
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
        record_id_hash(accepted["__record_id"], identity_key, organisation).alias("record_id"), pl.col("row").alias("source_row"), "identity_hash",
        *[(pl.col(f.name) if f.name in accepted.columns else pl.lit(None)).alias(f.name) for f in stored],
    )
    quarantine = quarantined.select(
        pl.col("row"), record_id_hash(quarantined["__record_id"], identity_key, organisation).alias("record_id"),
    ).join(
        problems.filter(pl.col("severity") == "error").group_by("row").agg(pl.col("code").unique().sort().str.join(";").alias("codes")),
        on="row", how="left",
    ).sort("row")
    report = ValidationReport.from_problems(
        problems.sort("row", "column"), rows_read=rows_read, accepted=records.height,
        quarantined=quarantine.height, duplicates=dups.height,
    )
    assert rows_read == records.height + quarantine.height + dups.height, "intake invariant broken"
    report.stats["flag_encodings"] = flag_stats
    report.stats["blanks_by_column"] = blanks
    info = {"format": read.format, "encoding": read.encoding, "delimiter": read.delimiter, "sheet": read.sheet,
            "record_id_column": rid_name, "mapping": spec.name, "mapping_version": spec.version_hash}
    return IngestResult(records, quarantine, report, info, ignored)
