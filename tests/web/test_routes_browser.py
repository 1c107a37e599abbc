"""The route map in a real browser (Debian's Chromium, Playwright), from a published journeys release of simulated
victims and journey events; its screenshots (all corridors, then one exploitation type) are saved for people to
look at (issue 17, item 4)."""

import pytest

from tests.web.browser import SHOTS, portal_page
from tests.web.intake import published_hotline_dataset
from tests.web.test_browser import _axe, _too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_route_map_draws_corridors_and_filters_them_by_exploitation_type(live_server, run_cli, tmp_path):
    published_hotline_dataset(run_cli, tmp_path / "simulated", linked="journeys", dataset="journey_events",
                              method="dp-synthetic", k=3)
    with portal_page() as (page, errors):
        page.goto(live_server.url + "/routes/")
        page.wait_for_selector("#routes-map[data-drawn='true'] svg")
        assert "one route per victim" in page.locator("#routes-unit").inner_text()
        rows = page.locator("#routes-table tbody tr")
        assert rows.count() >= 3
        # Arcs are drawn: one SVG line per corridor segment at least.
        assert page.locator("#routes-map svg path, #routes-map svg line").count() > rows.count()
        page.screenshot(path=str(SHOTS / "routes.png"), full_page=True)
        assert _axe(page) == []
        page.select_option("select[name=type]", "forced_labour")
        page.wait_for_url("**/routes/?type=forced_labour")
        page.wait_for_selector("main[data-ready='true'] #routes-map")
        assert page.locator("select[name=type]").input_value() == "forced_labour"
        page.screenshot(path=str(SHOTS / "routes-forced-labour.png"), full_page=True)
        # The country profile shows the routes in and out beside the case data.
        page.goto(live_server.url + "/countries/TH/")
        section = page.locator("#country-routes")
        assert section.is_visible() and "Routes ending here" in section.inner_text()
        assert section.locator("table").first.locator("tbody tr").count() >= 1
        assert _axe(page) == []
        section.screenshot(path=str(SHOTS / "country-routes.png"))
        # On a phone (390 px) the page is no wider than the window, its table open.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + "/routes/")
        page.wait_for_selector("#routes-map[data-drawn='true'] svg")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        measured = _too_wide(page)
        assert measured["scroll"] <= measured["inner"], measured
        page.screenshot(path=str(SHOTS / "routes-390.png"), full_page=True)
        assert errors == []
