"""The route map in a real browser (Debian's Chromium, Playwright), from a published journeys release of simulated
victims and journey events; its screenshots (all corridors, then one exploitation type) are saved for people to
look at (issue 17, item 4)."""

import pytest

from ctdc.web.portal.selectors import portal_cache_clear
from tests.web.browser import SHOTS, chromium_page
from tests.web.intake import simulated_hotline
from tests.web.test_browser import _axe, _too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ORG = "lakeside-helpline"


def test_the_route_map_draws_corridors_and_filters_them_by_exploitation_type(live_server, run_cli, tmp_path):
    out, linked = simulated_hotline(run_cli, tmp_path / "simulated", cases=1500, seed=11)
    assert run_cli("ingest", str(out / linked["journeys"]["file"]), "--org", ORG, "--dataset", "journey_events",
                   "--approve").exit_code == 0
    built = run_cli("release", "build", "--dataset", "journey_events", "--method", "dp-synthetic", "--k", "3",
                    "--publish")
    assert built.exit_code == 0, built.output
    portal_cache_clear()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
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
