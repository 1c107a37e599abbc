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

from ctdc.ingest.problems import PROBLEMS

# code -> (title, description), from the registry (`ctdc.ingest.problems`). Codes are part of our public interface.
PROBLEM_TYPES: dict[str, tuple[str, str]] = {code: (t.title, t.description) for code, t in PROBLEMS.items()}
PROBLEM_SCHEMA = {
    "row": pl.Int64, "column": pl.String, "field": pl.String, "code": pl.String, "severity": pl.String,
    "value": pl.String, "message": pl.String,
    # What the flag expected (the registry's context for the message): the web pages word the message again from
    # it in the reader's language. Not in report.json, whose messages are English.
    "expected": pl.String,
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
