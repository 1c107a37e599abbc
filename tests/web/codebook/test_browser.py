"""/codebook/ in Debian's Chromium through Playwright: renders, switches EN/FR/ES, searches; screenshots (issue 5).

Screenshots go to var/screenshots/ beside the portal's own. Playwright lives inside the test body, not in a
yield fixture: the portal's browser test found that a sync Playwright kept alive across a fixture boundary left
a connection open that PostgreSQL then refused to drop.
"""

import pytest

from tests.web.browser import SHOTS, chromium_page

pytestmark = pytest.mark.browser


def test_the_codebook_renders_and_switches_between_english_french_and_spanish(live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        outside, console_errors = [], []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

        page.goto(f"{live_server.url}/codebook/")
        assert page.locator("h1").inner_text() == "ctdc data standard: codebook"
        # the stylesheet loaded (the header is the dark band, not the browser default)
        assert (
            page.eval_on_selector(".cb-header", "e => getComputedStyle(e).backgroundColor")
            == "rgb(22, 50, 79)"
        )
        page.screenshot(path=str(SHOTS / "codebook-en.png"))

        with page.expect_navigation():
            page.click(".cb-langs a[hreflang=fr]")
        assert page.locator("html").get_attribute("lang") == "fr"
        assert page.locator("h1").inner_text() == "Norme de données ctdc : livre de codes"
        page.screenshot(path=str(SHOTS / "codebook-fr.png"))

        page.fill("#cb-q", "nationalité")
        with page.expect_navigation():
            page.click(".cb-search button")
        with page.expect_navigation():
            page.click(".cb-results a >> nth=0")
        assert page.locator("h1").inner_text().startswith("Nationalité")
        with page.expect_navigation():
            page.click(".cb-langs a[hreflang=es]")
        assert page.locator("h1").inner_text().startswith("Nacionalidad")
        assert page.locator(".cb-description").inner_text().startswith("País de nacionalidad")
        page.screenshot(path=str(SHOTS / "codebook-field-es.png"), full_page=True)

        assert outside == [] and console_errors == []
    for name in ("codebook-en.png", "codebook-fr.png", "codebook-field-es.png"):
        assert (SHOTS / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
