"""Stage 1, resolving the mapping: which source columns of this file feed which field of the dataset.

Source columns live in the frame under a prefix (`SRC`) so typed fields never overwrite a raw column of the same
name. A column is found by its exact name first, then ignoring case and accents. A file none of whose columns
the mapping uses, or that lacks a column every record needs (`missing-required-column`), is refused here, before
any cell is typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ctdc.errors import IngestError
from ctdc.ingest.countries import normalise_key
from ctdc.ingest.mapping import ColumnMap, MappingSpec
from ctdc.ingest.problems import render
from ctdc.ingest.sources import load_source
from ctdc.standard import Dataset

SRC = "src:"


def resolve(frame: pl.DataFrame | list[str], wanted: str, prefix: str = SRC) -> str | None:
    """The frame column (prefixed) for a source column name: exact match first, then ignoring case/accents."""
    columns = frame.columns if isinstance(frame, pl.DataFrame) else frame
    if prefix + wanted in columns:
        return prefix + wanted
    folded = {normalise_key(c.removeprefix(prefix)): c for c in columns}
    return folded.get(normalise_key(wanted))


def wanted_columns(spec: MappingSpec) -> list[str]:
    """Every source column name the spec can use, and those its source rules read (their `READS`)."""
    names = [*spec.columns, *spec.record_id, *spec.key]
    if spec.source:
        names += list(getattr(load_source(spec.source), "READS", ()))
    for group in spec.flags:
        names += [*group.columns, *([group.text] if group.text else [])]
    return names


@dataclass(frozen=True)
class ColumnPlan:
    """How the mapping reads this file: frame columns (prefixed) by target field, and the identity columns."""
    by_field: dict[str, tuple[list[str], list[ColumnMap]]]  # field -> (its source columns, their column maps)
    used: set[str]                 # every frame column the mapping reads
    column_field: dict[str, str]   # frame column -> the field it feeds
    rid_col: str | None            # the record-id column, if present
    key_cols: list[str]            # the natural key's columns, when the mapping gives a key instead
    ignored: list[str]             # the file's columns the mapping does not read (never parsed)

    @property
    def rid_name(self) -> str | None:
        return self.rid_col.removeprefix(SRC) if self.rid_col else None


def plan_columns(frame: pl.DataFrame, header: list[str] | None, spec: MappingSpec, dataset: Dataset,
                 path: Path) -> ColumnPlan:
    """Resolve `spec` against `frame` (prefixed source columns); raise `IngestError` for a file the mapping
    cannot read at all, or one missing a column every record of `dataset` needs."""
    # Which mapped columns are present; group them by target field.
    by_field: dict[str, tuple[list[str], list[ColumnMap]]] = {}
    used: set[str] = set()
    for src, cm in spec.columns.items():
        actual = resolve(frame, src)
        if actual is None:
            continue
        used.add(actual)
        by_field.setdefault(cm.field, ([], []))
        by_field[cm.field][0].append(actual)
        by_field[cm.field][1].append(cm)
    column_field = {c: fld for fld, (cols, _maps) in by_field.items() for c in cols}
    for group in spec.flags:
        for src in (*group.columns, *([group.text] if group.text else [])):
            if actual := resolve(frame, src):
                used.add(actual)
                column_field[actual] = group.field
    rid_col = next((c for c in (resolve(frame, r) for r in spec.record_id) if c), None)
    if rid_col:
        used.add(rid_col)
    ignored = [c for c in (header or []) if SRC + c not in used]
    key_cols = [c for c in (resolve(frame, k) for k in spec.key) if c]
    used.update(key_cols)
    name = Path(path).name
    if not by_field:
        columns = [c.removeprefix(SRC) for c in frame.columns]
        raise IngestError(
            f"{name}: none of the mapping's columns are in the file. "
            f"File columns: {', '.join(columns[:15])}. Choose another preset or edit the mapping.",
            {"file": name, "columns": columns[:50], "mapping": spec.name, "reason": "no-mapped-columns"},
        )
    if dataset.name == "victims" and "registration_year" not in by_field and "registration_date" not in by_field:
        raise IngestError(
            f"{name}: " + render("missing-required-column", expected="the registration year or date",
                                 label="record") + " (problem code missing-required-column).",
            {"file": name, "code": "missing-required-column", "field": "registration_year",
             "reason": "missing-required-column"},
        )
    # A key field (a perpetrator's id) is ctdc's own random key, set at approval: the file's id is the record id.
    missing = [f.name for f in dataset.fields if f.required and not f.key and dataset.name != "victims"
               and f.name not in spec.same_row
               and f.name not in by_field and f.name not in spec.constants]
    if missing:
        raise IngestError(
            f"{name}: " + render("missing-required-column", expected=", ".join(missing),
                                 label=f"{dataset.name} record") + " (problem code missing-required-column).",
            {"file": name, "code": "missing-required-column", "field": missing[0],
             "reason": "missing-required-column"})
    return ColumnPlan(by_field, used, column_field, rid_col, key_cols, ignored)
