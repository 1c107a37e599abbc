"""The resilience suite's figures (issue 18): each test adds what it tried and saw; a table at the end of the run.

A test asks for the `figures` fixture and calls it with counts: `figures(cases=1, rows_lost=0, server_errors=0)`.
Its module's `ITEM` names the row (one per Build item of issue 18). A failed test counts under `failures`. The
table is printed after any run that collected figures (`make test` and `make resilience` alike) and, when
CTDC_RESILIENCE_REPORT names a file, written there as JSON for `benchmarks/resilience.py` to merge with the load
benchmark's figures.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest

COLUMNS = ("cases", "failures", "rows_lost", "server_errors", "leaks")

_FIGURES: dict[str, Counter] = defaultdict(Counter)


def _item(node) -> str | None:
    module = getattr(node, "module", None)
    return getattr(module, "ITEM", None)


@pytest.fixture
def figures(request):
    """Add counts to this test's row of the summary table."""
    item = _item(request.node) or "other"

    def add(**counts: int) -> None:
        _FIGURES[item].update(counts)

    return add


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        _FIGURES[_item(item) or "other"]["failures"] += 1
    return report


def table(rows: dict[str, dict]) -> str:
    """The summary table, one row per item, totals last."""
    head = f"{'item':<32}" + "".join(f"{c:>14}" for c in COLUMNS)
    lines = [head, "-" * len(head)]
    total: Counter = Counter()
    for item in sorted(rows):
        total.update({c: rows[item].get(c, 0) for c in COLUMNS})
        lines.append(f"{item:<32}" + "".join(f"{rows[item].get(c, 0):>14}" for c in COLUMNS))
    lines.append(f"{'total':<32}" + "".join(f"{total[c]:>14}" for c in COLUMNS))
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter) -> None:
    if not _FIGURES:
        return
    rows = {item: dict(counts) for item, counts in _FIGURES.items()}
    terminalreporter.write_sep("=", "resilience figures (issue 18)")
    terminalreporter.write_line(table(rows))
    out = os.environ.get("CTDC_RESILIENCE_REPORT")
    if out:
        Path(out).write_text(json.dumps(rows, indent=1, sort_keys=True))
