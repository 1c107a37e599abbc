"""Server-side SVG charts: no JavaScript and nothing fetched at run time, so pages work offline and under a
strict Content-Security-Policy. Colours are SVG presentation attributes, which the CSP does not restrict.

>>> bars = bar_chart([("Forced labour", 120), ("Sexual exploitation", 80)])
>>> bars.height, bars.rows[0].width
(64, 100.0)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float  # percent of the longest bar


@dataclass(frozen=True)
class BarChart:
    rows: list[Bar]
    height: int


def bar_chart(items: list[tuple[str, int]], row_height: int = 32) -> BarChart:
    top = max((v for _, v in items), default=0) or 1
    rows = [Bar(label, value, i * row_height, round(100 * value / top, 1)) for i, (label, value) in enumerate(items)]
    return BarChart(rows, row_height * len(rows))
