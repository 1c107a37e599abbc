"""Errors of the core in words for the intake pages: what happened and what to do, in the page's own terms.

The core's messages are written for the command line (they name options such as --mapping and --preset). The
pages say the same thing in terms of what the person sees there (the mapping editor, the "Process again" button),
chosen by the error's type and its `extra["reason"]`; the stable code and `extra` stay as they are on the
submission (`error_code`, `error_extra`) and in every JSON output.

>>> from ctdc.errors import NotATable
>>> for_people(NotATable("x", {"file": "cases.pdf", "looks_like": "a PDF document"}))
'cases.pdf looks like a PDF document, not a spreadsheet. Upload your case records as an Excel workbook (.xlsx) or a CSV file; the Codebook page has a template with the expected columns.'
"""

from __future__ import annotations

from ctdc.errors import CtdcError, MappingNeeded, NotATable
from ctdc.standard import load_standard

_AGAIN = "then process the file again with it (nothing was imported meanwhile)"


def _label(field: str) -> str:
    names = load_standard().dataset("victims").field_names
    return load_standard().dataset("victims").field(field).label if field in names else field.replace("_", " ")


def for_people(exc: CtdcError, *, filename: str = "") -> str:
    """The message the intake pages show for `exc` (a complete sentence or two)."""
    x = exc.extra
    file = filename or x.get("file") or "The file"
    reason = x.get("reason", "")
    if isinstance(exc, NotATable):
        return (f"{file} looks like {x.get('looks_like', 'a binary file')}, not a spreadsheet. Upload your case "
                "records as an Excel workbook (.xlsx) or a CSV file; the Codebook page has a template with the "
                "expected columns.")
    if isinstance(exc, MappingNeeded):
        missed = x.get("missed") or []
        if missed:
            listed = "; ".join(f"“{m['column']}” ({_label(m['field'])})" for m in missed)
            what = (f"Some columns of {file} look like fields of the standard, but the closest ready-made mapping, "
                    f"“{x.get('preset')}”, would leave them out: {listed}.")
        else:
            what = (f"The closest ready-made mapping, “{x.get('preset')}”, reads only {x.get('coverage', 0):.0%} of "
                    f"the columns of {file} that hold fields of the standard: the rest would be left out.")
        return f"{what} Check the mapping suggested from your file's columns and values, save it, {_AGAIN}."
    if reason == "no-preset-matches":
        return (f"The columns of {file} match none of the ready-made mappings. Have a mapping suggested from its "
                f"columns and values, check it and save it, {_AGAIN}.")
    if reason == "missing-required-column":
        return (f"No column of {file} is mapped to the registration year or date, which every record needs. In the "
                f"mapping, map the column that holds it to registration_year (or registration_date), {_AGAIN}.")
    if reason == "no-mapped-columns":
        return (f"None of the columns that the mapping “{x.get('mapping')}” expects are in {file}. Choose the "
                f"mapping made for this file, or have one suggested from its columns, {_AGAIN}.")
    if reason == "empty":
        return f"{file} is empty: it has no row of column names. Upload the file with its column names in row 1."
    if reason == "not-text":
        return (f"{file} is not a text (CSV) file. Upload your case records as an Excel workbook (.xlsx) or a CSV "
                "file.")
    if reason == "bad-csv":
        return (f"{file} could not be read as a CSV file: its rows do not split into the same columns (separator "
                f"“{x.get('delimiter')}”). Save it again as CSV from your spreadsheet program, or upload the Excel "
                "workbook itself.")
    if reason == "bad-spreadsheet":
        return (f"{file} has a spreadsheet's name but could not be opened as a spreadsheet. Save it again as .xlsx "
                "from your spreadsheet program, or upload it as CSV.")
    if reason == "no-sheet":
        sheets = ", ".join(f"“{s}”" for s in x.get("sheets", []))
        return (f"{file} has no sheet named “{x.get('sheet')}”, which the mapping asks for; its sheets are "
                f"{sheets}. Change the sheet in the mapping (reader: sheet), {_AGAIN}.")
    if reason == "no-header":
        return (f"{file}: no row of column names was found at row {x.get('row')} of sheet “{x.get('sheet')}”. "
                f"Set the right header row in the mapping (reader: header_row), {_AGAIN}.")
    if reason == "bad-encoding":
        return (f"{file} is not valid {x.get('encoding')} text, as the mapping says. Remove the encoding line "
                f"from the mapping (it is then detected) or correct it, {_AGAIN}.")
    if reason == "wrong-dataset":
        return (f"The mapping is for the dataset “{x.get('mapping_dataset')}”, but this submission is for "
                f"“{x.get('dataset')}”. Choose a mapping for {x.get('dataset')} and process the file again.")
    # Anything else, an unexpected error included, is already worded for people (names no option, quotes no cell).
    return exc.message
