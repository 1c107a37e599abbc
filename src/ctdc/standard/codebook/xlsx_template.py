"""The Excel contributor template: a README sheet, one sheet per dataset type, and a Lists sheet.

Each dataset sheet has the machine names in row 1 (what intake maps on; header comments give the label,
description and disclosure role) and data validation from row 2: drop-downs from the code lists, whole
numbers and dates within bounds, yes/no for booleans. Code, text and multi-code columns are formatted as text
so spreadsheet programs do not turn age bands such as 9-17 into dates. Multi-code fields take several codes
separated by `;`; their drop-down offers one code and only informs, never blocks, on other input.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from ctdc.standard.codebook.dictionary import attribution_lines
from ctdc.standard.model import ROLE_DESCRIPTIONS, ROLE_LABELS, CodeList, Field, Standard, role_description

ROWS = 5000  # rows prepared with validation; more can be added by copying a row
ROLE_FILLS = {
    "direct_identifier": "FBD5D5",
    "quasi_identifier": "FDE9C4",
    "sensitive": "DCD5FB",
    "non_identifying": "D8F0DC",
}
LISTS_SHEET = "Lists"


def _lists_sheet(wb: Workbook, codelists: list[CodeList], lang: str) -> dict[str, str]:
    """Write every code list as (code, label) column pairs; return list name -> absolute range of its codes."""
    ws = wb.create_sheet(LISTS_SHEET)
    ranges = {}
    for i, cl in enumerate(codelists):
        col_code, col_label = get_column_letter(2 * i + 1), get_column_letter(2 * i + 2)
        ws[f"{col_code}1"] = cl.name
        ws[f"{col_label}1"] = cl.label_in(lang)
        ws[f"{col_code}1"].font = ws[f"{col_label}1"].font = Font(bold=True)
        for row, e in enumerate(cl.entries, 2):
            ws[f"{col_code}{row}"] = e.code
            ws[f"{col_label}{row}"] = e.label_in(lang)
        ws.column_dimensions[col_code].width = 16
        ws.column_dimensions[col_label].width = 34
        ranges[cl.name] = f"{quote_sheetname(LISTS_SHEET)}!${col_code}$2:${col_code}${len(cl) + 1}"
    ws.freeze_panes = "A2"
    return ranges


def _validation(f: Field, ranges: dict[str, str]) -> DataValidation:
    title = f.label[:32]
    if f.type in ("code", "codes") and f.codelist is not None:
        dv = DataValidation(type="list", formula1=ranges[f.codelist.name], allow_blank=True)
        if f.type == "codes":
            dv.errorStyle = "information"
            dv.prompt = "Several codes allowed: type them separated by ; (the list offers one)."
        else:
            dv.error = f"Choose a code of '{f.codelist.name}' (see the {LISTS_SHEET} sheet)."
    elif f.type == "boolean":
        dv = DataValidation(type="list", formula1='"yes,no"', allow_blank=True)
        dv.error = "Enter yes or no."
    elif f.type in ("integer", "number"):
        lo = -1_000_000_000 if f.min is None else f.min
        hi = 1_000_000_000_000 if f.max is None else f.max
        dv = DataValidation(
            type="whole" if f.type == "integer" else "decimal",
            operator="between",
            formula1=str(lo),
            formula2=str(hi),
            allow_blank=True,
        )
        dv.error = f"Enter a {'whole ' if f.type == 'integer' else ''}number from {lo} to {hi}."
    elif f.type == "date":
        dv = DataValidation(
            type="date",
            operator="between",
            formula1="DATE(1900,1,1)",
            formula2="DATE(2100,12,31)",
            allow_blank=True,
        )
        dv.error = "Enter a date (YYYY-MM-DD)."
    else:
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="2000", allow_blank=True)
        dv.error = "At most 2000 characters."
    dv.errorTitle = title
    dv.promptTitle = title
    if not dv.prompt:
        dv.prompt = (f.description[:250]) if f.description else title
    dv.showErrorMessage = True
    dv.showInputMessage = True
    return dv


def write_xlsx_template(
    standard: Standard, path: Path, datasets: tuple[str, ...], *, lang: str = "en"
) -> None:
    """Write the template for `datasets` (dataset type names) with labels in `lang`."""
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    used: dict[str, CodeList] = {}
    for name in datasets:
        for f in standard.dataset(name).fields:
            if f.codelist is not None:
                used.setdefault(f.codelist.name, f.codelist)
    lines = [
        (f"ctdc contributor template — data standard {standard.version}", True),
        ("How to fill it in", True),
        (
            "One sheet per dataset type. Row 1 holds the machine names: do not change, move or translate them.",
            False,
        ),
        ("Enter one record per row from row 2. Leave a cell empty when the value was not recorded.", False),
        (
            f"Drop-downs offer the allowed codes; the {LISTS_SHEET} sheet shows each code with its label.",
            False,
        ),
        (
            "Fields that take several codes: type the codes separated by ; (for example: threats;debt_bondage).",
            False,
        ),
        ("Dates: YYYY-MM-DD. Yes/no fields: yes or no.", False),
        ("Header colours show the disclosure role of each field:", True),
        *((f"  {ROLE_LABELS[r][lang]}: {role_description(r, lang)}", False) for r in ROLE_DESCRIPTIONS),
        (
            "Direct identifiers (red) are used only at intake (duplicate detection, age) and dropped before storage.",
            False,
        ),
        ("", False),
        ("Fields", True),
    ]
    for i, (text, bold) in enumerate(lines, 1):
        readme.cell(i, 1, text).font = Font(bold=bold, size=14 if i == 1 else 11)
    row = len(lines) + 1
    for j, head in enumerate(
        ("sheet", "field", "label", "type", "required", "disclosure role", "description"), 1
    ):
        readme.cell(row, j, head).font = Font(bold=True)
    for name in datasets:
        for f in standard.dataset(name).fields:
            row += 1
            values = (
                name,
                f.name,
                f.label_in(lang),
                f.type,
                "yes" if f.required else "",
                ROLE_LABELS[f.role][lang],
            )
            for j, v in enumerate((*values, f.description), 1):
                readme.cell(row, j, v)
    row += 2
    for line in attribution_lines():
        readme.cell(row, 1, line)
        row += 1
    for col, width in zip("ABCDEFG", (24, 30, 36, 10, 9, 20, 100), strict=True):
        readme.column_dimensions[col].width = width

    ranges = _lists_sheet(wb, list(used.values()), lang)
    for name in datasets:
        ds = standard.dataset(name)
        ws = wb.create_sheet(name[:31], index=len(wb.sheetnames) - 1)
        for j, f in enumerate(ds.fields, 1):
            letter = get_column_letter(j)
            cell = ws.cell(1, j, f.name)
            cell.font = Font(bold=True, underline="single" if f.required else None)
            cell.fill = PatternFill("solid", fgColor=ROLE_FILLS[f.role])
            cell.alignment = Alignment(horizontal="center")
            note = f"{f.label_in(lang)}\n{ROLE_LABELS[f.role][lang]}{' · required' if f.required else ''}\n{f.description}"
            cell.comment = Comment(note[:1000], "ctdc")
            ws.column_dimensions[letter].width = max(14, len(f.name) + 3)
            if f.type in ("code", "codes", "string"):
                ws.column_dimensions[letter].number_format = "@"
            elif f.type == "date":
                ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
            dv = _validation(f, ranges)
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
            ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    wb.save(path)
