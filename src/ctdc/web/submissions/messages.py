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

from django.utils.translation import gettext as _

from ctdc.errors import CtdcError, IngestError, MappingNeeded, NotATable
from ctdc.standard import load_standard


def _label(field: str) -> str:
    names = load_standard().dataset("victims").field_names
    return load_standard().dataset("victims").field(field).label if field in names else field.replace("_", " ")


def for_people(exc: CtdcError, *, filename: str = "") -> str:
    """The message the intake pages show for `exc` (a complete sentence or two), in the active language."""
    x = exc.extra
    words = {"file": filename or x.get("file") or _("The file"), "preset": x.get("preset"),
             "mapping": x.get("mapping"), "delimiter": x.get("delimiter"), "sheet": x.get("sheet"),
             "row": x.get("row"), "encoding": x.get("encoding"), "mapping_dataset": x.get("mapping_dataset"),
             "dataset": x.get("dataset")}
    reason = x.get("reason", "")
    if isinstance(exc, NotATable):
        return _("%(file)s looks like %(looks_like)s, not a spreadsheet. Upload your case records as an Excel "
                 "workbook (.xlsx) or a CSV file; the Codebook page has a template with the expected columns.") % {
            **words, "looks_like": x.get("looks_like") or _("a binary file")}
    if isinstance(exc, MappingNeeded):
        missed = x.get("missed") or []
        if missed:
            listed = "; ".join(f"“{m['column']}” ({_label(m['field'])})" for m in missed)
            return _("Some columns of %(file)s look like fields of the standard, but the closest ready-made mapping, "
                     "“%(preset)s”, would leave them out: %(listed)s. Check the mapping suggested from your file's "
                     "columns and values, save it, then process the file again with it (nothing was imported "
                     "meanwhile).") % {**words, "listed": listed}
        return _("The closest ready-made mapping, “%(preset)s”, reads only %(coverage)s of the columns of %(file)s "
                 "that hold fields of the standard: the rest would be left out. Check the mapping suggested from "
                 "your file's columns and values, save it, then process the file again with it (nothing was "
                 "imported meanwhile).") % {**words, "coverage": f"{x.get('coverage', 0):.0%}"}
    if reason == "no-preset-matches":
        return _("The columns of %(file)s match none of the ready-made mappings. Have a mapping suggested from its "
                 "columns and values, check it and save it, then process the file again with it (nothing was "
                 "imported meanwhile).") % words
    if reason == "missing-required-column":
        return _("No column of %(file)s is mapped to the registration year or date, which every record needs. In "
                 "the mapping, map the column that holds it to registration_year (or registration_date), then "
                 "process the file again with it (nothing was imported meanwhile).") % words
    if reason == "no-mapped-columns":
        return _("None of the columns that the mapping “%(mapping)s” expects are in %(file)s. Choose the mapping "
                 "made for this file, or have one suggested from its columns, then process the file again with it "
                 "(nothing was imported meanwhile).") % words
    if reason == "empty":
        return _("%(file)s is empty: it has no row of column names. Upload the file with its column names in "
                 "row 1.") % words
    if reason == "not-text":
        return _("%(file)s is not a text (CSV) file. Upload your case records as an Excel workbook (.xlsx) or a CSV "
                 "file.") % words
    if reason == "bad-csv":
        return _("%(file)s could not be read as a CSV file: its rows do not split into the same columns (separator "
                 "“%(delimiter)s”). Save it again as CSV from your spreadsheet program, or upload the Excel "
                 "workbook itself.") % words
    if reason == "bad-spreadsheet":
        return _("%(file)s has a spreadsheet's name but could not be opened as a spreadsheet. Save it again as "
                 ".xlsx from your spreadsheet program, or upload it as CSV.") % words
    if reason == "no-sheet":
        sheets = ", ".join(f"“{s}”" for s in x.get("sheets", []))
        return _("%(file)s has no sheet named “%(sheet)s”, which the mapping asks for; its sheets are %(sheets)s. "
                 "Change the sheet in the mapping (reader: sheet), then process the file again with it (nothing "
                 "was imported meanwhile).") % {**words, "sheets": sheets}
    if reason == "no-header":
        return _("%(file)s: no row of column names was found at row %(row)s of sheet “%(sheet)s”. Set the right "
                 "header row in the mapping (reader: header_row), then process the file again with it (nothing "
                 "was imported meanwhile).") % words
    if reason == "bad-encoding":
        return _("%(file)s is not valid %(encoding)s text, as the mapping says. Remove the encoding line from the "
                 "mapping (it is then detected) or correct it, then process the file again with it (nothing was "
                 "imported meanwhile).") % words
    if reason == "wrong-dataset":
        return _("The mapping is for the dataset “%(mapping_dataset)s”, but this submission is for "
                 "“%(dataset)s”. Choose a mapping for %(dataset)s and process the file again.") % words
    # Anything else, an unexpected error included, is already worded for people (names no option, quotes no cell).
    return exc.message


def _error_class(code: str, extra: dict) -> type[CtdcError] | None:
    """The error type of the core a stored code stands for: the class nearest the root that has it (a subclass
    may keep its parent's code), NotATable told from other ingest errors by what it records."""
    if code == IngestError.code and "looks_like" in extra:
        return NotATable
    pending = [CtdcError]
    while pending:
        cls = pending.pop(0)
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def stored_for_people(*, message: str, code: str, extra: dict, filename: str) -> str:
    """A submission's stored failure (`error`, `error_code`, `error_extra`) worded again in the active language:
    the stored message was written in the worker, which has no reader and so no language. An error with no
    wording of its own here keeps the stored message."""
    extra = dict(extra or {})
    cls = _error_class(code, extra)
    if cls is None:
        return message
    return for_people(cls(message, extra), filename=filename)
