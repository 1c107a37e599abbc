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
      find_header: true               # the header is the first of the first 10 rows naming two mapped
                                      # columns (title rows above it in a workbook, none in its CSV copy)
    record_id: "Case ID"              # the contributor's own record id; a list means "first one present".
                                      # Never a direct-identifier column (refused); stored only as a keyed hash
    key: [Country, Year, Indicator]   # or, for published aggregates, the columns that together identify a row:
                                      # an exact copy is a duplicate, the same key with other values a conflict
    source: unodc_glotip              # optional: the source's own rules (a module of ctdc.ingest.sources)
    constants: {data_source: hotline} # fields every record of this source has
    columns:
      "Sexe":                         # source column (matched exactly, then ignoring case/accents/spaces)
        field: gender                 # target field of the dataset
        values: {F: female, M: male}  # source value -> code; matched ignoring case, accents, spaces
        separator: "|"                # for multi-valued fields (type `codes`); default ";"
        date_formats: ["%d/%m/%Y"]    # for dates; common formats are always tried after these
        from_age: true                # the source holds an age; the field is a majority status
        thousands: ","               # integers written with a thousands separator ("1,192")
        censored: {"<5": [1, 4]}     # a marker that stands for an interval: the field stays blank and
                                     # <field>_lower/_upper/_censored hold the interval (reported as a warning)
      "Prénom": {field: full_name}    # several columns onto one text field are joined with a space
    flags:                            # 0/1 columns that together make one multi-valued field
      means_of_control:
        columns: {meansOfControlThreats: threats, meansOfControlNotSpecified: null}
        text: meansOfControlConcatenated   # optional; a disagreement with the flags is a warning
        text_values: {"Physical Abuse": physical_abuse}

    linked:                           # other dataset types the same rows also describe (a condensed layout:
      perpetrators:                   # one row per victim with the perpetrators' attributes); each entry is a
        source: ctdc_vp_perpetrators  # spec of its own (columns, flags, constants, source) read from the same
        columns: {IP_Gender: {field: genders}}   # file with the same record ids
      victim_perpetrator_links:
        same_row: [victim_id, perpetrator_id]    # reference fields pointing at the records this same row makes
        columns: {IP_PayMoney: {field: victim_paid_perpetrator}}

A row is accepted only when every part of it is (the victim with all its links is one unit); a linked record
whose mapped fields are all blank is not made (no perpetrator recorded), and neither is a record referring to
it. Reference fields (`references: victims.victim_id` in the standard) leave the pipeline only as keyed hashes,
like record ids: a link file names the contributor's own case ids, never stored as such.

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

from ctdc.errors import CodebookError, MappingError
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
    find_header: bool = False        # the header is the first of the first rows naming mapped columns


@dataclass(frozen=True)
class ColumnMap:
    field: str
    values: dict[str, Any] = field(default_factory=dict)
    separator: str | None = None
    date_formats: tuple[str, ...] = ()
    from_age: bool = False
    thousands: str | None = None     # integers: the thousands separator the source writes ("1,192")
    censored: dict[str, tuple[int, int]] = field(default_factory=dict)  # marker -> (lower, upper), e.g. "<5": [1, 4]


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
    key: tuple[str, ...] = ()        # natural key columns (no record id): same key, other values = a conflict
    source: str | None = None        # a module of ctdc.ingest.sources with the source's own rules
    linked: tuple[MappingSpec, ...] = ()   # other dataset types read from the same rows (see the module doc)
    same_row: tuple[str, ...] = ()   # reference fields filled with this row's own record id (a linked spec)

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
    return _parse(raw, text, name, source)


def _parse(raw: dict, text: str, name: str, source: str, reader: ReaderOptions | None = None) -> MappingSpec:
    try:
        dataset = load_standard().dataset(raw.get("dataset", "victims"))
    except CodebookError as exc:
        raise MappingError(f"{source}: {exc.message}", {"file": source, "dataset": raw.get("dataset")}) from None
    reader = reader or ReaderOptions(**(raw.get("reader") or {}))
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
            thousands=spec.get("thousands"),
            censored={str(k): (int(v[0]), int(v[1])) for k, v in (spec.get("censored") or {}).items()},
        )
        if columns[str(src)].censored and not {f"{target}_lower", f"{target}_upper", f"{target}_censored"} <= set(
                dataset.field_names):
            raise MappingError(f"{source}: column '{src}' has censored values, but dataset '{dataset.name}' has no "
                               f"{target}_lower, {target}_upper and {target}_censored fields to hold them.",
                               {"file": source, "column": src, "field": target})
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
    key = raw.get("key") or ()
    src_module = raw.get("source")
    if src_module is not None:
        from ctdc.ingest.sources import source_names

        if src_module not in source_names():
            raise MappingError(f"{source}: unknown source rules '{src_module}'. Known: {', '.join(source_names())}.",
                               {"file": source, "source": src_module})
    linked = []
    for other, part in (raw.get("linked") or {}).items():
        if not isinstance(part, dict) or other == dataset.name:
            raise MappingError(f"{source}: linked '{other}' must be a mapping of another dataset type.",
                               {"file": source, "dataset": other})
        linked.append(_parse({**part, "dataset": other}, text, name, f"{source} (linked {other})", reader))
    same_row = tuple(raw.get("same_row") or ())
    for fld in same_row:
        if fld not in dataset.field_names or not dataset.field(fld).references:
            raise MappingError(f"{source}: same_row '{fld}' is not a reference field of dataset '{dataset.name}'.",
                               {"file": source, "field": fld})
    return MappingSpec(dataset.name, reader, record_id, columns, name=name, text=text, constants=constants,
                       flags=tuple(flags), key=(key,) if isinstance(key, str) else tuple(key), source=src_module,
                       linked=tuple(linked), same_row=same_row)


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


# Presets of the standard's own layout for the linked dataset types (column names = field names, codes = the
# standard's codes, `;` between codes): what `ctdc simulate` writes and what a contributor's system can export
# straight from the codebook. Preset -> dataset type.
STANDARD_LAYOUTS = {"ctdc-perpetrators": "perpetrators", "ctdc-links": "victim_perpetrator_links",
                    "ctdc-journeys": "journey_events", "ctdc-fees": "recruitment_fees"}
# Presets built from the standard itself, so they follow it as it grows.
GENERATED_PRESETS = ("kobo-ctdc", *STANDARD_LAYOUTS)


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


def standard_layout_text(dataset: str) -> str:
    """Presets `ctdc-perpetrators`, `ctdc-links`, `ctdc-journeys`, `ctdc-fees`: a file in the standard's own layout for one
    dataset type. The key field (`perpetrator_id`, `event_id`, `fee_id`) is the contributor's record id (kept only as a
    keyed hash); reference fields (`victim_id`) name the contributor's own case ids (keyed hashes too).

    >>> print(standard_layout_text("victim_perpetrator_links"))  # doctest: +ELLIPSIS
    # Generated from standard ...: the standard's own layout of victim_perpetrator_links.
    dataset: victim_perpetrator_links
    reader: {format: csv}
    columns:
      victim_id: {field: victim_id}
      perpetrator_id: {field: perpetrator_id}
      relation_to_victim: {field: relation_to_victim}
      victim_paid_perpetrator: {field: victim_paid_perpetrator}
    <BLANKLINE>
    """
    ds = load_standard().dataset(dataset)
    lines = [f"# Generated from standard {load_standard().version}: the standard's own layout of {dataset}.",
             f"dataset: {dataset}", "reader: {format: csv}"]
    keys = [f.name for f in ds.fields if f.key]
    if keys:
        lines.append(f"record_id: {keys[0]}")
    lines.append("columns:")
    lines += [f"  {f.name}: {{field: {f.name}}}" for f in ds.fields if not f.key]
    return "\n".join(lines) + "\n"


def load_preset(name: str) -> MappingSpec:
    if name == "kobo-ctdc":
        return parse_mapping(kobo_ctdc_text(), name=name, source=f"preset {name}")
    if name in STANDARD_LAYOUTS:
        return parse_mapping(standard_layout_text(STANDARD_LAYOUTS[name]), name=name, source=f"preset {name}")
    resource = resources.files("ctdc.ingest").joinpath("presets", f"{name}.mapping.yml")
    if not resource.is_file():
        raise MappingError(f"Unknown preset '{name}'. Known presets: {', '.join(preset_names())}.", {"preset": name})
    return parse_mapping(resource.read_text(encoding="utf-8"), name=name, source=f"preset {name}")
