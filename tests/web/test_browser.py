"""The portal in a real browser: Debian's Chromium driven by Playwright (never `playwright install`).

One small published release (k-anonymity of one contributor's simulated file); every number checked against its
aggregates.csv; axe-core (npm, vendored by `make install`) on every page; screenshots in var/screenshots/.
"""

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from django.conf import settings

from ctdc.web.portal.figures import DIMENSIONS
from ctdc.web.releases.models import Release
from tests.web.browser import SHOTS, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
MULTI = ("exploitation_types", "labour_sectors", "means_of_control", "recruiter_relations", "recruitment_methods",
         "recruitment_platforms", "exploitation_platforms")


@pytest.fixture
def release(run_cli, simulated) -> Release:
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    return Release.objects.get()


def _published(release) -> dict[frozenset, int]:
    frame = pl.read_csv(Path(settings.CTDC_RELEASES_DIR) / release.path / "aggregates.csv", infer_schema=False)
    return {frozenset(c.split(";")) if c else frozenset(): int(n)
            for c, n in zip(frame["combination"].fill_null(""), frame["count"], strict=True)}


def _pair(dim, value):
    return f"{dim}__{value}:1" if dim in MULTI else f"{dim}:{value}"


def _watch(page, base):
    outside, errors = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return outside, errors


def _ready(page):
    page.wait_for_selector("main[data-ready=true]", timeout=15000)


def _axe(page) -> list[str]:
    """Serious and critical axe-core violations of the page (axe evaluated through the devtools protocol)."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                           ".filter(v => ['serious', 'critical'].includes(v.impact))"
                           ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))")
    return result


def _too_wide(page) -> dict:
    """The window's width, the page's scroll width and the first elements running past the window's right edge."""
    return page.evaluate("""() => {
        const w = window.innerWidth, sw = document.documentElement.scrollWidth;
        const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'));
        return {inner: w, scroll: sw, wide};
    }""")


def _table(page, dim) -> dict[str, str]:
    """The chart's table as the page shows it: {value code (from the row's link): shown text}."""
    rows = {}
    for tr in page.locator(f"#chart-{dim} table tbody tr").all():
        href = tr.locator("a").get_attribute("href")
        params = parse_qs(urlparse(href).query)
        shown = tr.locator("td").nth(1).text_content().strip()
        rows[tr.locator("a").text_content().strip()] = (params, shown)
    return rows


def _values(page, dim) -> dict[str, tuple[str, str]]:
    """The chart's table: {value code: (label, shown text)}."""
    return {tr.get_attribute("data-value"): (tr.locator("td").first.text_content().strip(),
                                             tr.locator("td").nth(1).text_content().strip())
            for tr in page.locator(f"#chart-{dim} table tbody tr").all()}


def _drawn(page, dim) -> dict[str, int]:
    """What the chart draws, read from its SVG marks' accessible labels ("count: 268; label: Philippines; ...")."""
    out = {}
    for mark in page.locator(f"#chart-{dim} .viz svg [role=graphics-symbol]").all():
        text = mark.get_attribute("aria-label") or ""
        count = re.search(r"(?:^|; )count: (\d+)", text)
        label = re.search(r"(?:^|; )label: ([^;]+)", text)
        if count and label:
            out[label.group(1)] = int(count.group(1))
    return out


def test_every_portal_page_loads_draws_its_charts_and_passes_axe(live_server, release):
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        outside, errors = _watch(page, base)
        for name, url, charts in [("home", "/", 2), ("explore", "/explore/", 6), ("map", "/map/", 2),
                                  ("country", "/countries/UA/", 3)]:
            page.goto(base + url)
            _ready(page)
            assert page.locator("figure[data-drawn=true] svg").count() >= charts, name
            assert _axe(page) == [], name
            page.screenshot(path=str(SHOTS / f"portal-{name}.png"), full_page=True)
            if name == "map":
                page.locator("#flows").screenshot(path=str(SHOTS / "portal-flows.png"))
        page.goto(base + "/about/figures/")
        assert "fewer than 20" in page.locator("main").inner_text() and _axe(page) == []
        # The other public pages (the data pages are checked in tests/web/test_release_browser.py).
        others = ("/codebook/", "/codebook/victims/", "/codebook/victims/gender/", "/codebook/codelists/gender/",
                  "/contribute/", "/contribute/agreement/", "/accounts/login/", "/api/docs")
        for url in others:
            assert page.goto(base + url).ok, url
            assert _axe(page) == [], url
        # On a phone (390 px) no public page is wider than the window; the portal's pages are shot at that width.
        page.set_viewport_size({"width": 390, "height": 844})
        wide = {}
        for url in ("/", "/explore/", "/map/", "/countries/UA/", "/about/figures/", "/explore/?gender=female",
                    *others):
            page.goto(base + url)
            if url.startswith(("/explore", "/map", "/countries")) or url == "/":  # pages with charts
                _ready(page)
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            measured = _too_wide(page)
            if measured["scroll"] > measured["inner"]:
                wide[url] = measured
        for name, url in (("home", "/"), ("explore", "/explore/"), ("map", "/map/"), ("country", "/countries/UA/")):
            page.goto(base + url)
            _ready(page)
            page.screenshot(path=str(SHOTS / f"portal-{name}-390.png"), full_page=True)
        assert wide == {}, wide
        page.set_viewport_size({"width": 1280, "height": 900})
        assert int(page.goto(base + "/").ok) and page.locator("#fig-cases").inner_text().replace(",", "") == str(
            _published(release)[frozenset()])
        assert outside == [] and errors == []  # no CDN, no CSP violation, no script error


def test_selecting_a_bar_filters_every_other_chart_and_the_url_with_the_release_counts(live_server, release):
    base = live_server.url
    published = _published(release)
    with chromium_page() as page:
        outside, errors = _watch(page, base)
        page.goto(base + "/explore/")
        _ready(page)
        before = _table(page, "citizenship")
        # Click the first bar of the gender chart (a Vega mark in the SVG).
        page.locator("#chart-gender .viz svg path[role=graphics-symbol]").first.click()
        page.wait_for_url("**/explore/?gender=*")
        _ready(page)
        gender = parse_qs(urlparse(page.url).query)["gender"][0]
        after = _table(page, "citizenship")
        assert after != before
        checked = 0
        for dim in DIMENSIONS:  # every chart: its table and its drawing hold the release's counts
            table = _values(page, dim)
            own = frozenset() if dim == "gender" else frozenset({f"gender:{gender}"})
            for value, (_label, shown) in table.items():
                count = published.get(own | {_pair(dim, value)}, 0)
                assert shown == (f"{count:,}" if count >= 20 else "fewer than 20"), (dim, value, shown, count)
                checked += 1
            drawn = _drawn(page, dim)
            shown_rows = {label: int(shown.replace(",", "")) for label, shown in table.values()
                          if shown != "fewer than 20"}
            assert drawn.items() <= shown_rows.items(), (dim, drawn, shown_rows)
            assert len(drawn) == min(len(shown_rows), 15 if dim in ("citizenship", "country_of_exploitation")
                                     else len(shown_rows)), dim
        assert checked > 40
        assert page.locator("#total").inner_text() == f"{published[frozenset({f'gender:{gender}'})]:,}"
        # The gender chart itself keeps every gender and marks the selected one.
        assert page.locator("#chart-gender tr.selected").count() == 1
        page.go_back()
        page.wait_for_url(base + "/explore/")
        page.wait_for_selector("#chart-citizenship tbody a:not([href*=gender])", state="attached")
        _ready(page)
        assert _table(page, "citizenship") == before
        page.go_forward()
        page.wait_for_url("**/explore/?gender=*")
        page.wait_for_selector("#chart-citizenship tbody a[href*=gender]", state="attached")
        _ready(page)
        assert _table(page, "citizenship") == after
        assert outside == [] and errors == []


def test_a_chart_download_holds_exactly_what_the_chart_shows(live_server, release):
    base = live_server.url
    with chromium_page() as page:
        page.goto(base + "/explore/?gender=female")
        _ready(page)
        shown = {params["citizenship"][0]: text for _l, (params, text) in _table(page, "citizenship").items()}
        with page.expect_download() as dl:
            page.locator("#chart-citizenship .downloads a", has_text="CSV").click()
        text = Path(dl.value.path()).read_text(encoding="utf-8")
        lines = text.splitlines()
        assert lines[0].startswith("# ctdc contributors") and release.version in lines[0]
        assert "gender=female" in lines[1] and "fewer than 20" in lines[1]
        rows = list(csv.DictReader(io.StringIO("\n".join(lines[2:]))))
        assert {r["citizenship"]: (f"{int(r['count']):,}" if r["count"] else "fewer than 20") for r in rows} == shown
        assert all(not r["count"] or int(r["count"]) >= 20 for r in rows)
        with page.expect_download() as svg:
            page.locator("#chart-citizenship [data-image=svg]").click()
        assert Path(svg.value.path()).read_text().lstrip().startswith("<svg")
        # The flows: the corridors the map page lists, in the same order.
        page.goto(base + "/map/?gender=female")
        _ready(page)
        listed = [(tr.get_attribute("data-from"), tr.get_attribute("data-to"), tr.locator("td").nth(2).text_content())
                  for tr in page.locator("#flows tbody tr").all()]
        with page.expect_download() as dl:
            page.locator("#flows .downloads a", has_text="CSV").click()
        lines = Path(dl.value.path()).read_text(encoding="utf-8").splitlines()
        assert release.version in lines[0] and "gender=female" in lines[1]
        rows = list(csv.DictReader(io.StringIO("\n".join(lines[2:]))))
        assert [(r["citizenship"], r["country_of_exploitation"], f"{int(r['count']):,}") for r in rows] == listed
        assert len(listed) > 3 and all(int(r["count"]) >= 20 for r in rows)


def test_the_pages_work_without_scripts(live_server, release):
    """Server-rendered numbers and a form: the explorer is useful with JavaScript off."""
    from playwright.sync_api import sync_playwright

    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(java_script_enabled=False).new_page()
            page.goto(live_server.url + "/explore/")
            page.select_option("select[name=gender]", "female")
            page.click("form.filters button[type=submit]")
            assert "gender=female" in page.url
            assert page.locator("#chart-citizenship table tbody tr").count() > 3
            assert page.locator("#total").inner_text() == f"{_published(release)[frozenset({'gender:female'})]:,}"
        finally:
            browser.close()
            from django.db import connections

            connections.close_all()


def test_the_home_page_says_so_when_nothing_is_published(live_server):
    with chromium_page() as page:
        page.goto(live_server.url + "/")
        assert "No release has been published yet" in page.locator("#no-release").inner_text()


def test_the_language_switch_translates_the_interface_labels_and_numbers(live_server, release):
    published = _published(release)
    with chromium_page() as page:
        outside, errors = _watch(page, live_server.url)
        page.goto(live_server.url + "/explore/?gender=female")
        _ready(page)
        page.locator("nav.language a[lang=fr]").click()
        page.wait_for_url("**/explore/?gender=female")
        _ready(page)
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.locator("h1").inner_text() == "Explorer les cas"
        assert "Femme" in page.locator(".active-filters").inner_text()  # the codebook's French label
        total = published[frozenset({"gender:female"})]
        assert page.locator("#total").inner_text() == f"{total:,}".replace(",", "\xa0")  # 19 855
        assert "moins de 20" in page.locator("#chart-citizenship table").text_content()
        page.goto(live_server.url + "/")
        assert page.locator("#fig-cases").inner_text() == f"{published[frozenset()]:,}".replace(",", "\xa0")
        page.goto(live_server.url + "/explore/?gender=female")
        _ready(page)
        page.locator("nav.language a[lang=es]").click()
        page.wait_for_url("**/explore/?gender=female")
        _ready(page)
        assert page.locator("h1").inner_text() == "Explorar los casos"
        assert page.locator("#total").inner_text() == f"{total:,}".replace(",", ".")  # 19.855
        assert _axe(page) == []
        page.goto(live_server.url + "/")
        assert page.locator("#fig-cases").inner_text() == f"{published[frozenset()]:,}".replace(",", ".")  # 1.350
        assert outside == [] and errors == []
