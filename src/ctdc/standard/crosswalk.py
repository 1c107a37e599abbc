"""Crosswalks as data: how other standards and file layouts map onto the ctdc standard, and back.

Two kinds of file live in `crosswalks/` (each format is described in the file's own header):

- Field crosswalks (`htcds-2.0.yaml`): each field of another standard is either `mapped` to ctdc fields (with a
  value table for picklists) or listed under `not_kept` with the reason. `FieldCrosswalk` reads them.
- File layouts (`ctdc-public-k-anonymized.yaml`, `ctdc-public-synthetic.yaml`): the columns of a published file
  in order, each tied to a ctdc field. `Layout.read_row` turns one row into a ctdc record and
  `Layout.write_record` turns a record back into a row, so a CTDC user can swap files.

A ctdc record is a dict field name -> value: int for integers, bool for booleans, a code for `code` fields and
a tuple of codes for `codes` fields. None (or an absent key) means "not recorded", which is not the same as an
empty tuple ("recorded: none of these").

This module maps values only. Detecting the flavour, the per-row quirk report and the encoding rules of the
files (notice cell, CRLF, BOM) belong to the ingest preset and the release exporter that use it.

>>> k = load_layout("ctdc-public-k-anonymized")
>>> rec = k.read_row({"gender": "Female", "ageBroad": "9--17", "isForcedLabour": "1", "isSexualExploit": "0"})
>>> rec["gender"], rec["age_band"], rec["exploitation_types"]
('female', '9-17', ('forced_labour',))
>>> k.write_record(rec)["ageBroad"]
'9--17'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ctdc.errors import CodebookError
from ctdc.standard.model import Standard
from ctdc.standard.schema import (
    EXPORT_LAYOUTS,
    FIELD_CROSSWALKS,
    LAYOUT_CROSSWALKS,
    load_standard,
    read_data_file,
)

Record = dict[str, Any]


@dataclass(frozen=True)
class FieldMapping:
    source: str
    targets: tuple[str, ...]  # "<dataset>.<field>"
    values: dict[str, str | None] = field(default_factory=dict, hash=False)
    transform: str = ""
    note: str = ""


@dataclass(frozen=True)
class NotKept:
    source: str
    reason: str


@dataclass(frozen=True)
class FieldCrosswalk:
    """Another standard's fields -> ctdc fields (e.g. HTCDS 2.0)."""

    name: str
    label: str
    source: dict[str, str]
    mapped: tuple[FieldMapping, ...]
    not_kept: tuple[NotKept, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source field the crosswalk accounts for, mapped or not kept."""
        return tuple(m.source for m in self.mapped) + tuple(n.source for n in self.not_kept)

    def mapping(self, source: str) -> FieldMapping | NotKept:
        for item in (*self.mapped, *self.not_kept):
            if item.source == source:
                return item
        raise CodebookError(
            f"{self.name} does not list {source!r}.", {"crosswalk": self.name, "source": source}
        )

    def problems(self, standard: Standard) -> list[str]:
        """Targets or target codes that the standard does not define (empty when consistent)."""
        out = []
        for m in self.mapped:
            for target in m.targets:
                ds, fld = target.split(".", 1)
                if ds not in standard.datasets or fld not in standard.dataset(ds):
                    out.append(f"{m.source}: unknown target {target}")
                    continue
                cl = standard.dataset(ds).field(fld).codelist
                for src, code in m.values.items():
                    if code is not None and (cl is None or code not in cl):
                        out.append(f"{m.source}: value {src!r} -> {code!r} is not a code of {target}")
        return out


@cache
def load_field_crosswalk(name: str = "htcds-2.0") -> FieldCrosswalk:
    """Load a field crosswalk by name (only `htcds-2.0` today)."""
    if name not in FIELD_CROSSWALKS:
        raise CodebookError(f"Unknown field crosswalk {name!r}.", {"crosswalk": name})
    load_standard()  # validates every crosswalk file against its JSON Schema
    data = read_data_file(f"crosswalks/{name}.yaml")
    mapped = tuple(
        FieldMapping(
            m["source"],
            tuple(m["targets"]),
            dict(m.get("values", {})),
            m.get("transform", ""),
            m.get("note", ""),
        )
        for m in data["mapped"]
    )
    not_kept = tuple(NotKept(n["source"], n["reason"]) for n in data["not_kept"])
    return FieldCrosswalk(data["name"], data["label"], dict(data["source"]), mapped, not_kept)


@dataclass(frozen=True)
class Column:
    column: str
    field: str
    values: dict[str, Any] = field(default_factory=dict, hash=False)
    read_also: dict[str, str] = field(default_factory=dict, hash=False)
    transform: str = ""
    flag: str = ""
    read: bool = True
    write_any: tuple[str, ...] = ()
    write_all: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    concatenated: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def kind(self) -> str:
        """value | flag | derived_flag | concatenated"""
        if self.concatenated:
            return "concatenated"
        if self.flag:
            return "flag"
        if self.write_all or self.write_any:
            return "derived_flag"
        return "value"


@dataclass(frozen=True)
class Layout:
    """A published file layout (the public CTDC flavours): its columns in file order and their ctdc fields."""

    name: str
    label: str
    dataset: str
    delimiter: str
    line_terminator: str
    notice_column: bool
    notice: str
    flag_true: str
    flag_false: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.column for c in self.columns)

    def _cell(self, row: dict[str, str], col: Column) -> str:
        for name in (col.column, *col.aliases):
            if name in row and row[name] is not None:
                return str(row[name]).strip()
        return ""

    def read_row(self, row: dict[str, str], *, standard: Standard | None = None) -> Record:
        """One file row (column -> text) to a ctdc record. Unknown text raises CodebookError."""
        std = standard or load_standard()
        record: Record = {}
        groups: dict[str, list[tuple[Column, str]]] = {}
        for col in self.columns:
            text = self._cell(row, col)
            if col.kind == "flag" and col.read:
                groups.setdefault(col.field, []).append((col, text))
            elif col.kind == "value":
                record[col.field] = self._read_value(col, text, std)
        for fld, cells in groups.items():
            for col, text in cells:
                if text not in ("", "0", "1"):
                    raise CodebookError(
                        f"{self.name}: flag column {col.column} holds {text[:8]!r}; expected 1, 0 or empty.",
                        {"layout": self.name, "column": col.column},
                    )
            recorded = any(t in ("0", "1") for _, t in cells)
            if not recorded:
                record[fld] = None
                continue
            codes = [c.flag for c, t in cells if t == "1"]
            record[fld] = tuple(dict.fromkeys(codes))
        return record

    def _read_value(self, col: Column, text: str, std: Standard) -> Any:
        if text == "":
            return None
        if col.values or col.read_also:
            table = {**col.values, **col.read_also}
            if text not in table:
                raise CodebookError(
                    f"{self.name}: column {col.column} has unknown value {text[:40]!r}.",
                    {"layout": self.name, "column": col.column},
                )
            return table[text]
        fld = std.dataset(self.dataset).field(col.field)
        if col.transform == "iso3166_alpha3":
            by_alpha3 = {e.extra["alpha_3"]: e.code for e in std.codelist("country").entries}
            if text not in by_alpha3:
                raise CodebookError(
                    f"{self.name}: column {col.column} has unknown alpha-3 code {text[:8]!r}.",
                    {"layout": self.name, "column": col.column},
                )
            return by_alpha3[text]
        if fld.type == "integer":
            return int(text)
        return text

    def write_record(self, record: Record, *, standard: Standard | None = None) -> dict[str, str]:
        """A ctdc record to one file row (column -> text), in this layout's column order."""
        std = standard or load_standard()
        out: dict[str, str] = {}
        for col in self.columns:
            value = record.get(col.field)
            if col.kind == "value":
                out[col.column] = self._write_value(col, value, std)
                continue
            if value is None:
                out[col.column] = ""
                continue
            present = set(value)
            if col.kind == "concatenated":
                out[col.column] = self._concatenate(col, value)
                continue
            if col.kind == "flag":
                hit = bool(present & set(col.write_any or (col.flag,)))
            else:
                hit = set(col.write_all) <= present if col.write_all else bool(present & set(col.write_any))
            out[col.column] = self.flag_true if hit else self.flag_false
        return out

    def _write_value(self, col: Column, value: Any, std: Standard) -> str:
        if value is None or value == "":
            return ""
        if col.values:
            inverse = {v: k for k, v in col.values.items()}
            if value not in inverse:
                raise CodebookError(
                    f"{self.name}: {col.field} value {value!r} has no spelling in column {col.column}.",
                    {"layout": self.name, "column": col.column},
                )
            return inverse[value]
        if col.transform == "iso3166_alpha3":
            return std.codelist("country").entry(value).extra["alpha_3"]
        return str(value)

    @staticmethod
    def _concatenate(col: Column, codes: tuple[str, ...]) -> str:
        spec = col.concatenated
        names = [spec["labels"][c] for c in spec["labels"] if c in codes]
        combined = spec.get("combined")
        if combined and set(combined["all_of"]) <= set(codes):
            names.append(combined["label"])
        if not names:
            return spec.get("empty", "")
        return spec["separator"].join(names)

    def problems(self, standard: Standard) -> list[str]:
        """Columns whose field, flag or value codes the standard does not define (empty when consistent)."""
        out = []
        ds = standard.dataset(self.dataset)
        for col in self.columns:
            if col.field not in ds:
                out.append(f"{col.column}: unknown field {col.field}")
                continue
            fld = ds.field(col.field)
            codes = [col.flag] if col.flag else []
            codes += [*col.write_any, *col.write_all, *col.concatenated.get("labels", {})]
            codes += [v for v in (*col.values.values(), *col.read_also.values()) if isinstance(v, str)]
            for code in codes:
                if fld.codelist is None or code not in fld.codelist:
                    out.append(f"{col.column}: {code!r} is not a code of {self.dataset}.{col.field}")
        return out


@cache
def load_layout(name: str) -> Layout:
    """Load a file layout by name: `ctdc-public-k-anonymized` or `ctdc-public-synthetic`."""
    if name not in LAYOUT_CROSSWALKS:
        known = ", ".join(LAYOUT_CROSSWALKS)
        raise CodebookError(f"Unknown layout {name!r}. Known: {known}.", {"layout": name})
    load_standard()  # validates every crosswalk file against its JSON Schema
    data = read_data_file(f"crosswalks/{name}.yaml")
    columns = tuple(
        Column(
            column=c["column"],
            field=c["field"],
            values=dict(c.get("values", {})),
            read_also=dict(c.get("read_also", {})),
            transform=c.get("transform", ""),
            flag=c.get("flag", ""),
            read=c.get("read", True),
            write_any=tuple(c.get("write_any", ())),
            write_all=tuple(c.get("write_all", ())),
            aliases=tuple(c.get("aliases", ())),
            concatenated=dict(c.get("concatenated", {})),
        )
        for c in data["columns"]
    )
    return Layout(
        name=data["name"],
        label=data["label"],
        dataset=data["dataset"],
        delimiter=data["delimiter"],
        line_terminator=data["line_terminator"],
        notice_column=data["notice_column"],
        notice=data.get("notice", ""),
        flag_true=data["flag_true"],
        flag_false=data["flag_false"],
        columns=columns,
    )


# Code list holding the values of each generalization level a layout can publish.
LEVEL_CODELISTS = {
    "region": "un_m49_region",
    "subregion": "un_m49_subregion",
    "age_band": "age_band",
    "perpetrator_age_band": "perpetrator_age_band",
    "majority_status": "majority_status",
    "period": "period",
}


@dataclass(frozen=True)
class ExportLayout:
    """A published layout built from several dataset types (the CTDC victim-perpetrator condensed file).

    Data only: which ctdc field and generalization level feeds each column. The release exporter builds it.
    """

    name: str
    label: str
    delimiter: str
    join_separator: str
    columns: tuple[dict[str, Any], ...]

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c["column"] for c in self.columns)

    def problems(self, standard: Standard) -> list[str]:
        """Sources, levels, codes and role groups the standard does not define (empty when consistent)."""
        out = []
        for col in self.columns:
            ds, fld = col["source"].split(".", 1)
            if ds not in standard.datasets or fld not in standard.dataset(ds):
                out.append(f"{col['column']}: unknown source {col['source']}")
                continue
            f = standard.dataset(ds).field(fld)
            level = col.get("level")
            if level and level not in f.hierarchy:
                out.append(f"{col['column']}: level {level} is not in the hierarchy of {col['source']}")
            cl = standard.codelist(LEVEL_CODELISTS[level]) if level in LEVEL_CODELISTS else f.codelist
            for text, codes in col.get("values", {}).items():
                for code in [codes] if isinstance(codes, str) else codes:
                    if cl is None or code not in cl:
                        out.append(f"{col['column']}: {text!r} -> {code!r} is not a code at that level")
            if "flag" in col and (f.codelist is None or col["flag"] not in f.codelist):
                out.append(f"{col['column']}: flag {col['flag']!r} is not a code of {col['source']}")
            if "role_group" in col:
                groups = {e.extra.get("ctdc_group") for e in standard.codelist("perpetrator_role").entries}
                if col["role_group"] not in groups:
                    out.append(f"{col['column']}: no perpetrator role belongs to group {col['role_group']!r}")
        return out


@cache
def load_export_layout(name: str = "ctdc-public-victim-perpetrator") -> ExportLayout:
    """Load an export-only layout by name (only `ctdc-public-victim-perpetrator` today)."""
    if name not in EXPORT_LAYOUTS:
        raise CodebookError(f"Unknown export layout {name!r}.", {"layout": name})
    load_standard()  # validates every crosswalk file against its JSON Schema
    data = read_data_file(f"crosswalks/{name}.yaml")
    return ExportLayout(
        data["name"], data["label"], data["delimiter"], data["join_separator"], tuple(data["columns"])
    )
