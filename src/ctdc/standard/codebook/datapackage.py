"""The standard as a Frictionless Data Package: one resource (and Table Schema) per dataset type.

`write_datapackage(standard, folder)` writes `folder/datapackage.json` and, for each dataset type, a header-only
`<dataset>.csv` the resource points at, so `frictionless validate folder/datapackage.json` checks the package
and a contributor can drop data rows into the CSVs (or point the resources at their own files) and validate them.

Mapping of ctdc types to Table Schema (https://specs.frictionlessdata.io/table-schema/):

    integer, number, date   same type; min/max become minimum/maximum constraints
    boolean                 boolean; trueValues yes/true/1, falseValues no/false/0 (what intake accepts)
    code                    string with an `enum` constraint of the code list's codes
    codes                   string with a `pattern` constraint: codes joined by `;`
    string                  string

The disclosure role, hierarchy and labels in French and Spanish travel as `ctdc:`-prefixed properties, which
Table Schema allows and validators ignore.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from ctdc.standard.codebook.dictionary import attribution_lines
from ctdc.standard.model import Dataset, Field, Standard

TRUE_VALUES = ["yes", "true", "1"]
FALSE_VALUES = ["no", "false", "0"]


def codes_pattern(codes: tuple[str, ...]) -> str:
    """A regular expression matching one or more codes joined by `;`.

    >>> p = codes_pattern(("a", "b+"))
    >>> bool(re.fullmatch(p, "a;b+")), bool(re.fullmatch(p, "a;c"))
    (True, False)
    """
    one = "(?:" + "|".join(re.escape(c) for c in codes) + ")"
    return f"{one}(?:;{one})*"


def table_field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "title": f.label, "description": f.description}
    constraints: dict[str, Any] = {}
    if f.type in ("integer", "number", "date", "boolean"):
        out["type"] = f.type
    else:
        out["type"] = "string"
    if f.type == "boolean":
        out["trueValues"], out["falseValues"] = TRUE_VALUES, FALSE_VALUES
    if f.required:
        constraints["required"] = True
    if f.min is not None:
        constraints["minimum"] = f.min
    if f.max is not None:
        constraints["maximum"] = f.max
    if f.type == "code" and f.codelist is not None:
        constraints["enum"] = list(f.codelist.codes)
    if f.type == "codes" and f.codelist is not None:
        constraints["pattern"] = codes_pattern(f.codelist.codes)
    if constraints:
        out["constraints"] = constraints
    out["ctdc:role"] = f.role
    out["ctdc:labels"] = dict(f.labels)
    if f.hierarchy:
        out["ctdc:hierarchy"] = list(f.hierarchy)
    if f.unit:
        out["ctdc:unit"] = f.unit
    if f.codelist is not None:
        out["ctdc:codelist"] = f.codelist.name
    return out


def table_schema(ds: Dataset) -> dict[str, Any]:
    """The Table Schema of one dataset type."""
    schema: dict[str, Any] = {"fields": [table_field(f) for f in ds.fields], "missingValues": [""]}
    if ds.key:
        schema["primaryKey"] = [ds.key]
    fks = []
    for f in ds.fields:
        if f.references:
            target_ds, target_field = f.references.split(".", 1)
            fks.append({"fields": [f.name], "reference": {"resource": target_ds, "fields": [target_field]}})
    if fks:
        schema["foreignKeys"] = fks
    return schema


def datapackage_descriptor(standard: Standard) -> dict[str, Any]:
    return {
        "profile": "tabular-data-package",
        "name": "ctdc-standard",
        "title": f"ctdc data standard {standard.version}",
        "version": standard.version,
        "description": "Dataset types of the ctdc data standard: privacy-preserving human-trafficking case data. "
        + " ".join(attribution_lines()),
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": "CC BY 4.0",
            }
        ],
        "sources": [
            {
                "title": "Human Trafficking Case Data Standard (HTCDS) 2.0, IOM",
                "path": "https://github.com/UNMigration/HTCDS",
            },
            {"title": "Counter-Trafficking Data Collaborative (CTDC) codebook, IOM"},
        ],
        "resources": [
            {
                "name": ds.name,
                "title": ds.label,
                "description": ds.description,
                "path": f"{ds.name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": table_schema(ds),
            }
            for ds in standard.datasets.values()
        ],
    }


def write_datapackage(standard: Standard, folder: Path) -> Path:
    """Write `folder/datapackage.json` and a header-only CSV per dataset type; return the descriptor's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for ds in standard.datasets.values():
        with open(folder / f"{ds.name}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerow(ds.field_names)
    path = folder / "datapackage.json"
    path.write_text(
        json.dumps(datapackage_descriptor(standard), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return path
