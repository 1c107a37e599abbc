"""What the portal's pages ask the release, and the charts they draw from the answers.

A `Question` is the filter state of a page, read from (and written back to) its URL: one value per filter
dimension and a registration-year range. Each chart of a page asks `portal_figures` for its own dimension under
the question's filters *minus its own* (cross-filtering, as in the Synthetic Data Showcase explorer: a chart
highlights its selected value instead of collapsing to it). A page never holds more than L-1 filters, so every
chart's question fits in the release's reporting length.

Charts carry the rows the page shows (and the download and the API return): value, label, count or "fewer than T".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pycountry
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ctdc.web.portal.figures import DIMENSIONS, YEAR, FigureQueryError, Figures
from ctdc.web.portal.labels import dimension_label, value_label
from ctdc.web.portal.selectors import PortalRelease, portal_figures

FILTER_DIMS = tuple(d for d in DIMENSIONS if d != YEAR)
COUNTRY_DIMS = ("citizenship", "country_of_exploitation")
TOP = 15  # bars drawn for a long dimension (the table lists every value)


@dataclass
class Question:
    filters: dict[str, str] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    problems: list[str] = field(default_factory=list)

    def params(self, **changes) -> dict[str, str]:
        """The URL parameters of this question with some changed (a value of None removes that parameter)."""
        out = {d: v for d, v in self.filters.items()}
        if self.year_from is not None:
            out["year_from"] = str(self.year_from)
        if self.year_to is not None:
            out["year_to"] = str(self.year_to)
        for k, v in changes.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = str(v)
        return {k: out[k] for k in (*FILTER_DIMS, "year_from", "year_to") if k in out}

    def query_string(self, **changes) -> str:
        params = self.params(**changes)
        return ("?" + urlencode(params)) if params else "?"

    def without(self, dim: str) -> tuple[dict[str, str], int | None, int | None]:
        """The filters a chart of `dim` uses: all but its own."""
        if dim == YEAR:
            return dict(self.filters), None, None
        return {d: v for d, v in self.filters.items() if d != dim}, self.year_from, self.year_to

    def slots(self, pr: PortalRelease) -> int:
        """Filters in use, a year range that narrows the release's years counting as one."""
        years = pr.index._year_values(self.year_from, self.year_to) if self._range_ok() else None
        return len(self.filters) + int(years is not None)

    def _range_ok(self) -> bool:
        return self.year_from is None or self.year_to is None or self.year_from <= self.year_to


def _int(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 4 else ValueError


def parse_question(params, pr: PortalRelease | None, *, fixed: dict[str, str] | None = None) -> Question:
    """The question in a page's URL. Unknown values are dropped with a message (never a 500, never a 404)."""
    q = Question(filters=dict(fixed or {}))
    for dim in FILTER_DIMS:
        value = (params.get(dim) or "").strip()
        if not value or dim in q.filters:
            continue
        if pr is not None and value not in pr.index.domains[dim]:
            q.problems.append(_("%(dim)s “%(value)s” has no published count in this release; the filter was "
                                "dropped.") % {"dim": dimension_label(dim), "value": value[:40]})
            continue
        q.filters[dim] = value
    for name in ("year_from", "year_to"):
        v = _int(params.get(name))
        if v is ValueError:
            q.problems.append(_("%(name)s must be a year such as 2019; it was ignored.") % {"name": name})
        else:
            setattr(q, name, v)
    if not q._range_ok():
        q.problems.append(_("The year range ends before it starts; it was ignored."))
        q.year_from = q.year_to = None
    return q


def fmt(n: int) -> str:
    return number_format(n, force_grouping=True)


def suppressed_text(threshold: int) -> str:
    return _("fewer than %(t)s") % {"t": fmt(threshold)}


@functools.cache
def numeric_iso(alpha2: str) -> str | None:
    """ISO 3166-1 numeric code (world-atlas ids) of an alpha-2 code."""
    c = pycountry.countries.get(alpha_2=alpha2)
    return c.numeric if c else None


def _rows(pr: PortalRelease, figures: Figures, dim: str, q: Question, lang: str, base: str) -> list[dict]:
    selected = q.filters.get(dim) if dim != YEAR else None
    year_selected = (str(q.year_from) if dim == YEAR and q.year_from is not None and q.year_from == q.year_to
                     else None)
    rows = []
    for r in figures.rows:
        value = r.values[0]
        is_selected = value in (selected, year_selected)
        if dim == YEAR:
            span = value.split("-")
            change = ({"year_from": None, "year_to": None} if is_selected
                      else {"year_from": span[0], "year_to": span[-1]})
        else:
            change = {dim: None if is_selected else value}
        rows.append({
            "value": value, "label": value_label(dim, value, lang), "count": r.count,
            "shown": fmt(r.count) if r.count is not None else suppressed_text(figures.threshold),
            "partial": r.partial, "selected": is_selected, "href": base + q.query_string(**change),
            "id": numeric_iso(value) if dim in COUNTRY_DIMS else None,
        })
    return rows


def chart(pr: PortalRelease, q: Question, dim: str, lang: str, *, base: str = "/explore/",
          kind: str | None = None, top: int | None = None) -> dict:
    """One chart of a page: its rows (every value, suppressed ones as "fewer than T") and what it plots."""
    filters, year_from, year_to = q.without(dim)
    out = {"dim": dim, "data_id": f"data-{dim}", "title": dimension_label(dim, lang),
           "kind": kind or ("line" if dim == YEAR else "bar"),
           "rows": [], "plotted": [], "error": "", "hidden": 0, "query": q.query_string(),
           "unpublished": not pr.index.domains[dim]}  # e.g. years a k-anonymity release suppressed
    try:
        _, figures = portal_figures(dataset=pr.release.dataset, by=(dim,), filters=filters, year_from=year_from,
                                    year_to=year_to)
    except FigureQueryError as exc:
        out["error"] = exc.message
        return out
    rows = _rows(pr, figures, dim, q, lang, base)
    shown = [r for r in rows if r["count"] is not None]
    if dim != YEAR:
        shown.sort(key=lambda r: -r["count"])
    top = top if top is not None else (TOP if dim in COUNTRY_DIMS else None)
    out.update(rows=rows, plotted=shown[:top] if top else shown, hidden=len(rows) - len(shown),
               threshold=figures.threshold, total=figures.total.count)
    return out


def chart_payload(pr: PortalRelease, c: dict, q: Question, lang: str) -> dict:
    """What a chart's download holds: exactly its rows, the question, the release version and citation."""
    return {
        "dataset": pr.release.dataset, "version": pr.release.version, "method": pr.release.method,
        "citation": pr.citation, "chart": c["dim"], "filters": q.without(c["dim"])[0],
        "year_from": q.without(c["dim"])[1], "year_to": q.without(c["dim"])[2],
        "threshold": c.get("threshold"), "suppressed_means": suppressed_text(c.get("threshold") or 0),
        "rows": [{"value": r["value"], "label": r["label"], "count": r["count"]} for r in c["rows"]],
    }


def flows(pr: PortalRelease, q: Question, lang: str, *, base: str = "/map/", top: int = 25) -> dict:
    """Corridors citizenship -> country of exploitation under the question's filters (both dimensions freed)."""
    filters = {d: v for d, v in q.filters.items() if d not in COUNTRY_DIMS}
    out = {"rows": [], "error": "", "hidden": 0}
    try:
        _, figures = portal_figures(dataset=pr.release.dataset, by=COUNTRY_DIMS, filters=filters,
                                    year_from=q.year_from, year_to=q.year_to)
    except FigureQueryError as exc:
        out["error"] = exc.message
        return out
    rows = []
    for r in figures.rows[:top]:
        origin, dest = r.values
        rows.append({"from": origin, "to": dest, "from_label": value_label("citizenship", origin, lang),
                     "to_label": value_label("country_of_exploitation", dest, lang), "count": r.count,
                     "shown": fmt(r.count),
                     "href": base + q.query_string(citizenship=origin, country_of_exploitation=dest)})
    out.update(rows=rows, hidden=max(0, len(figures.rows) - top), threshold=figures.threshold,
               more=figures.hidden_cells)
    return out
