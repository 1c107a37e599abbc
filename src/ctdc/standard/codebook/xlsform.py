"""The XLSForm (ODK / KoboToolbox) of one dataset type, with English, French and Spanish labels.

Sheets `survey`, `choices` and `settings` as the XLSForm spec (https://xlsform.org) defines them. Field types:
integer -> integer, number -> decimal, string -> text, date -> date, boolean -> select_one yes_no,
code -> select_one <code list>, codes -> select_multiple <code list>. ODK stores a select_multiple answer as
space-separated codes; intake's KoboToolbox preset splits them. Surrogate keys (assigned by ctdc) are left out.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from ctdc.standard.model import Field, Standard

LANG_COLUMNS = {"en": "English (en)", "fr": "French (fr)", "es": "Spanish (es)"}
YES_NO = {"yes": {"en": "Yes", "fr": "Oui", "es": "Sí"}, "no": {"en": "No", "fr": "Non", "es": "No"}}
TYPES = {"integer": "integer", "number": "decimal", "string": "text", "date": "date"}
HINT_IDENTIFIER = {
    "en": "Direct identifier: used at intake only, then dropped.",
    "fr": "Identifiant direct : utilisé à l'intégration seulement, puis supprimé.",
    "es": "Identificador directo: solo se usa al ingresar los datos y luego se elimina.",
}


def _type(f: Field) -> str:
    if f.type == "boolean":
        return "select_one yes_no"
    if f.type == "code":
        return f"select_one {f.codelist.name}"
    if f.type == "codes":
        return f"select_multiple {f.codelist.name}"
    return TYPES[f.type]


def _constraint(f: Field) -> str:
    parts = []
    if f.min is not None:
        parts.append(f". >= {f.min}")
    if f.max is not None:
        parts.append(f". <= {f.max}")
    return " and ".join(parts)


def xlsform_sheets(standard: Standard, dataset: str) -> dict[str, list[list[object]]]:
    """The three sheets as lists of rows (header first)."""
    ds = standard.dataset(dataset)
    langs = standard.languages
    survey = [
        ["type", "name", *(f"label::{LANG_COLUMNS[lang]}" for lang in langs),
         *(f"hint::{LANG_COLUMNS[lang]}" for lang in langs), "required", "constraint",
         *(f"constraint_message::{LANG_COLUMNS[lang]}" for lang in langs)]
    ]  # fmt: skip
    choices = [["list_name", "name", *(f"label::{LANG_COLUMNS[lang]}" for lang in langs)]]
    lists_done: set[str] = set()
    for f in ds.fields:
        if f.key:
            continue
        constraint = _constraint(f)
        bounds = f"{'' if f.min is None else f.min}..{'' if f.max is None else f.max}"
        hints = [HINT_IDENTIFIER[lang] if f.is_direct_identifier else "" for lang in langs]
        survey.append(
            [_type(f), f.name, *(f.label_in(lang) for lang in langs), *hints, "yes" if f.required else "",
             constraint, *((bounds if constraint else "") for _ in langs)]
        )  # fmt: skip
        if f.type == "boolean" and "yes_no" not in lists_done:
            lists_done.add("yes_no")
            choices += [
                ["yes_no", code, *(labels[lang] for lang in langs)] for code, labels in YES_NO.items()
            ]
        if f.codelist is not None and f.codelist.name not in lists_done:
            lists_done.add(f.codelist.name)
            choices += [
                [f.codelist.name, e.code, *(e.label_in(lang) for lang in langs)] for e in f.codelist.entries
            ]
    settings = [
        ["form_title", "form_id", "version", "default_language"],
        [f"ctdc {ds.label} (standard {standard.version})", f"ctdc_{ds.name}", standard.version.replace(".", ""),
         LANG_COLUMNS["en"]],
    ]  # fmt: skip
    return {"survey": survey, "choices": choices, "settings": settings}


def write_xlsform(standard: Standard, path: Path, dataset: str) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in xlsform_sheets(standard, dataset).items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
