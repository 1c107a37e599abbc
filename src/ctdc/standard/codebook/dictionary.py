"""The data dictionary as rows (one per field) and as CSV, XLSX and JSON files.

>>> from ctdc.standard import load_standard
>>> row = dictionary_rows(load_standard())[0]
>>> row["dataset"], row["field"], row["role"], row["label_fr"]
('victims', 'full_name', 'direct_identifier', 'Nom complet')
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ctdc.formulas import defuse
from ctdc.standard.crosswalk import load_field_crosswalk
from ctdc.standard.model import ROLE_DESCRIPTIONS, ROLE_LABELS, CodeList, Field, Standard

# Lists longer than this (countries, currencies) are named, not spelled out, in the one-row-per-field formats.
INLINE_CODES_MAX = 40
COLUMNS = (
    "dataset",
    "field",
    "label_en",
    "label_fr",
    "label_es",
    "description",
    "description_fr",
    "description_es",
    "type",
    "unit",
    "required",
    "role",
    "codelist",
    "values",
    "min",
    "max",
    "hierarchy",
    "key",
    "references",
    "since",
    "htcds_2_0",
    "ctdc_public_k_anonymized",
    "ctdc_public_synthetic",
    "ctdc_public_victim_perpetrator",
)


def values_text(cl: CodeList | None, lang: str = "en") -> str:
    """'code=label | code=label' for short lists; a pointer to the list for long ones."""
    if cl is None:
        return ""
    if len(cl) > INLINE_CODES_MAX:
        return f"{len(cl)} codes: see code list '{cl.name}' ({cl.label_in(lang)})"
    return " | ".join(f"{e.code}={e.label_in(lang)}" for e in cl.entries)


def field_row(dataset: str, f: Field) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "field": f.name,
        "label_en": f.label_in("en"),
        "label_fr": f.label_in("fr"),
        "label_es": f.label_in("es"),
        "description": f.description,
        "description_fr": f.description_in("fr"),
        "description_es": f.description_in("es"),
        "type": f.type,
        "unit": f.unit,
        "required": "yes" if f.required else "no",
        "role": f.role,
        "codelist": f.codelist.name if f.codelist else "",
        "values": values_text(f.codelist),
        "min": "" if f.min is None else f.min,
        "max": "" if f.max is None else f.max,
        "hierarchy": " > ".join(f.hierarchy),
        "key": "yes" if f.key else "",
        "references": f.references,
        "since": f.since,
        "htcds_2_0": "; ".join(f.sources.get("htcds-2.0", ())),
        "ctdc_public_k_anonymized": "; ".join(f.sources.get("ctdc-public-k-anonymized", ())),
        "ctdc_public_synthetic": "; ".join(f.sources.get("ctdc-public-synthetic", ())),
        "ctdc_public_victim_perpetrator": "; ".join(f.sources.get("ctdc-public-victim-perpetrator", ())),
    }


def dictionary_rows(standard: Standard) -> list[dict[str, Any]]:
    return [field_row(ds.name, f) for ds in standard.datasets.values() for f in ds.fields]


def write_csv(standard: Standard, path: Path) -> None:
    """One row per field of every dataset type, UTF-8 with a header row."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({k: defuse(v) for k, v in row.items()} for row in dictionary_rows(standard))


def attribution_lines() -> list[str]:
    cw = load_field_crosswalk("htcds-2.0")
    return [
        "Field and value crosswalks cite the Human Trafficking Case Data Standard (HTCDS) 2.0 and the public CTDC "
        "dataset codebook (Counter-Trafficking Data Collaborative, IOM).",
        cw.source["attribution"],
    ]


def write_xlsx(standard: Standard, path: Path) -> None:
    """Sheets README, Fields (one row per field), Values (one row per code, en/fr/es), Not kept (HTCDS)."""
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    lines = [
        f"ctdc data standard {standard.version}: data dictionary",
        "Fields: one row per field of every dataset type. Values: the code lists with English, French and Spanish labels.",
        "Disclosure roles:",
        *(f"  {ROLE_LABELS[r]['en']} ({r}): {d}" for r, d in ROLE_DESCRIPTIONS.items()),
        "",
        *attribution_lines(),
    ]
    for i, line in enumerate(lines, 1):
        readme.cell(i, 1, line)
    readme["A1"].font = Font(bold=True, size=14)
    readme.column_dimensions["A"].width = 140

    fields = wb.create_sheet("Fields")
    _table(fields, COLUMNS, [[r[c] for c in COLUMNS] for r in dictionary_rows(standard)])
    values = wb.create_sheet("Values")
    rows = [
        [cl.name, e.code, e.label_in("en"), e.label_in("fr"), e.label_in("es")]
        for cl in standard.used_codelists()
        for e in cl.entries
    ]
    _table(values, ("codelist", "code", "label_en", "label_fr", "label_es"), rows)
    not_kept = wb.create_sheet("HTCDS not kept")
    cw = load_field_crosswalk("htcds-2.0")
    _table(not_kept, ("htcds_field", "reason"), [[n.source, n.reason] for n in cw.not_kept])
    wb.save(path)


def _table(ws, header, rows) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([defuse(v) for v in row])  # openpyxl writes a string starting with '=' as a formula
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for i, name in enumerate(header, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(12, len(name) + 4))


def standard_as_json(standard: Standard) -> dict[str, Any]:
    """The whole standard as plain data: datasets, fields, code lists with every attribute and label."""
    cw = load_field_crosswalk("htcds-2.0")
    return {
        "standard": "ctdc",
        "version": standard.version,
        "languages": list(standard.languages),
        "roles": {r: {"labels": ROLE_LABELS[r], "description": d} for r, d in ROLE_DESCRIPTIONS.items()},
        "attribution": attribution_lines(),
        "datasets": [
            {
                "name": ds.name,
                "labels": ds.labels,
                "description": ds.description,
                "descriptions": ds.descriptions,
                "privacy_unit": ds.privacy_unit,
                "since": ds.since,
                "fields": [
                    {
                        "name": f.name,
                        "labels": f.labels,
                        "description": f.description,
                        "descriptions": f.descriptions,
                        "type": f.type,
                        "unit": f.unit,
                        "required": f.required,
                        "role": f.role,
                        "codelist": f.codelist.name if f.codelist else None,
                        "min": f.min,
                        "max": f.max,
                        "hierarchy": list(f.hierarchy),
                        "key": f.key,
                        "references": f.references or None,
                        "since": f.since,
                        "sources": {k: list(v) for k, v in f.sources.items()},
                    }
                    for f in ds.fields
                ],
            }
            for ds in standard.datasets.values()
        ],
        "codelists": {
            cl.name: {
                "labels": cl.labels,
                "codes": [
                    {"code": e.code, "labels": e.labels, "since": e.since, **e.extra} for e in cl.entries
                ],
            }
            for cl in standard.used_codelists()
        },
        "htcds_not_kept": [{"source": n.source, "reason": n.reason} for n in cw.not_kept],
    }


def write_json(standard: Standard, path: Path) -> None:
    Path(path).write_text(
        json.dumps(standard_as_json(standard), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
