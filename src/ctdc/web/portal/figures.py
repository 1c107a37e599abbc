"""The protected counts of one release, indexed for the portal and the public aggregates API.

Every number the portal shows comes from here, and only from the release's `aggregates.csv` (the protected
counts of every combination of up to L values; see `ctdc.privacy.aggregates`). Nothing is recomputed from
microdata or from the central repository. Pages and the API call the same `AggregateIndex.query`, so they can
never disagree.

Rules (the privacy contract of the portal, tested in tests/web/test_figures.py):

- A count is shown only if it is at least the release's *display threshold* T: its `k`, raised to the next
  multiple of the rounding resolution for k-rounded counts (a published 10 with k=11, resolution 10 stands for
  11..19 records, so "fewer than 20" is true of every hidden cell, and "fewer than 11" would not be). Anything
  lower, or absent from the file, is "fewer than T".
- A question may combine at most L values: the chart's dimension(s) plus the filters (a year range counts as
  one) must fit in the release's reporting length. Longer questions raise `FigureQueryError`: the release has no
  protected count for them, and adding shorter counts up cannot make one.
- A year range adds up the counts of the years in it. Each term is a published count, so the sum is
  post-processing of published figures; a term that is hidden adds nothing, and the row says so (`partial`).

Multi-valued fields (exploitation types, labour sectors, means of control, recruiter relations, methods of
recruitment, websites and apps of recruitment and of exploitation) are released as one flag column per code (`exploitation_types__forced_labour:1`): "by exploitation type" is one count per flag.

NOTE: no Django here; `ctdc.web.portal.selectors` finds the release and caches one index per release version.

>>> csv = b'combination,length,count,protection\\n"",0,500,k-rounding k=11 resolution=10\\n' \\
...       b'gender:female,1,300,x\\ngender:male,1,190,x\\ngender:female;registration_year:2020,2,10,x\\n' \\
...       b'registration_year:2020,1,40,x\\nregistration_year:2019,1,30,x\\n'
>>> ix = AggregateIndex.from_csv(csv, version="2026.01.1", k=11)
>>> ix.threshold, ix.length
(20, 2)
>>> [(r.values, r.count) for r in ix.query(by=("gender",)).rows]
[(('female',), 300), (('male',), 190)]
>>> [(r.values, r.count) for r in ix.query(by=("gender",), year_from=2020).rows]
[(('female',), None), (('male',), None)]
>>> ix.query(by=("gender",), filters={"age_band": "18-20"}, year_to=2019)
Traceback (most recent call last):
...
ctdc.web.portal.figures.FigureQueryError: This release publishes counts of combinations of at most 2 values; this question combines 3. Remove a filter (a year range counts as one).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from itertools import product

import polars as pl

from ctdc.errors import CtdcError

# The dimensions the portal filters and charts by, in the order it shows them.
DIMENSIONS = ("registration_year", "gender", "age_band", "citizenship", "country_of_exploitation",
              "exploitation_types", "labour_sectors", "means_of_control", "recruiter_relations",
              "recruitment_methods", "recruitment_platforms", "exploitation_platforms")
MULTI = frozenset({"exploitation_types", "labour_sectors", "means_of_control", "recruiter_relations",
                   "recruitment_methods", "recruitment_platforms", "exploitation_platforms"})
YEAR = "registration_year"
FLAG_SEP = "__"
SUPPRESSED = "*"  # a generalized (k-anonymity) value: not a category, never shown as one
_SPAN = re.compile(r"^(\d{4})(?:-(\d{4}))?$")
_RESOLUTION = re.compile(r"resolution=(\d+)")


class FigureQueryError(CtdcError):
    """A question the release has no protected answer for (too many filters, unknown dimension or value)."""

    code = "invalid-figure-query"


@dataclass(frozen=True)
class Row:
    values: tuple[str, ...]  # one value per `by` dimension
    count: int | None  # None: fewer than the threshold (never a small number)
    partial: bool = False  # a year range where some years' counts are hidden (the sum leaves them out)

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Figures:
    """The answer to one question: rows by the `by` dimensions under `filters` and a year range."""

    version: str
    by: tuple[str, ...]
    filters: tuple[tuple[str, str], ...]
    year_from: int | None
    year_to: int | None
    threshold: int
    rows: list[Row]
    total: Row  # the count of the filtered population itself (no `by`)
    hidden_cells: int = 0  # for two `by` dimensions: combinations not listed because they are below the threshold


def _span(value: str) -> tuple[int, int] | None:
    m = _SPAN.match(value)
    if not m:
        return None
    lo = int(m.group(1))
    return lo, int(m.group(2) or lo)


@dataclass
class AggregateIndex:
    """Counts keyed by their sorted column tuple, then by their values; plus each dimension's published values."""

    version: str
    k: int
    resolution: int
    length: int
    total_count: int
    cells: dict[tuple[str, ...], dict[tuple[str, ...], int]]
    domains: dict[str, tuple[str, ...]]
    _shapes: dict = field(default_factory=dict, repr=False)

    # --- loading -----------------------------------------------------------------------------------------------
    @classmethod
    def from_csv(cls, data: bytes, *, version: str, k: int) -> AggregateIndex:
        frame = pl.read_csv(io.BytesIO(data), schema_overrides={"combination": pl.String, "length": pl.Int64,
                                                                "count": pl.Int64}, infer_schema=False)
        protection = frame["protection"][0] if "protection" in frame.columns and frame.height else ""
        m = _RESOLUTION.search(protection or "")
        resolution = int(m.group(1)) if m and protection.startswith("k-rounding") else 1
        combos = frame["combination"].fill_null("").to_list()
        counts = frame["count"].to_list()
        total = 0
        cells: dict[tuple[str, ...], dict[tuple[str, ...], int]] = {}
        for combo, count in zip(combos, counts, strict=True):
            if not combo:
                total = int(count)
                continue
            pairs = sorted(p.split(":", 1) for p in combo.split(";"))
            if any(v == SUPPRESSED for _, v in pairs):
                continue  # a generalized value is not a category: no question can ask for it
            cells.setdefault(tuple(c for c, _ in pairs), {})[tuple(v for _, v in pairs)] = int(count)
        length = max((len(c) for c in cells), default=1)
        domains = cls._domains(cells)
        return cls(version, k, resolution, length, total, cells, domains)

    @staticmethod
    def _domains(cells) -> dict[str, tuple[str, ...]]:
        one_way = {cols[0]: vals for cols, vals in cells.items() if len(cols) == 1}
        out: dict[str, tuple[str, ...]] = {}
        for dim in DIMENSIONS:
            if dim in MULTI:
                prefix = dim + FLAG_SEP
                out[dim] = tuple(sorted((c[len(prefix):] for c in one_way if c.startswith(prefix)),
                                        key=lambda code: -one_way[prefix + code].get(("1",), 0)))
            elif dim == YEAR:
                out[dim] = tuple(sorted((v[0] for v in one_way.get(dim, {}) if _span(v[0])),
                                        key=lambda v: _span(v)))
            else:
                vals = one_way.get(dim, {})
                out[dim] = tuple(v[0] for v in sorted(vals, key=lambda v: (-vals[v], v[0])))
        return out

    def __repr__(self) -> str:
        return f"AggregateIndex({self.version}, L={self.length}, T={self.threshold}, {len(self.cells)} column sets)"

    @property
    def threshold(self) -> int:
        """T: the smallest count ever shown (k, up to the next multiple of the rounding resolution)."""
        r = max(1, self.resolution)
        return -(-self.k // r) * r

    @property
    def max_filters(self) -> int:
        """Filters a one-dimension chart may carry: L - 1."""
        return self.length - 1

    def years(self) -> tuple[int, int] | None:
        spans = [_span(v) for v in self.domains[YEAR]]
        return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None

    # --- questions -----------------------------------------------------------------------------------------------
    def _slot(self, dim: str, value: str) -> tuple[str, str]:
        """The (column, value) pair of `dim = value` in the aggregates."""
        return (f"{dim}{FLAG_SEP}{value}", "1") if dim in MULTI else (dim, value)

    def _year_values(self, year_from: int | None, year_to: int | None) -> list[str] | None:
        """Registration year values inside the range; None when the range covers every year (no filter)."""
        if year_from is None and year_to is None:
            return None
        lo, hi = year_from if year_from is not None else -10**9, year_to if year_to is not None else 10**9
        if lo > hi:
            raise FigureQueryError(f"The year range {year_from}–{year_to} is empty.",
                                   {"year_from": year_from, "year_to": year_to})
        inside = [v for v in self.domains[YEAR] if lo <= _span(v)[0] and _span(v)[1] <= hi]
        return None if len(inside) == len(self.domains[YEAR]) else inside

    def dimensions_used(self, by: tuple[str, ...], filters: dict[str, str], years: bool) -> int:
        shared = sum(1 for d in by if d in filters and d not in MULTI)
        return len(by) + len(filters) + int(years) - shared

    def _check(self, by: tuple[str, ...], filters: dict[str, str], years: bool) -> None:
        for dim in (*by, *filters):
            if dim not in DIMENSIONS:
                raise FigureQueryError(f"'{dim}' is not a dimension of the portal. Known: {', '.join(DIMENSIONS)}.",
                                       {"dimension": dim})
        if len(by) > 2 or len(set(by)) != len(by):
            raise FigureQueryError("Ask for one or two different dimensions in 'by'.", {"by": list(by)})
        if YEAR in filters:
            raise FigureQueryError("Filter registration years with year_from and year_to.", {})
        used = self.dimensions_used(by, filters, years)
        if used > self.length:
            raise FigureQueryError(
                f"This release publishes counts of combinations of at most {self.length} values; this question "
                f"combines {used}. Remove a filter (a year range counts as one).",
                {"length": self.length, "used": used})

    def _lookup(self, by_slots: list[tuple[str, str | None]], fixed: list[tuple[str, str]]) -> dict:
        """{by values: count} for `by_slots` ((column, value or None for any)) under the `fixed` pairs."""
        fixed_d = dict(fixed)
        for col, val in by_slots:  # a chart column that is also a filter: only the filtered value can appear
            if col in fixed_d and val is not None and val != fixed_d[col]:
                return {}
        cols = tuple(sorted({c for c, _ in by_slots} | set(fixed_d)))
        free = tuple(c for c, v in by_slots if v is None and c not in fixed_d)
        key = (cols, free)
        shape = self._shapes.get(key)
        if shape is None:
            shape = {}
            pos_free = [cols.index(c) for c in free]
            pos_fixed = [i for i, c in enumerate(cols) if c not in free]
            for vals, count in self.cells.get(cols, {}).items():
                inner = shape.setdefault(tuple(vals[i] for i in pos_fixed), {})
                inner[tuple(vals[i] for i in pos_free)] = count
            self._shapes[key] = shape  # a benign race: two threads may build the same shape once each
        fixed_vals = {**fixed_d, **{c: v for c, v in by_slots if v is not None}}
        found = shape.get(tuple(fixed_vals[c] for c in cols if c not in free), {})
        if not free:
            return {(): found[()]} if () in found else {}
        return found

    def query(self, *, by: tuple[str, ...] = (), filters: dict[str, str] | None = None,
              year_from: int | None = None, year_to: int | None = None) -> Figures:
        filters = dict(filters or {})
        by = tuple(by)
        year_values = self._year_values(year_from, year_to)
        # A chart by year under a year range shows the years of the range; no sum, and no extra value combined.
        years_by = YEAR in by and year_values is not None
        self._check(by, filters, year_values is not None and not years_by)
        t = self.threshold
        fixed = sorted(self._slot(d, v) for d, v in filters.items())
        total_alts = [[]] if year_values is None else [[(YEAR, y)] for y in year_values]
        row_alts = [[]] if years_by else total_alts

        def sums(slot_sets, alternatives) -> dict[tuple[str, ...], list[int]]:
            """{values: [sum, terms]} over the year alternatives; a term below the threshold is never added in."""
            acc: dict[tuple[str, ...], list[int]] = {}
            for labels, slots in slot_sets:
                free_dims = [i for i, (_, v) in enumerate(slots) if v is None]
                for alt in alternatives:
                    for vals, count in self._lookup(slots, fixed + alt).items():
                        if count < t:
                            continue
                        full = list(labels)
                        for i, v in zip(free_dims, vals, strict=True):
                            full[i] = v
                        entry = acc.setdefault(tuple(full), [0, 0])
                        entry[0] += count
                        entry[1] += 1
            return acc

        def row(values: tuple[str, ...], entry: list[int] | None, alternatives) -> Row:
            if not entry or entry[0] < t:
                return Row(values, None)
            return Row(values, entry[0], partial=entry[1] < len(alternatives))

        if fixed or year_values is not None:
            total = row((), sums([((), [])], total_alts).get(()), total_alts)
        else:
            total = row((), [self.total_count, 1], [[]])
        slot_sets = []
        for choice in product(*[self._choices(d, filters) for d in by]):
            labels = tuple(lbl if lbl is not None else "" for lbl, _ in choice)
            slot_sets.append((labels, [slot for _, slot in choice]))
        acc = sums(slot_sets, row_alts) if by and row_alts else {}
        in_range = set(year_values) if years_by else None
        keep = (lambda v: True) if in_range is None else (lambda v: v[by.index(YEAR)] in in_range)
        hidden = 0
        if len(by) == 1:
            rows = [row(v, acc.get(v), row_alts) for v in self._grid(by) if keep(v)]
        else:
            rows = [row(v, e, row_alts) for v, e in sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))
                    if keep(v)]
            cells = 1
            for d in by:
                cells *= len(in_range) if d == YEAR and in_range is not None else len(self.domains[d])
            hidden = max(0, cells - len(rows)) if by else 0
        return Figures(self.version, by, tuple(sorted(filters.items())), year_from, year_to, t, rows, total, hidden)

    def _choices(self, dim: str, filters: dict[str, str]) -> list[tuple[str | None, tuple[str, str | None]]]:
        """How a chart dimension reads the aggregates: one free column, or one fixed flag column per code (or,
        when the chart's dimension is also filtered, the filtered value alone)."""
        if dim in MULTI:
            return [(code, (f"{dim}{FLAG_SEP}{code}", "1")) for code in self.domains[dim]]
        if dim in filters:
            return [(filters[dim], (dim, filters[dim]))]
        return [(None, (dim, None))]

    def _grid(self, by: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [(v,) for v in self.domains[by[0]]]
