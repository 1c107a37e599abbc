"""The portal in a real browser: Debian's Chromium driven by Playwright (never `playwright install`)."""

import pytest

from tests.web.browser import SHOTS, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_home_page_shows_headline_figures_and_a_chart(live_server, run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    with chromium_page() as page:
        _check_home(live_server, page)


def _check_home(live_server, browser_page):
    outside, console_errors = [], []
    browser_page.on(
        "request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None
    )
    browser_page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    browser_page.goto(live_server.url + "/")
    cases = int(browser_page.locator("#fig-cases").inner_text())
    assert cases > 0 and int(browser_page.locator("#fig-nationalities").inner_text()) > 0
    bars = browser_page.locator("section.chart svg rect")
    assert bars.count() >= 3
    assert browser_page.locator("link[rel=stylesheet]").evaluate("l => l.sheet.cssRules.length") > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    assert outside == [] and console_errors == []


def test_the_home_page_says_so_when_nothing_is_published(live_server):
    with chromium_page() as page:
        page.goto(live_server.url + "/")
        assert "No release has been published yet" in page.locator("#no-release").inner_text()
