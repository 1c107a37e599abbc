"""A source's own rules: what a published layout needs beyond column mapping (one module per source).

A mapping spec names its source with `source: <module>`; the intake pipeline then calls the module's
`apply(ctx: SourceContext)` once the mapped columns are typed and before the required-field checks. A rule may
read the raw and typed columns, derive fields, flag cells (each flag a reported problem of a stable code, see
`ctdc.ingest.problems.PROBLEMS`), set file-level constants and add file-level notes to the report. It never
drops a row: rows leave only as accepted, quarantined or duplicate, counted by the pipeline.

NOTE: pure Python, like all of ctdc.ingest: never import Django here.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl

from ctdc.ingest import problems


@dataclass
class SourceContext:
    builder: Any                                 # the pipeline's builder: its `frame` and `flag`
    column: Callable[[str], str | None]          # source column name -> its column in `frame` (None: absent)
    path: Path
    preamble: tuple[tuple[str, ...], ...]        # rows above the header, as read
    first_data_row: int
    constants: dict[str, Any] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)

    @property
    def frame(self) -> pl.DataFrame:
        """Raw columns (prefixed `src:`), typed fields and `row`."""
        return self.builder.frame

    @frame.setter
    def frame(self, value: pl.DataFrame) -> None:
        self.builder.frame = value

    def flag(self, bad: pl.Expr, column: str, field_name: str, code: str, expected: str = "",
             severity: str | None = None) -> None:
        """Report `code` on every row where `bad` holds, at `column` (a frame column), for `field_name`. Its
        severity is the registry's (`ctdc.ingest.problems`); a different one given here is refused."""
        self.builder.flag(bad, column, field_name, code, column, expected, severity)

    def note(self, code: str, **context: str | int) -> None:
        """A fact about the whole file (its title rows, its stored dimension), reported once; its message is the
        registry's (`ctdc.ingest.problems.NOTES`), worded from `context`."""
        self.notes.append(problems.note(code, **context))


def source_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load_source(name: str) -> ModuleType:
    return import_module(f"{__name__}.{name}")
