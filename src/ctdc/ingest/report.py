"""Validation reports: every problem of a submission as data, not exceptions.

Each problem has a stable kebab-case `code` (never renamed once released; see docs/ingest.md), a severity, the
file row (1-based, as a spreadsheet shows it), the source column, the target field, the offending value (never
for a direct identifier) and a message a data steward can act on.

>>> r = ValidationReport.from_problems(problems_frame([]), rows_read=3, accepted=3, quarantined=0, duplicates=0)
>>> r.valid, r.stats["rows_read"]
(True, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

# code -> (title, description). Codes are part of our public interface.
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "unknown-code": ("Unknown code", "The value is not in the field's code list nor in the mapping's values."),
    "unknown-country": ("Unknown country", "The value is not a country code or a country name we recognise."),
    "bad-date": ("Bad date", "The value is not a valid date in any accepted format."),
    "not-a-number": ("Not a number", "The value should be a number (a whole number where the field counts something)."),
    "out-of-range": ("Out of range", "The number is outside the range the standard allows."),
    "impossible-age": ("Impossible age", "The age is negative or implausibly high (birth date after registration?)."),
    "missing-required": ("Missing required value", "The standard requires this field on every record."),
    "duplicate-record-id": ("Duplicate record id", "An earlier row of the same file has the same record id."),
    "inconsistent-majority": ("Inconsistent majority status",
                              "The age band and the majority status contradict each other (a 9-17 band is a minor)."),
    "flags-text-disagree": ("Flags and text disagree",
                            "The text column lists other values than the flag columns set; the flags were used."),
    # Published aggregates (issue 17; the GLOTIP preset's rules are in ctdc.ingest.sources.unodc_glotip).
    "censored-value": ("Censored value", "The source gives an interval (GLOTIP '<5': 1 to 4, a year bin '2005-2013'), "
                                         "not a number; kept as that interval, flagged as censored."),
    "thousands-separator": ("Thousands separator", "A number written with a thousands separator, read whole."),
    "conflicting-values": ("Conflicting values", "Rows with the same key hold different values; none is imported."),
    "duplicate-row": ("Duplicate row", "An exact copy of an earlier row of the same file; not imported again."),
    "not-a-country": ("Not a country", "A region, a group or a list of places where one reporting country is "
                                       "expected (a regional aggregate)."),
    "country-mismatch": ("Country mismatch", "The country name and the ISO code of the row name different countries."),
    "country-from-name": ("Country read from its name", "The row has no ISO code; its country name was read."),
    "category-read-as": ("Category read as a country", "A demonym, another language's name, a decorated form or a "
                                                       "listed spelling, read as one country."),
    "encoding-damage": ("Encoding damage", "Characters lost to a wrong text encoding (U+FFFD); the text matched "
                                           "one country with each lost character as a wildcard."),
    "own-nationals": ("Own nationals", "'Nationals' or 'own country': read as the reporting country."),
    "subtotal-category": ("Subtotal category", "A subtotal among the categories ('TOTAL'): never added to the "
                                               "others."),
    "unmapped-category": ("Unmapped category", "The category names no single country (or form of exploitation): "
                                               "kept as published, not mapped, never guessed."),
    # Linked dataset types (issue 17): the public CTDC victim-perpetrator file, perpetrators, links.
    "exact-copy-row": ("Exact copy kept", "In a layout where copies are distinct records (synthetic data), a row "
                                          "equal to an earlier one: kept as its own record."),
    "condensed-values": ("Condensed values", "A cell joins several perpetrators' values: kept as one condensed "
                                             "record listing them all, never paired by guess."),
    "unknown-reference": ("Unknown reference", "A reference to a case or perpetrator neither in the repository nor "
                                               "in the file: held back."),
    "unconvertible-amount": ("Unconvertible amount", "A fee in a currency or year the shipped exchange rates "
                                                     "and deflator do not cover: kept as given, never converted "
                                                     "by guess."),
    "implausible-value": ("Implausible value", "Far above the country's own totals (a questionnaire cell reference "
                                               "leaked in as a number): held back for a steward, never published."),
}
PROBLEM_SCHEMA = {
    "row": pl.Int64, "column": pl.String, "field": pl.String, "code": pl.String, "severity": pl.String,
    "value": pl.String, "message": pl.String,
}


def problems_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=PROBLEM_SCHEMA)


@dataclass(frozen=True)
class ValidationReport:
    """What a submission looked like: `valid` is true when no row was quarantined."""

    valid: bool
    stats: dict[str, Any]
    problems: pl.DataFrame = field(repr=False)

    @classmethod
    def from_problems(cls, problems: pl.DataFrame, *, rows_read: int, accepted: int, quarantined: int,
                      duplicates: int) -> ValidationReport:
        errors = problems.filter(pl.col("severity") == "error")
        by_rule = dict(problems.group_by("code").len().sort("code").iter_rows()) if problems.height else {}
        by_field = dict(problems.group_by("field").len().sort("field").iter_rows()) if problems.height else {}
        stats = {
            "rows_read": rows_read, "accepted": accepted, "quarantined": quarantined, "duplicates": duplicates,
            "errors": errors.height, "warnings": problems.height - errors.height,
            "errors_by_rule": by_rule, "problems_by_field": by_field,
        }
        return cls(valid=quarantined == 0, stats=stats, problems=problems)

    def flatten(self) -> list[tuple[int, str, str]]:
        """(row, column, code) triples: one list a test compares in one assert."""
        return [tuple(r) for r in self.problems.select("row", "column", "code").sort("row", "column").iter_rows()]

    def as_dict(self) -> dict[str, Any]:
        """Frictionless-style report: valid, stats, errors (each with type, title, description, note)."""
        errors = []
        for p in self.problems.sort("row").iter_rows(named=True):
            title, description = PROBLEM_TYPES.get(p["code"], (p["code"], ""))
            errors.append({"type": p["code"], "title": title, "description": description, "severity": p["severity"],
                           "rowNumber": p["row"], "fieldName": p["column"], "field": p["field"],
                           "cell": p["value"], "message": p["message"]})
        return {"valid": self.valid, "stats": self.stats, "errors": errors}
