"""One way to drive Debian's Chromium with Playwright in the browser tests (never `playwright install`).

`chromium_page()` is a context manager used inside the test body, not a yield fixture: with Playwright's sync API
alive across a fixture boundary, the test database's final flush ran on a connection that was never closed. And
database work done while Playwright runs uses connections of Playwright's greenlet context, which the test
teardown never sees; they are closed on the way out, or PostgreSQL refuses to drop the test database.
"""

from contextlib import contextmanager
from pathlib import Path

from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@contextmanager
def portal_page():
    """A page on the portal as published now (its cache emptied first, the screenshots folder made), and the list
    its uncaught script errors go into, for the test to assert empty at the end."""
    from ctdc.web.portal.selectors import portal_cache_clear

    portal_cache_clear()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, errors


@contextmanager
def chromium_page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()
            connections.close_all()
