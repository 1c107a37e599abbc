"""The portal in a real browser: Debian's Chromium driven by Playwright (never `playwright install`)."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@contextmanager
def chromium_page():
    # Used inside the test body, not as a yield fixture: with Playwright's sync API alive across a fixture
    # boundary, the test database's final flush ran on a connection that was never closed, and PostgreSQL then
    # refused to drop the test database.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()


def test_the_home_page_shows_headline_figures_and_a_chart(live_server, run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build").exit_code == 0
    with chromium_page() as page:
        _check_home(live_server, page)


def _check_home(live_server, browser_page):
    outside, console_errors = [], []
    browser_page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
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
