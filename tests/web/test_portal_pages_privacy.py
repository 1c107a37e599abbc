"""The portal's pages and chart downloads, probed as an attacker would (issue 15, "Done when"): for generated filter
sets drawn from what the pages offer (their forms' values, year ranges, up to L - 1 filters, and one more than the
form allows, as a hand-edited URL would), no page or download shows a count below the release's threshold T or a
count of a combination longer than L. Every number shown is the one an independent reading of aggregates.csv
gives (`tests.web.test_figures._expected`, which itself fails on any combination longer than L).

The index and the API are probed the same way in tests/web/test_figures.py and tests/web/test_portal_api.py.
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import polars as pl
import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ctdc.web.portal.figures import DIMENSIONS, YEAR
from ctdc.web.portal.selectors import portal_release
from ctdc.web.releases.models import Release
from tests.web.test_figures import _expected

pytestmark = pytest.mark.django_db
FILTER_DIMS = [d for d in DIMENSIONS if d != YEAR]


@pytest.fixture
def release(run_cli, simulated) -> Release:
    """A k-synthetic release (k-rounded counts, T = 20, L = 3, registration years kept)."""
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build", "--method", "k-synthetic", "--publish").exit_code == 0
    return Release.objects.get()


class Page(HTMLParser):
    """The numbers a portal page shows: per chart, its rows (value, shown text) or its error; the flows' rows."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, dict] = {}
        self.flows: list[tuple[str, str, str]] = []
        self.total = ""
        self._chart = self._row = self._section = None
        self._texts: list[str] = []
        self._in_error = self._in_total = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and (a.get("id") or "").startswith("as-"):
            self._section = a["id"]
        elif tag == "figure" and a.get("data-chart"):
            self._chart = f"{self._section}:{a['data-chart']}" if self._section else a["data-chart"]
            self.charts[self._chart] = {"rows": [], "error": ""}
        elif tag == "tr" and ("data-value" in a or "data-from" in a):
            self._row = a
            self._texts = []
        elif tag == "p" and "error" in (a.get("class") or "") and self._chart:
            self._in_error = True
        elif tag == "strong" and a.get("id") == "total":
            self._in_total = True

    def handle_endtag(self, tag):
        if tag == "figure":
            self._chart = None
        elif tag == "section":
            self._section = None
        elif tag == "tr" and self._row is not None:
            shown = self._texts[-1].strip()
            if "data-from" in self._row:
                self.flows.append((self._row["data-from"], self._row["data-to"], shown))
            elif self._chart:
                self.charts[self._chart]["rows"].append((self._row["data-value"], shown))
            self._row = None
        elif tag == "p":
            self._in_error = False
        elif tag == "strong":
            self._in_total = False

    def handle_data(self, data):
        if self._row is not None and data.strip():
            self._texts.append(data)
        if self._in_error:
            self.charts[self._chart]["error"] += data
        if self._in_total:
            self.total += data


def _published(release: Release) -> dict[frozenset, int]:
    frame = pl.read_csv(Path(settings.CTDC_RELEASES_DIR) / release.path / "aggregates.csv", infer_schema=False)
    return {frozenset(c.split(";")) if c else frozenset(): int(n)
            for c, n in zip(frame["combination"].fill_null(""), frame["count"], strict=True)}


def _number(shown: str, t: int) -> int | None:
    """The count a cell shows, None for "fewer than T"; anything else (a small number) fails here."""
    if shown == f"fewer than {t}":
        return None
    n = int(shown.removeprefix("≥ ").replace(",", ""))
    assert n >= t, f"a count below the threshold is shown: {shown}"
    return n


def _used(by: int, filters: dict, years: list | None) -> int:
    return by + len(filters) + int(years is not None)


def _check_chart(index, published, dim, chart, filters, years, label):
    """Every row of one chart (a chart of `dim` under `filters` and `years`) against the release."""
    t = index.threshold
    if _used(1, filters, years) > index.length:
        assert chart["rows"] == [] and "at most" in chart["error"], (label, dim)
        return 0
    assert not chart["error"], (label, dim, chart["error"])
    for value, shown in chart["rows"]:
        expected = _expected(published, index, {dim: value}, filters, years)
        assert _number(shown, t) == expected, (label, dim, value, shown, expected)
    return len(chart["rows"])


question = st.fixed_dictionaries({
    "filters": st.dictionaries(st.sampled_from(FILTER_DIMS), st.integers(0, 1000), max_size=3),
    "years": st.one_of(st.none(), st.tuples(st.integers(0, 40), st.integers(0, 40))),
    "download": st.sampled_from(DIMENSIONS),
})


def test_no_page_or_download_shows_a_count_below_t_or_beyond_l_for_any_offered_filter_set(client, release):
    published = _published(release)
    index = portal_release("victims").index
    t, years_all = index.threshold, index.years()
    assert (t, index.length) == (20, 3) and years_all
    year_options = list(range(years_all[0], years_all[1] + 1))
    checked = {"rows": 0, "over": 0, "flows": 0}

    @hsettings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(q=question)
    def check(q):
        # Values the forms offer: each filter's options are its dimension's published values.
        filters = {d: index.domains[d][i % len(index.domains[d])] for d, i in q["filters"].items()
                   if index.domains[d]}
        params = dict(filters)
        year_from = year_to = None
        if q["years"] is not None:
            lo, hi = sorted(year_options[i % len(year_options)] for i in q["years"])
            year_from, year_to = lo, hi
            params.update(year_from=lo, year_to=hi)
        years = index._year_values(year_from, year_to)
        query = "?" + urlencode(params)
        if _used(0, filters, years) > index.max_filters:
            checked["over"] += 1  # more than the form allows: a hand-made URL
        # /explore/: every chart under the filters but its own.
        page = Page()
        page.feed(client.get("/explore/" + query).content.decode())
        assert set(page.charts) == set(DIMENSIONS)
        for dim, chart in page.charts.items():
            own = {d: v for d, v in filters.items() if d != dim}
            checked["rows"] += _check_chart(index, published, dim, chart, own, None if dim == YEAR else years,
                                            "explore")
        total = _expected(published, index, {}, filters, years) if _used(0, filters, years) <= index.length \
            else None
        if _used(0, filters, years) <= index.length:
            assert _number(page.total.strip(), t) == total
        # A chart's download holds what the chart shows, no more.
        dim = q["download"]
        got = client.get(f"/explore/download/{dim}.csv{query}")
        own = {d: v for d, v in filters.items() if d != dim}
        chart_years = None if dim == YEAR else years
        if _used(1, own, chart_years) > index.length:
            assert got.status_code == 400
        else:
            body = got.content.decode()
            rows = list(csv.DictReader(io.StringIO("\n".join(body.splitlines()[2:]))))
            for r in rows:
                count = int(r["count"]) if r["count"] else None
                assert count is None or count >= t
                assert count == _expected(published, index, {dim: r[dim]}, own, chart_years), (dim, r)
        # /map/: the map by country of exploitation and the flows, with both country filters freed for the flows.
        page = Page()
        page.feed(client.get("/map/" + query).content.decode())
        own = {d: v for d, v in filters.items() if d != "country_of_exploitation"}
        checked["rows"] += _check_chart(index, published, "country_of_exploitation",
                                        page.charts["country_of_exploitation"], own, years, "map")
        flow_filters = {d: v for d, v in filters.items() if d not in ("citizenship", "country_of_exploitation")}
        if _used(2, flow_filters, years) > index.length:
            assert page.flows == [] and "at most" in page.charts["flows"]["error"]
        for origin, dest, shown in page.flows:
            expected = _expected(published, index, {"citizenship": origin, "country_of_exploitation": dest},
                                 flow_filters, years)
            assert _number(shown, t) == expected is not None, (origin, dest, shown, expected)
            checked["flows"] += 1

    check()
    # Country profiles: each country as destination and as origin, every chart under that one filter.
    for iso in index.domains["country_of_exploitation"][:4]:
        page = Page()
        page.feed(client.get(f"/countries/{iso}/").content.decode())
        roles = {"as-destination": "country_of_exploitation", "as-origin": "citizenship"}
        assert {k.split(":")[0] for k in page.charts} == set(roles) and len(page.charts) == 6
        for key, chart in page.charts.items():
            section, dim = key.split(":")
            checked["rows"] += _check_chart(index, published, dim, chart, {roles[section]: iso}, None, iso)
    assert checked["rows"] > 500 and checked["over"] > 0 and checked["flows"] > 0, checked
