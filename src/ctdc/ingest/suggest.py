"""Suggest a mapping spec for a file nobody has mapped yet, for a person to confirm.

Columns are matched to fields by name first (the field's machine name, its labels in English, French and Spanish,
its source columns in HTCDS 2.0 and the public CTDC layouts, and the aliases below), exactly or fuzzily, then, for
columns still unmatched, by their values (mostly countries, mostly dates, mostly one code list). Values of coded
columns are matched to codes the same way. Every suggestion carries its reason and score, written as a YAML
comment, so a data steward sees what to check.

>>> from pathlib import Path
>>> text = suggest_mapping(Path(__file__).parents[3] / "tests/data/problems.csv").yaml
>>> "gender" in text and "citizenship" in text
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml
from rapidfuzz import fuzz, process

from ctdc.ingest.countries import country_lookup, normalise_key
from ctdc.ingest.mapping import ReaderOptions, parse_mapping
from ctdc.ingest.normalize import date_precision
from ctdc.ingest.readers import read_table
from ctdc.standard import Field, load_standard

SAMPLE_ROWS = 5000
NAME_THRESHOLD = 85
VALUE_THRESHOLD = 80
# Column names seen in case files, in English, French and Spanish, that neither labels nor crosswalks cover.
ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ("id", "case id", "case number", "n° dossier", "numéro de dossier", "no dossier", "número de caso",
                  "expediente", "record id", "file number"),
    "full_name": ("name", "nom", "nombre", "full name", "nom complet", "nombre completo", "first name", "last name",
                  "surname", "prénom", "apellido", "apellidos"),
    "birth_date": ("dob", "date of birth", "birth date", "born", "date de naissance", "fecha de nacimiento", "né le"),
    "phone": ("phone", "telephone", "téléphone", "tel", "mobile", "cell", "teléfono", "celular", "portable"),
    "email": ("email", "e-mail", "courriel", "correo", "correo electrónico", "mail"),
    "address": ("address", "adresse", "dirección", "street", "city", "ville", "ciudad"),
    "narrative": ("notes", "note", "narrative", "summary", "résumé", "description", "comments", "commentaires",
                  "observaciones", "story", "récit", "relato", "details"),
    "registration_date": ("date", "registration date", "date of registration", "date appel", "call date",
                          "date d'enregistrement", "fecha de registro", "fecha", "intake date", "registered"),
    "registration_year": ("year", "année", "año", "yearofregistration"),
    "gender": ("sex", "sexe", "sexo", "genre", "género"),
    "age": ("age", "âge", "edad", "age at registration"),
    "citizenship": ("nationality", "nationalité", "nacionalidad", "citizenship", "country of origin",
                    "pays d'origine", "país de origen", "origin"),
    "country_of_exploitation": ("country of exploitation", "pays d'exploitation", "país de explotación",
                                "destination", "exploited in", "country exploited"),
    "exploitation_types": ("type of exploitation", "exploitation", "type d'exploitation", "tipo de explotación",
                           "form of exploitation"),
    "labour_sectors": ("sector", "secteur", "sector laboral", "industry", "industrie"),
    "means_of_control": ("means of control", "control", "moyens de contrôle", "medios de control"),
    "recruiter_relations": ("recruiter", "relation to recruiter", "lien recruteur", "relación con el reclutador"),
    "is_abduction": ("abducted", "abduction", "enlèvement", "secuestro", "kidnapped"),
    "trafficking_duration": ("duration", "durée", "duración"),
}


@dataclass
class Suggestion:
    column: str
    field: str | None
    score: float
    reason: str
    values: dict[str, tuple[str | None, float]] = field(default_factory=dict)
    separator: str | None = None


@dataclass
class SuggestedMapping:
    yaml: str
    suggestions: list[Suggestion]
    record_id: str | None


def _names_for(f: Field) -> list[str]:
    names = [f.name, f.label, *f.labels.values(), *ALIASES.get(f.name, ())]
    for sources in f.sources.values():
        names.extend(sources)
    return [n for n in names if n]


def _by_name(column: str, candidates: dict[str, str]) -> tuple[str | None, float, str]:
    key = normalise_key(column)
    if key in candidates:
        return candidates[key], 100.0, "name matches exactly"
    match = process.extractOne(key, list(candidates), scorer=fuzz.ratio)
    if match and match[1] >= NAME_THRESHOLD:
        return candidates[match[0]], float(match[1]), f"name resembles '{match[0]}'"
    return None, 0.0, ""


def _by_values(sample: pl.Series, fields: list[Field], taken: set[str]) -> tuple[str | None, float, str]:
    values = sample.drop_nulls()
    if values.len() == 0:
        return None, 0.0, ""
    distinct = values.unique().to_list()
    countries = country_lookup()
    share_country = sum(normalise_key(v) in countries for v in distinct) / len(distinct)
    if share_country >= VALUE_THRESHOLD / 100:
        for target in ("citizenship", "country_of_exploitation"):
            if target not in taken:
                return target, 100 * share_country, "values are countries"
    dated = pl.DataFrame({"v": values}).select(date_precision(pl.col("v")).is_not_null().mean()).item()
    if dated and dated >= VALUE_THRESHOLD / 100:
        for target in ("registration_date", "birth_date"):
            if target not in taken:
                return target, 100 * dated, "values are dates"
    best: tuple[str | None, float, str] = (None, 0.0, "")
    for f in fields:
        if f.codelist is None or f.codelist.name == "country" or f.name in taken:
            continue
        lookup = {normalise_key(x) for e in f.codelist.entries for x in (e.code, e.label, *e.labels.values())}
        parts = {p.strip() for v in distinct for p in v.replace("|", ";").split(";") if p.strip()}
        share = sum(normalise_key(p) in lookup for p in parts) / max(len(parts), 1)
        if share * 100 >= VALUE_THRESHOLD and share * 100 > best[1]:
            best = (f.name, share * 100, f"values are {f.codelist.name} codes or labels")
    return best


def _separator(sample: pl.Series, f: Field) -> str | None:
    """The separator of a multi-valued column when it is not the default ';' (e.g. '|', or ' ' in Kobo).

    A space separates only when the pieces match the code list better than the whole values do: labels such as
    "Travail domestique" contain spaces too.
    """
    values = sample.drop_nulls()
    if values.len() == 0:
        return None
    for sep in ("|", ";", ","):
        if values.str.contains(sep, literal=True).mean() >= 0.05:
            return None if sep == ";" else sep
    if values.str.contains(" ", literal=True).mean() >= 0.05 and f.codelist is not None:
        known = {normalise_key(x) for e in f.codelist.entries for x in (e.code, e.label, *e.labels.values())}
        distinct = values.unique().to_list()
        whole = sum(normalise_key(v) in known for v in distinct) / len(distinct)
        pieces = [p for v in distinct for p in v.split()]
        split = sum(normalise_key(p) in known for p in pieces) / max(len(pieces), 1)
        if split > whole:
            return " "
    return None


def _value_matches(f: Field, sample: pl.Series) -> dict[str, tuple[str | None, float]]:
    """Distinct sample values of a coded column that are not codes or labels themselves, with a best guess."""
    if f.codelist is None or f.codelist.name == "country":
        return {}
    labels = {}
    for e in f.codelist.entries:
        for text in (e.code, e.label, *e.labels.values()):
            labels[normalise_key(text)] = e.code
    out: dict[str, tuple[str | None, float]] = {}
    seps = [_separator(sample, f) or ";"] if f.type == "codes" else []
    parts: set[str] = set()
    for v in sample.drop_nulls().unique().to_list():
        pieces = [v]
        for sep in seps:
            pieces = [p for piece in pieces for p in piece.split(sep)]
        parts.update(p.strip() for p in pieces)
    for raw in sorted(p for p in parts if p):
        key = normalise_key(raw)
        if key in labels:
            continue
        if len(key) <= 3:
            # Abbreviations (F, M, X): a code whose label starts with it, when exactly one does.
            starts = {code for text, code in labels.items() if text.startswith(key)}
            out[raw] = (starts.pop(), 90.0) if len(starts) == 1 else (None, 0.0)
            continue
        match = process.extractOne(key, list(labels), scorer=fuzz.ratio)
        if match and match[1] >= 70:
            out[raw] = (labels[match[0]], float(match[1]))
            continue
        # A word inside a longer label ("DETTE" in "Servitude pour dettes"), only for words of 5+ letters.
        inside = process.extractOne(key, list(labels), scorer=fuzz.partial_ratio) if len(key) >= 5 else None
        out[raw] = (labels[inside[0]], float(inside[1])) if inside and inside[1] >= 90 else (None, 0.0)
    return out


def _first_row_is_labels(frame: pl.DataFrame) -> bool:
    """A second header row (labels under field names, as in the HTCDS toolkit): every cell filled, and in most
    columns a value that never recurs below, where a real record's coded values would."""
    if frame.height < 3 or frame.width < 3:
        return False
    first = frame.row(0)
    if any(v is None for v in first):
        return False
    rest = frame.slice(1)
    unique_here = sum(v not in set(rest[c].drop_nulls().to_list()) for c, v in zip(frame.columns, first, strict=True))
    return unique_here >= 0.9 * frame.width


def suggest_mapping(path: Path, dataset: str = "victims", reader: ReaderOptions | None = None) -> SuggestedMapping:
    """Read a sample of `path` and propose a mapping spec (YAML text with reasons as comments)."""
    reader = reader or ReaderOptions()
    read = read_table(Path(path), reader, limit=SAMPLE_ROWS)
    if reader.skip_rows == 0 and _first_row_is_labels(read.frame):
        reader = ReaderOptions(**{**reader.__dict__, "skip_rows": 1})
        read = read_table(Path(path), reader, limit=SAMPLE_ROWS)
    ds = load_standard().dataset(dataset)
    fields = [f for f in ds.fields if f.name != "victim_id"]
    candidates: dict[str, str] = {}
    for f in fields:
        for n in _names_for(f):
            candidates.setdefault(normalise_key(n), f.name)
    for alias in ALIASES["record_id"]:
        candidates[normalise_key(alias)] = "record_id"
    suggestions: list[Suggestion] = []
    taken: set[str] = set()
    for column in read.frame.columns:
        target, score, reason = _by_name(column, candidates)
        if target in taken and target not in ("full_name", "phone", "address"):
            target = None  # a second column for the same single field: leave it for a person to decide
        if target is None:
            target, score, reason = _by_values(read.frame[column], fields, taken)
        if target:
            taken.add(target)
        s = Suggestion(column, target, score, reason or "no match")
        if target and target != "record_id":
            s.values = _value_matches(ds.field(target), read.frame[column])
            if ds.field(target).type == "codes":
                s.separator = _separator(read.frame[column], ds.field(target))
        suggestions.append(s)
    record_id = next((s.column for s in suggestions if s.field == "record_id"), None)
    text = _render(dataset, read, suggestions, record_id)
    parse_mapping(text, name="suggested")  # the suggestion itself must be a valid spec
    return SuggestedMapping(text, suggestions, record_id)


def _quoted(text: str) -> str:
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1000).strip()


def _render(dataset: str, read, suggestions: list[Suggestion], record_id: str | None) -> str:
    reader = {"format": read.format}
    if read.sheet:
        reader["sheet"] = read.sheet
    if read.first_data_row > 2:
        reader["skip_rows"] = read.first_data_row - 2  # a label row under the header
    if read.format == "csv":
        reader |= {"delimiter": read.delimiter, "encoding": read.encoding}
    lines = [f"# Suggested mapping for a {read.format.upper()} file: check every line, then save it.",
             f"dataset: {dataset}", f"reader: {yaml.safe_dump(reader, default_flow_style=True).strip()}"]
    if record_id:
        lines.append(f"record_id: {_quoted(record_id)}")
    else:
        lines.append("# record_id: no column looks like the organisation's own record id; rows are numbered")
    lines.append("columns:")
    for s in suggestions:
        key = _quoted(s.column)
        if not s.field or s.field == "record_id":
            if not s.field:
                lines.append(f"  # {key}: not mapped ({s.reason}); it will be ignored")
            continue
        lines.append(f"  {key}:  # {s.reason} ({s.score:.0f})")
        lines.append(f"    field: {s.field}")
        if s.separator:
            lines.append(f"    separator: {_quoted(s.separator)}")
        if s.values:
            lines.append("    values:")
            for raw, (code, score) in s.values.items():
                rk = _quoted(raw)
                if code:
                    lines.append(f"      {rk}: {code}  # resembles (score {score:.0f}): check")
                else:
                    lines.append(f"      # {rk}: ?  # no code resembles it: choose one or leave it to be reported")
    return "\n".join(lines) + "\n"
