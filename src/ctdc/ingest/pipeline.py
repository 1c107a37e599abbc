"""The intake pipeline: contributor file + mapping spec -> harmonized records, quarantine and a report.

    read (readers) -> pick mapped columns -> normalise each field (normalize) -> derive age, age band,
    majority status, registration year -> keyed identity hash -> drop every direct identifier ->
    split rows into accepted / quarantined / duplicates -> ValidationReport

Invariant, for every file: rows_read == accepted + quarantined + duplicates.

A large CSV is read and checked in pieces (`read_table_chunks`): everything a row needs only itself for runs per
piece (`_rows_stage`), and only a narrow table of each piece's rows is kept for what needs the whole file
(duplicates, conflicts, the split; `_file_stage`). The result is the one the whole file gives.

Privacy: direct identifiers (see the standard's disclosure roles) are read only to derive age and the keyed
identity hash, and are dropped before the result leaves this module. Problem messages for those columns never
carry the value.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from ctdc.errors import IngestError
from ctdc.ingest import problems as P
from ctdc.ingest.countries import country_lookup, normalise_key
from ctdc.ingest.derive import age_band
from ctdc.ingest.identity import identity_hash, record_id_hash
from ctdc.ingest.limits import UploadLimits
from ctdc.ingest.mapping import ColumnMap, MappingSpec
from ctdc.ingest.normalize import (
    Normalised,
    code_lookup,
    normalise_boolean,
    normalise_code,
    normalise_codes,
    normalise_date,
    normalise_integer,
    normalise_number,
)
from ctdc.ingest.problems import problem, render
from ctdc.ingest.readers import read_table, read_table_chunks
from ctdc.ingest.report import PROBLEM_SCHEMA, ValidationReport
from ctdc.ingest.sources import SourceContext, load_source
from ctdc.standard import Dataset, Field, load_standard
from ctdc.standard.money import base_label, convertible_pairs

_MAX_ECHO = 60  # characters of a coded value echoed back in a report
# Coarser multi-valued fields derived from a finer one through an attribute of its codes (see the code lists):
# target field -> (source field, attribute). Only where the file does not give the target itself.
DERIVED_CODES = {"means_of_control_groups": ("means_of_control", "group"),
                 "labour_sectors_isic": ("labour_sectors", "isic"),
                 "role_groups": ("roles", "ctdc_group")}
# Which records of the repository a file's references may point at: (dataset, keyed hashes) -> those present.
KnownReferences = Callable[[str, list[str]], set[str]]


@dataclass(frozen=True)
class IngestResult:
    records: pl.DataFrame      # accepted rows: record_id (keyed hash), source_row, identity_hash, stored fields
    quarantine: pl.DataFrame   # row, record_id (keyed hash), codes: rows held back, with their reasons (no values)
    report: ValidationReport
    read_info: dict
    ignored_columns: list[str]
    # Records of the linked dataset types the same rows describe (a mapping's `linked`), by dataset: record_id,
    # source_row, stored fields, reference fields as keyed hashes. Empty for a one-dataset mapping.
    linked: dict[str, pl.DataFrame] = field(default_factory=dict)


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
    """Every source column name the spec can use, and those its source rules read (their `READS`)."""
    names = [*spec.columns, *spec.record_id, *spec.key]
    if spec.source:
        names += list(getattr(load_source(spec.source), "READS", ()))
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


class _Builder:
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
        self.flags.append((name, column.removeprefix(_SRC), field, code, raw, expected, severity))
        self._pending.append(bad.fill_null(False).alias(name))


def _raw(sources: list[str]) -> pl.Expr:
    # Several source columns for one field: text joins with a space, others take the first non-empty.
    return pl.coalesce([pl.col(s) for s in sources]) if len(sources) > 1 else pl.col(sources[0])


def _upper(f: Field) -> int | float | None:
    """The field's upper bound. A year (unit `year`) also ends at the current one: a case is not registered, nor a
    fee paid, in a year that has not come (the standard's bound, 2030, leaves room for the standard's lifetime)."""
    if f.unit == "year" and f.max is not None:
        return min(int(f.max), date.today().year)
    return f.max


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
        b.flag(d["bad"], col, f.name, "not-a-number", col, P.WHOLE_NUMBER)
        b.flag(d["out"], col, f.name, "impossible-age", col, "0 to 120")
        b.values[f.name] = d["value"]
        return
    if f.type == "date":
        d = b.dictionary(raw, lambda x: _parts(normalise_date(x, cm.date_formats)))
        b.values[f.name] = d["value"]
        fmts = ", ".join(cm.date_formats) or P.ANY_DATE
        b.flag(d["bad"], col, f.name, "bad-date", col, fmts)
        return
    if f.type == "integer" and (cm.thousands or cm.censored):
        _censored_integer(b, f, col, raw, cm)
        return
    if f.type == "integer":
        top = _upper(f)

        def integer(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_integer(x, f.min, top)
            return {**_parts(n), "out": out}
        d = b.dictionary(raw, integer)
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "not-a-number", col, P.WHOLE_NUMBER)
        b.flag(d["out"], col, f.name, "impossible-age" if f.name == "age" else "out-of-range", col,
               f"{f.min} to {top}")
        return
    if f.type == "number":
        def number(x: pl.Expr) -> dict[str, pl.Expr]:
            n, out = normalise_number(x, f.min, f.max)
            return {**_parts(n), "out": out}
        d = b.dictionary(raw, number)
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "not-a-number", col, P.DECIMAL_NUMBER)
        b.flag(d["out"], col, f.name, "out-of-range", col, f"{f.min} to {f.max if f.max is not None else 'any'}")
        return
    if f.type == "boolean":
        d = b.dictionary(raw, lambda x: _parts(normalise_boolean(x, cm.values)))
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "unknown-code", col, P.YES_NO)
        return
    assert f.codelist is not None
    if f.codelist.name == "country":
        lookup = dict(country_lookup())
        lookup.update(code_lookup([], cm.values))
        d = b.dictionary(raw, lambda x: _parts(normalise_code(x, lookup)))
        b.values[f.name] = d["value"]
        b.flag(d["bad"], col, f.name, "unknown-country", col, P.A_COUNTRY)
        return
    lookup = code_lookup([(c.code, c.label) for c in f.codelist.entries], cm.values)
    expected = "one of " + ", ".join(f.codelist.codes[:12]) + (" …" if len(f.codelist.codes) > 12 else "")
    if f.type == "codes":
        d = b.dictionary(raw, lambda x: _parts(normalise_codes(x, lookup, list(f.codelist.codes), cm.separator or ";")))
    else:
        d = b.dictionary(raw, lambda x: _parts(normalise_code(x, lookup)))
    b.values[f.name] = d["value"]
    b.flag(d["bad"], col, f.name, "unknown-code", col, expected)


def _censored_integer(b: _Builder, f: Field, col: str, raw: pl.Expr, cm: ColumnMap) -> None:
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
        n, out = normalise_integer(plain, f.min, _upper(f))
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
    b.flag(d["out"], col, f.name, "out-of-range", col, f"{f.min} to {_upper(f)}")
    intervals = ", ".join(f"'{k}' = {lo} to {hi}" for k, (lo, hi) in markers.items())
    if markers:
        b.flag(d["marker"], col, f.name, "censored-value", col, intervals)
    if sep:
        b.flag(d["separator"], col, f.name, "thousands-separator", col, f"'{sep}' every three digits")


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


def _regions(countries: pl.Series) -> pl.Series:
    """Each country's region in the public CTDC grouping (`ctdc_region`), through its M49 region."""
    from ctdc.standard.hierarchies import generalize

    table = {c: generalize(c, "country", "ctdc_region") for c in countries.drop_nulls().unique().to_list()
             if c in load_standard().codelist("country")}
    return countries.replace_strict(table, default=None, return_dtype=pl.String).alias("citizenship_region")


def _parts(n: Normalised) -> dict[str, pl.Expr]:
    return {"value": n.value, "bad": n.bad}


_FLAG_TRUE = ("1", "true", "yes", "1.0")
_FLAG_FALSE = ("0", "false", "no", "0.0")


def _flag_groups(b: _Builder, spec: MappingSpec, dataset: Dataset, frame: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Turn 0/1 flag columns into multi-valued fields (rule in `ctdc.ingest.mapping`); return how rows encoded them.

    Every group is a few expressions over all its columns at once; the `*Concatenated` text is normalised once
    per distinct value (`_Builder.dictionary`), and the encoding counts of every group come from one `select`.
    """
    counted: dict[str, tuple[pl.Expr, pl.Expr]] = {}
    groups = [(group, [(c, code) for src, code in group.columns.items() if (c := _resolve(frame, src))])
              for group in spec.flags]
    # The distinct spellings in every flag column, in one pass: a flag column holds a handful ("0", "1", "TRUE"),
    # so which spellings are true, false or bad is decided here, and each row is only compared with them.
    flag_cols = list(dict.fromkeys(c for _g, present in groups for c, _code in present))
    spellings = dict(zip(flag_cols, frame.select(pl.col(c).drop_nulls().unique().implode() for c in flag_cols).row(0),
                         strict=True)) if flag_cols else {}

    def among(c: str, words: tuple[str, ...]) -> pl.Expr:
        found = [v for v in spellings[c] if v.lower() in words]
        return pl.col(c) == found[0] if len(found) == 1 else pl.col(c).is_in(found)

    for group, present in groups:
        f = dataset.field(group.field)
        if not present or f.codelist is None:
            continue
        rank = {code: i for i, code in enumerate(f.codelist.codes)}
        for c, _ in present:
            bad_spellings = [v for v in spellings[c] if v.lower() not in (*_FLAG_TRUE, *_FLAG_FALSE)]
            if bad_spellings:
                b.flag(pl.col(c).is_in(bad_spellings), c, f.name, "unknown-code", c, P.FLAG_VALUES)
        ordered = sorted(((c, code) for c, code in present if code), key=lambda t: rank[t[1]])
        codes = pl.concat_str([pl.when(among(c, _FLAG_TRUE)).then(pl.lit(code)) for c, code in ordered],
                              separator=";", ignore_nulls=True) if ordered else pl.lit("")
        recorded = pl.any_horizontal([pl.col(c).is_not_null() for c, _ in present])
        any_zero = pl.any_horizontal([among(c, _FLAG_FALSE) for c, _ in present]).fill_null(False)
        text_col = _resolve(frame, group.text) if group.text else None
        text_codes = None
        if text_col:
            lookup = code_lookup([(e.code, e.label) for e in f.codelist.entries], group.text_values)
            codelist = list(f.codelist.codes)
            text_codes = b.dictionary(pl.col(text_col),
                                      lambda x, lookup=lookup, codelist=codelist:
                                      {"value": normalise_codes(x, lookup, codelist, ";").value})["value"]
            # Only a text that names values, compared with recorded flags: "Not specified" maps to nothing.
            disagree = recorded & pl.col(text_col).is_not_null() & (text_codes.fill_null("") != codes.fill_null(""))
            b.flag(disagree, text_col, f.name, "flags-text-disagree", text_col,
                   "flags: " + ", ".join(c.removeprefix(_SRC) for c, _ in present[:3]) + " …")
        # A "not specified" flag with no other flag set says "unknown", not "none".
        unspecified = [among(c, _FLAG_TRUE) for c, code in present if code is None]
        unknown_only = pl.any_horizontal(unspecified).fill_null(False) & (codes.fill_null("") == "") \
            if unspecified else pl.lit(False)
        flag_value = pl.when(recorded & ~unknown_only).then(codes)
        existing = b.values.get(f.name)
        fallback = [e for e in (text_codes, existing) if e is not None]
        b.values[f.name] = pl.coalesce([flag_value, *fallback]) if fallback else flag_value
        counted[f.name] = (recorded, any_zero)
    if not counted:
        return {}
    counts = b.frame.select(pl.struct(
        zero_one=(recorded & any_zero).sum(), one_empty=(recorded & ~any_zero).sum(),
        not_recorded=(~recorded).sum()).alias(name) for name, (recorded, any_zero) in counted.items()).row(0)
    rule = "any flag set -> recorded, empty = no; all empty -> not recorded"
    return {name: {"rule": rule, **c} for name, c in zip(counted, counts, strict=True)}


def ingest_file(path: Path, spec: MappingSpec, *, identity_key: bytes, organisation: str = "",
                defaults: dict[str, object] | None = None, limits: UploadLimits | None = None,
                known: KnownReferences | None = None) -> IngestResult:
    """Run the whole intake pipeline on one file. Raises `IngestError` only when the file cannot be read.

    `defaults` fills fields the file does not map (e.g. `data_source` from the organisation's kind); the
    mapping's own `constants` win over them. Record ids leave this function only as `record_id_hash` keyed
    with `identity_key` and bound to `organisation` (the repository passes a stable name of the organisation).
    A file over `limits` (bytes, rows, what a spreadsheet's zip parts unpack to) raises `UploadTooLarge` before it is read.
    Reference fields (a link's case id) leave it as keyed hashes too; with `known`, a reference to a record
    neither in the repository (`known(dataset, hashes)` answers which are) nor in this file is an error.
    A mapping with `linked` dataset types reads the same rows once per type and merges the results
    (`_merge_linked`): a row is accepted only when all its parts are.
    """
    main = _ingest_one(path, spec, identity_key=identity_key, organisation=organisation, defaults=defaults,
                       limits=limits, known=known, in_file={})
    if not spec.linked:
        return main
    in_file = {spec.dataset: set(main.records["record_id"].to_list())}
    parts = []
    for linked in spec.linked:
        part = _ingest_one(path, linked, identity_key=identity_key, organisation=organisation, defaults=None,
                           limits=limits, known=known, in_file=in_file)
        in_file[linked.dataset] = set(part.records["record_id"].to_list())
        parts.append((linked, part))
    return _merge_linked(main, parts)


def _merge_linked(main: IngestResult, parts: list[tuple[MappingSpec, IngestResult]]) -> IngestResult:
    """One result for a file read as several linked dataset types (the victim with all their links is one unit).

    A row quarantined by any part is quarantined as a whole (its codes merged); the other rows are accepted as
    the main part accepted them, duplicates as it found them. A linked record with no mapped value (a victim
    with no perpetrator recorded) is not made, nor a record referring to one not made; the report counts them.
    """
    std = load_standard()
    held = pl.concat([main.quarantine.select("row", "codes"),
                      *[p.quarantine.select("row", "codes") for _s, p in parts]])
    bad_rows = held.group_by("row").agg(pl.col("codes").str.split(";").explode().unique().sort().str.join(";"))
    records = main.records.filter(~pl.col("source_row").is_in(bad_rows["row"].implode()))
    newly = bad_rows.join(main.quarantine.select("row"), on="row", how="anti")
    # A row quarantined only by a linked part: its record id hash is the main part's (the same row's id).
    moved = main.records.filter(pl.col("source_row").is_in(newly["row"].implode())).select(
        pl.col("source_row").alias("row"), "record_id")
    quarantine = pl.concat([main.quarantine.select("row", "record_id"), moved]).join(
        bad_rows, on="row", how="left").sort("row")
    problems = pl.concat([main.report.problems, *[p.report.problems for _s, p in parts]]).unique(
        maintain_order=True).sort("row", "column")
    linked: dict[str, pl.DataFrame] = {}
    kept_ids = {s.dataset: set() for s, _p in parts}
    skipped: dict[str, int] = {}
    for s, part in parts:
        ds = std.dataset(s.dataset)
        frame = part.records.filter(pl.col("source_row").is_in(records["source_row"].implode()))
        mapped = {cm.field for cm in s.columns.values()} | {g.field for g in s.flags}
        mapped -= set(s.same_row)
        before = frame.height
        if mapped and not s.same_row:  # a link record stands or falls with the records it joins, below
            frame = frame.filter(pl.any_horizontal([pl.col(f).is_not_null() for f in sorted(mapped)]))
        for f in ds.fields:
            target = f.references.split(".", 1)[0] if f.references else None
            if target in kept_ids and f.name in frame.columns:
                frame = frame.filter(pl.col(f.name).is_in(sorted(kept_ids[target])))
        kept_ids[s.dataset] = set(frame["record_id"].to_list())
        skipped[s.dataset] = before - frame.height
        linked[s.dataset] = frame
    stats_in = main.report.stats
    report = ValidationReport.from_problems(problems, rows_read=stats_in["rows_read"], accepted=records.height,
                                            quarantined=quarantine.height, duplicates=stats_in["duplicates"])
    assert report.stats["rows_read"] == records.height + quarantine.height + stats_in["duplicates"], \
        "intake invariant broken"
    flag_stats = dict(stats_in.get("flag_encodings", {}))
    blanks = dict(stats_in.get("blanks_by_column", {}))
    notes = list(stats_in.get("notes", []))
    for _s, part in parts:
        flag_stats.update(part.report.stats.get("flag_encodings", {}))
        blanks.update(part.report.stats.get("blanks_by_column", {}))
        notes += [n for n in part.report.stats.get("notes", []) if n not in notes]
    for name, n in skipped.items():
        if n:
            label = std.dataset(name).label.lower()
            notes.append({"code": "no-linked-record",
                          "message": f"{n} accepted row(s) record no {label}: no {label} record was made for them "
                                     "(nothing to keep), the rest of the row was."})
    report.stats.update(flag_encodings=flag_stats, blanks_by_column=blanks,
                        linked_records={name: frame.height for name, frame in linked.items()})
    if notes:
        report.stats["notes"] = notes
    ignored = [c for c in main.ignored_columns if all(c in p.ignored_columns for _s, p in parts)]
    return IngestResult(records, quarantine, report, main.read_info, ignored, linked)


def _ingest_one(path: Path, spec: MappingSpec, *, identity_key: bytes, organisation: str,
                defaults: dict[str, object] | None, limits: UploadLimits | None, known: KnownReferences | None,
                in_file: dict[str, set[str]]) -> IngestResult:
    """The pipeline for one dataset type of the file (see `ingest_file`)."""
    dataset = load_standard().dataset(spec.dataset)
    wanted = _wanted(spec)

    def select(header: list[str]) -> list[str]:
        found = {c for w in wanted if (c := _resolve(header, w, prefix=""))}
        return [c for c in header if c in found]

    # A source's own rules may compare rows anywhere in the file (exact copies): such a file is read whole. Any
    # other is processed piece by piece (a large CSV; `read_table_chunks`), each piece as far as it can go alone,
    # and only a narrow table of its rows is kept (issue 14: memory stays flat as files grow). What needs the
    # whole file (duplicates, conflicts, the split) runs once on those, in `_file_stage`.
    reads = [read_table(Path(path), spec.reader, select, limits=limits)] if spec.source \
        else read_table_chunks(Path(path), spec.reader, select, limits=limits)
    pieces = [_rows_stage(read, path, spec, dataset, identity_key=identity_key, organisation=organisation,
                          defaults=defaults, known=known, in_file=in_file) for read in reads]
    return _file_stage(pieces, spec, dataset, identity_key=identity_key, organisation=organisation)


@dataclass
class _Piece:
    """What `_rows_stage` keeps of one piece of the file: its rows (row number, record id, key content, the
    fields stored or needed for the identity hash), their problems and counts, and what the header said."""
    typed: pl.DataFrame
    problems: pl.DataFrame
    rows_read: int
    blanks: dict[str, int]
    flag_stats: dict[str, dict]
    notes: list[dict[str, str]]
    read: object
    rid_col: str | None
    rid_name: str | None
    key_cols: list[str]
    ignored: list[str]


def _rows_stage(read, path: Path, spec: MappingSpec, dataset: Dataset, *, identity_key: bytes, organisation: str,
                defaults: dict[str, object] | None, known: KnownReferences | None,
                in_file: dict[str, set[str]]) -> _Piece:
    """Everything a row needs only itself (and the repository) for: mapping, typing, derived fields, checks,
    references and the problems they find, for one piece of the file (`read`)."""
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
    key_cols = [c for c in (_resolve(frame, k) for k in spec.key) if c]
    used.update(key_cols)
    if not by_field:
        raise IngestError(
            f"{Path(path).name}: none of the mapping's columns are in the file. "
            f"File columns: {', '.join(read.frame.columns[:15])}. Choose another preset or edit the mapping.",
            {"file": Path(path).name, "columns": read.frame.columns[:50], "mapping": spec.name,
             "reason": "no-mapped-columns"},
        )
    if dataset.name == "victims" and "registration_year" not in by_field and "registration_date" not in by_field:
        raise IngestError(
            f"{Path(path).name}: " + render("missing-required-column", expected="the registration year or date",
                                            label="record") + " (problem code missing-required-column).",
            {"file": Path(path).name, "code": "missing-required-column", "field": "registration_year",
             "reason": "missing-required-column"},
        )

    # A key field (a perpetrator's id) is ctdc's own random key, set at approval: the file's id is the record id.
    missing = [f.name for f in dataset.fields if f.required and not f.key and dataset.name != "victims"
               and f.name not in spec.same_row
               and f.name not in by_field and f.name not in spec.constants]
    if missing:
        raise IngestError(
            f"{Path(path).name}: " + render("missing-required-column", expected=", ".join(missing),
                                            label=f"{dataset.name} record") + " (problem code missing-required-column).",
            {"file": Path(path).name, "code": "missing-required-column", "field": missing[0],
             "reason": "missing-required-column"})

    # Empty cells of every mapped column, in file order: a blank is a missing value, and the report says how many.
    blank_counts = frame.select(pl.col(c).null_count() for c in frame.columns if c in used).row(0, named=True) \
        if used else {}
    blanks = {c.removeprefix(_SRC): n for c, n in blank_counts.items()}
    frame = frame.with_columns(read.row_numbers())
    frame = frame.with_columns(
        # A row without a record id (an empty cell, or no record-id column) is known by its row number.
        pl.coalesce([*([pl.col(rid_col)] if rid_col else []),
                     *([pl.concat_str([pl.col(c).fill_null("") for c in key_cols], separator="\x1f")]
                       if key_cols else []),
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
    if "event_year" not in by_field and "event_date" in typed.columns:
        # A journey event's exact date is a direct identifier: only its year and month are kept.
        derived["event_year"] = pl.col("event_date").dt.year().cast(pl.Int64)
        if "event_month" not in by_field:
            derived["event_month"] = pl.col("event_date").dt.month().cast(pl.Int64)
    if "registration_year" not in by_field and "registration_date" in typed.columns:
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
    if "age" in typed.columns and "age_band" not in by_field and "age_band" in dataset.field_names:
        # The dataset's own bands: a perpetrator's are not a victim's (perpetrator_age_band).
        more["age_band"] = age_band(pl.col("age"), codelist=dataset.field("age_band").codelist.name)
    if "age" in typed.columns and "majority_status" not in by_field:
        more["majority_status"] = pl.when(pl.col("age") < 18).then(pl.lit("minor")).when(pl.col("age") >= 18).then(pl.lit("adult"))
    typed = typed.with_columns(**more)
    constants = {**(defaults or {}), **spec.constants}
    typed = typed.with_columns(
        **{k: pl.lit(v) for k, v in constants.items() if k not in by_field and k in dataset.field_names})
    if "citizenship" in typed.columns and "citizenship_region" in dataset.field_names \
            and "citizenship_region" not in by_field:
        typed = typed.with_columns(_regions(typed["citizenship"]))
    # Reference fields filled with this row's own record id: the records the same row makes in another dataset.
    typed = typed.with_columns(pl.col("__record_id").alias(f) for f in spec.same_row)
    if "age_band" in by_field and "majority_status" in by_field:
        minor_band = pl.col("age_band").is_in(["0-8", "9-17"])
        clash = (minor_band != (pl.col("majority_status") == "minor")) & pl.col("age_band").is_not_null() \
            & pl.col("majority_status").is_not_null()
        b.frame = typed
        col = by_field["majority_status"][0][0]
        b.flag(clash, col, "majority_status", "inconsistent-majority", col, "0-8 and 9-17 are minors")
        typed = b.frame
    b.frame = typed
    notes: list[dict[str, str]] = []
    if spec.source:
        ctx = SourceContext(builder=b, column=lambda name: _resolve(b.frame, name), path=Path(path),
                            preamble=read.preamble, first_data_row=read.first_data_row)
        load_source(spec.source).apply(ctx)
        notes = ctx.notes
        b.frame = b.frame.with_columns(**{k: pl.lit(v) for k, v in ctx.constants.items()
                                          if k in dataset.field_names and k not in by_field})
    typed = b.frame
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
    if dataset.name == "victims":
        reg_field = dataset.field("registration_year")
        year_col = (by_field.get("registration_year") or by_field["registration_date"])[0][0]
        out_of_range = (pl.col("registration_year") < reg_field.min) | (pl.col("registration_year") > reg_field.max)
        b.flag(out_of_range, year_col, "registration_year", "out-of-range", year_col,
               f"{reg_field.min} to {reg_field.max}")
    typed = b.frame
    if dataset.name == "recruitment_fees" and {"amount", "currency"} <= set(typed.columns):
        # A fee becomes base-year US dollars at release (ctdc.standard.money); one whose currency and year the
        # shipped rates and deflator do not cover is kept as given and reported here, never converted by guess.
        year = pl.col("fee_year").cast(pl.String) if "fee_year" in typed.columns else pl.lit(None, pl.String)
        pair = pl.concat_str([pl.col("currency"), year], separator=" ")
        col = by_field["currency"][0][0]
        b.flag(pl.col("amount").is_not_null() & pl.col("currency").is_not_null()
               & (pair.is_null() | ~pair.is_in(sorted(convertible_pairs()))),
               col, "currency", "unconvertible-amount", col, base_label())
        typed = b.frame
    # References leave only as keyed hashes (a case id can be printed on letters), and point at a record that
    # exists: in the repository or in this file.
    refs = [f for f in dataset.fields if f.references and f.name in typed.columns]
    for f in refs:
        typed = typed.with_columns(record_id_hash(typed[f.name], identity_key, organisation).alias(f.name))
        target = f.references.split(".", 1)[0]
        if known is None or f.name in spec.same_row:
            continue
        wanted = sorted(set(typed[f.name].drop_nulls().to_list()) - in_file.get(target, set()))
        present = known(target, wanted) if wanted else set()
        missing_refs = sorted(set(wanted) - present)
        col = by_field[f.name][0][0] if f.name in by_field else f.name
        b.frame = typed
        b.flag(pl.col(f.name).is_in(missing_refs), col, f.name, "unknown-reference", col, target)
        typed = b.frame

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
                 else _echo(pl.col(raw), separators.get(raw)))
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
    problems = pl.concat(parts) if parts else pl.DataFrame(schema=PROBLEM_SCHEMA)


    # Only what the file stage needs travels on: the raw cells and the flags stay here.
    if key_cols and not rid_col:
        typed = typed.with_columns(
            __content=pl.concat_str([pl.col(c).fill_null("\x00") for c in sorted(used)], separator="\x1f"))
    keep = ["row", "__record_id", *(["__content"] if key_cols and not rid_col else []),
            *dict.fromkeys(c for c in [*(f.name for f in dataset.stored_fields), "full_name", "birth_date",
                                       "citizenship"] if c in typed.columns)]
    # Coded fields are kept as categories (4 bytes a cell instead of a 16-byte string view) until the records
    # are built: on a million rows of the public layout, the kept table is a quarter of its size.
    coded = [c for c in keep if c in dataset.field_names and typed.schema[c] == pl.String
             and dataset.field(c).type != "string"]
    typed = typed.select(keep).with_columns(pl.col(coded).cast(pl.Categorical))
    return _Piece(typed, problems, rows_read, blanks, flag_stats, notes,
                  dataclasses.replace(read, frame=read.frame.clear()), rid_col, rid_name,
                  key_cols, ignored)


def _message_columns(code: str, **parts: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
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


def _file_stage(pieces: list[_Piece], spec: MappingSpec, dataset: Dataset, *, identity_key: bytes,
                organisation: str) -> IngestResult:
    """What needs every row of the file: duplicates and conflicts, the accepted / quarantined split, the keyed
    hashes of accepted rows, the report."""
    first = pieces[0]
    read, rid_col, rid_name, key_cols, ignored = first.read, first.rid_col, first.rid_name, first.key_cols, \
        first.ignored
    typed = pl.concat([p.typed for p in pieces], how="vertical_relaxed") if len(pieces) > 1 else first.typed
    problems = pl.concat([p.problems for p in pieces], how="vertical_relaxed") if len(pieces) > 1 \
        else first.problems
    rows_read = sum(p.rows_read for p in pieces)
    blanks = {c: sum(p.blanks.get(c, 0) for p in pieces) for c in first.blanks}
    flag_stats = {name: {k: v if k == "rule" else sum(p.flag_stats[name][k] for p in pieces)
                         for k, v in stats.items()} for name, stats in first.flag_stats.items()}
    notes = [n for i, p in enumerate(pieces) for n in p.notes if n not in [m for q in pieces[:i] for m in q.notes]]
    del pieces

    # Duplicates: a record id seen on an earlier row of the same file. Where a natural key stands for the record id,
    # only an exact copy of an earlier row is a duplicate; the same key with other values is a conflict (below).
    if key_cols and not rid_col:
        dup = typed.select(pl.struct("__record_id", "__content").is_duplicated()
                           & ~pl.struct("__record_id", "__content").is_first_distinct()).to_series()
        conflict = typed.select(pl.col("__content").n_unique().over("__record_id") > 1).to_series()
    else:
        dup = typed.select(pl.col("__record_id").is_duplicated() & ~pl.col("__record_id").is_first_distinct()).to_series()
        conflict = None
    typed = typed.with_columns(__dup=dup)
    same = ["__record_id", "__content"] if conflict is not None else ["__record_id"]
    typed = typed.with_columns(__first_row=pl.col("row").first().over(same))
    dups = typed.filter(pl.col("__dup"))
    if conflict is not None and conflict.any():
        # Every row of a key seen with different values is held back: which value is right is the steward's call,
        # and neither is summed nor dropped. The message names the key's other rows.
        typed = typed.with_columns(__conflict=conflict)
        others = typed.filter(pl.col("__conflict") & ~pl.col("__dup")).group_by("__record_id").agg(
            pl.col("row").sort().alias("__rows"))
        hit = typed.filter(pl.col("__conflict") & ~pl.col("__dup")).join(others, on="__record_id", how="left")
        problems = pl.concat([problems, hit.select(
            pl.col("row").cast(pl.Int64), pl.lit(key_cols[0].removeprefix(_SRC)).alias("column"),
            pl.lit("record_id").alias("field"),
            pl.lit("conflicting-values").alias("code"),
            pl.lit(problem("conflicting-values").severity).alias("severity"),
            pl.lit(None, dtype=pl.String).alias("value"),
            *_message_columns("conflicting-values", rows=pl.col("__rows").cast(pl.List(pl.String)).list.join(", "),
                              key=pl.lit(", ".join(c.removeprefix(_SRC) for c in key_cols))),
        )])
    if dups.height and key_cols and not rid_col:
        problems = pl.concat([problems, dups.select(
            pl.col("row").cast(pl.Int64), pl.lit(key_cols[0].removeprefix(_SRC)).alias("column"),
            pl.lit("record_id").alias("field"), pl.lit("duplicate-row").alias("code"),
            pl.lit(problem("duplicate-row").severity).alias("severity"), pl.lit(None, dtype=pl.String).alias("value"),
            *_message_columns("duplicate-row", expected=pl.col("__first_row").cast(pl.String)),
        )])
    elif dups.height:
        # The record id itself is never echoed (it may be a case number printed on letters): the row that
        # first had it is named instead.
        problems = pl.concat([problems, dups.select(
            pl.col("row").cast(pl.Int64), pl.lit(rid_name or "(row number)").alias("column"),
            pl.lit("record_id").alias("field"), pl.lit("duplicate-record-id").alias("code"),
            pl.lit(problem("duplicate-record-id").severity).alias("severity"), pl.lit(None, dtype=pl.String).alias("value"),
            *_message_columns("duplicate-record-id", expected=pl.col("__first_row").cast(pl.String)),
        )])
    error_rows = problems.filter(pl.col("severity") == "error").select("row").unique()
    typed = typed.with_columns(__error=pl.col("row").is_in(error_rows["row"].implode()))

    held = pl.col("__dup") | pl.col("__error")
    # A clean file keeps every row: no filtered copy of the whole table then (memory, issue 14).
    accepted = typed.filter(~held) if typed.select(held.any()).item() else typed
    quarantined = typed.filter(~pl.col("__dup") & pl.col("__error"))
    del typed
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
    records = records.with_columns(pl.col(pl.Categorical).cast(pl.String))
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
    if notes:
        report.stats["notes"] = notes
    info = {"format": read.format, "encoding": read.encoding, "delimiter": read.delimiter, "sheet": read.sheet,
            "record_id_column": rid_name, "mapping": spec.name, "mapping_version": spec.version_hash}
    return IngestResult(records, quarantine, report, info, ignored)
