"""Mapping specs: how one contributor's columns and codes become fields and codes of the ctdc standard.

A spec is a YAML file, saved per organisation (or shipped as a preset in `ctdc/ingest/presets/`):

    dataset: victims                  # dataset type of the standard
    reader:                           # how to read the file; every key optional (detected when absent)
      format: csv                     # csv | xlsx
      delimiter: ";"
      encoding: latin-1               # utf-8, utf-8-sig, latin-1, cp1252
      sheet: Cases                    # xlsx: sheet name (default: the first)
      header_row: 1                   # 1-based row holding the column names
      skip_rows: 0                    # rows between the header and the data (e.g. HTCDS's label row)
    record_id: "Case ID"              # the contributor's own record id; a list means "first one present".
                                      # Never a direct-identifier column (refused); stored only as a keyed hash
    constants: {data_source: hotline} # fields every record of this source has
    columns:
      "Sexe":                         # source column (matched exactly, then ignoring case/accents/spaces)
        field: gender                 # target field of the dataset
        values: {F: female, M: male}  # source value -> code; matched ignoring case, accents, spaces
        separator: "|"                # for multi-valued fields (type `codes`); default ";"
        date_formats: ["%d/%m/%Y"]    # for dates; common formats are always tried after these
        from_age: true                # the source holds an age; the field is a majority status
      "Prénom": {field: full_name}    # several columns onto one text field are joined with a space
    flags:                            # 0/1 columns that together make one multi-valued field
      means_of_control:
        columns: {meansOfControlThreats: threats, meansOfControlNotSpecified: null}
        text: meansOfControlConcatenated   # optional; a disagreement with the flags is a warning
        text_values: {"Physical Abuse": physical_abuse}

Flag rule: where any flag of a group has a value (1 or 0), the group is recorded and empty flags mean "no";
where the whole group is empty, the field is "not recorded" (null). A recorded group with no flag set is kept as
an empty value, distinct from null. Flags are the structured truth; the text column only fills rows whose flags
are all empty.

Columns the spec does not name are never read into the pipeline's output: unmapped data is dropped at the door.

>>> spec = load_preset("htcds")
>>> spec.dataset, spec.columns["prs_Gender"].field
('victims', 'gender')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ctdc.errors import MappingError
from ctdc.standard import load_standard


@dataclass(frozen=True)
class ReaderOptions:
    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int = 1
    skip_rows: int = 0
    notice_cell: bool | str = False  # True, False or "auto": a terms-of-use sentence in place of column 1


@dataclass(frozen=True)
class ColumnMap:
    field: str
    values: dict[str, Any] = field(default_factory=dict)
    separator: str | None = None
    date_formats: tuple[str, ...] = ()
    from_age: bool = False


@dataclass(frozen=True)
class FlagGroup:
    """Several 0/1 columns that together encode one multi-valued field (the public CTDC layout)."""

    field: str
    columns: dict[str, str | None]  # source column -> code (None: "not specified", sets no code)
    text: str | None = None         # a text column listing the same values; disagreements are warnings
    text_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingSpec:
    dataset: str
    reader: ReaderOptions
    record_id: tuple[str, ...]
    columns: dict[str, ColumnMap]
    name: str = "custom"
    text: str = ""
    constants: dict[str, Any] = field(default_factory=dict)
    flags: tuple[FlagGroup, ...] = ()

    @property
    def version_hash(self) -> str:
        """A short content hash: the mapping version recorded with every record's provenance."""
        import hashlib

        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


def parse_mapping(text: str, name: str = "custom", source: str = "mapping") -> MappingSpec:
    """Parse and check a mapping spec against the standard."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise MappingError(f"{source} is not valid YAML: {exc}", {"file": source}) from None
    if not isinstance(raw, dict) or "columns" not in raw:
        raise MappingError(f"{source} has no 'columns' section.", {"file": source})
    dataset = load_standard().dataset(raw.get("dataset", "victims"))
    reader = ReaderOptions(**(raw.get("reader") or {}))
    rid = raw.get("record_id") or ()
    record_id = (rid,) if isinstance(rid, str) else tuple(rid)
    columns: dict[str, ColumnMap] = {}
    for src, spec in (raw.get("columns") or {}).items():
        if isinstance(spec, str):
            spec = {"field": spec}
        target = spec.get("field")
        if target not in dataset.field_names:
            raise MappingError(
                f"{source}: column '{src}' maps to '{target}', which is not a field of dataset '{dataset.name}'.",
                {"file": source, "column": src, "field": target},
            )
        columns[str(src)] = ColumnMap(
            field=target,
            values={str(k): v for k, v in (spec.get("values") or {}).items()},
            separator=spec.get("separator"),
            date_formats=tuple(spec.get("date_formats") or ()),
            from_age=bool(spec.get("from_age", False)),
        )
    constants = dict(raw.get("constants") or {})
    for key in constants:
        if key not in dataset.field_names:
            raise MappingError(f"{source}: constant '{key}' is not a field of dataset '{dataset.name}'.",
                               {"file": source, "field": key})
    flags = []
    for target, group in (raw.get("flags") or {}).items():
        f = dataset.field(target) if target in dataset.field_names else None
        if f is None or f.type != "codes":
            raise MappingError(f"{source}: flag group '{target}' must name a multi-valued (codes) field of "
                               f"dataset '{dataset.name}'.", {"file": source, "field": target})
        for col, code in (group.get("columns") or {}).items():
            if code is not None and f.codelist is not None and code not in f.codelist:
                raise MappingError(f"{source}: flag column '{col}' maps to '{code}', not a code of {target}.",
                                   {"file": source, "column": col, "code": code})
        flags.append(FlagGroup(target, {str(k): v for k, v in (group.get("columns") or {}).items()},
                               group.get("text"), {str(k): v for k, v in (group.get("text_values") or {}).items()}))
    _check_record_id(record_id, columns, dataset, source)
    return MappingSpec(dataset.name, reader, record_id, columns, name=name, text=text, constants=constants,
                       flags=tuple(flags))


def direct_identifier_names(dataset) -> dict[str, str]:
    """Folded column name -> direct-identifier field, for every name such a column is known by: the field's
    name and labels, its source columns in the crosswalks, and the suggester's aliases ("name", "dob", "phone")."""
    from ctdc.ingest.countries import normalise_key
    from ctdc.ingest.suggest import ALIASES  # suggest imports this module: look it up only when needed

    names: dict[str, str] = {}
    for f in dataset.fields:
        if f.is_direct_identifier:
            for n in (f.name, f.label, *f.labels.values(), *ALIASES.get(f.name, ()),
                      *(c for cols in f.sources.values() for c in cols)):
                if n:
                    names.setdefault(normalise_key(n), f.name)
    return names


def _check_record_id(record_id: tuple[str, ...], columns: dict[str, ColumnMap], dataset, source: str) -> None:
    """Refuse a record id taken from a column that holds a direct identifier (a name, a phone number...).

    The record id keys re-submissions and in-file duplicates; it is stored only as a keyed hash, but a column
    that names or reaches a person has no business being a key at all, and the mistake is easy to make.
    """
    from ctdc.ingest.countries import normalise_key

    mapped = {normalise_key(src): cm.field for src, cm in columns.items()
              if dataset.field(cm.field).is_direct_identifier}
    known = direct_identifier_names(dataset)
    for col in record_id:
        target = mapped.get(normalise_key(col)) or known.get(normalise_key(col))
        if target:
            f = dataset.field(target)
            raise MappingError(
                f"{source}: record_id cannot be column '{col}': it holds a direct identifier ({f.label}). The record "
                "id must be the organisation's own case or file number, which names no one. Map another column as "
                "record_id, or leave record_id out (rows are then numbered).",
                {"file": source, "column": col, "field": target, "code": "record-id-direct-identifier"})


def load_mapping(path: Path) -> MappingSpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"Cannot read mapping file {path}: {exc.strerror}", {"file": str(path)}) from None
    return parse_mapping(text, name=Path(path).name, source=str(path))


# Presets built from the standard itself, so they follow it as it grows.
GENERATED_PRESETS = ("kobo-ctdc",)


def preset_names() -> list[str]:
    folder = resources.files("ctdc.ingest").joinpath("presets")
    files = [p.name.removesuffix(".mapping.yml") for p in folder.iterdir() if p.name.endswith(".mapping.yml")]
    return sorted([*files, *GENERATED_PRESETS])


def kobo_ctdc_text(dataset: str = "victims") -> str:
    """Preset `kobo-ctdc`: a KoboToolbox/ODK export of the XLSForm that `ctdc codebook template --format xlsform`
    generates. Its questions are the standard's field names and its choices the standard's codes, so the mapping
    is the identity; select_multiple answers are space-separated."""
    ds = load_standard().dataset(dataset)
    lines = [f"# Generated from standard {load_standard().version}: the ctdc XLSForm's export.",
             f"dataset: {dataset}", "reader: {format: csv}", 'record_id: ["_uuid", "_id", "meta/instanceID"]',
             "columns:"]
    for f in ds.fields:
        if f.name == "victim_id":
            continue
        extra = ', separator: " "' if f.type == "codes" else ""
        lines.append(f"  {f.name}: {{field: {f.name}{extra}}}")
    return "\n".join(lines) + "\n"


def load_preset(name: str) -> MappingSpec:
    if name == "kobo-ctdc":
        return parse_mapping(kobo_ctdc_text(), name=name, source=f"preset {name}")
    resource = resources.files("ctdc.ingest").joinpath("presets", f"{name}.mapping.yml")
    if not resource.is_file():
        raise MappingError(f"Unknown preset '{name}'. Known presets: {', '.join(preset_names())}.", {"preset": name})
    return parse_mapping(resource.read_text(encoding="utf-8"), name=name, source=f"preset {name}")
