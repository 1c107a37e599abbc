"""/codebook/ in Debian's Chromium through Playwright: renders, switches EN/FR/ES, screenshots (issue 5).

Screenshots go to the test's tmp folder, or to $CTDC_SCREENSHOT_DIR when set (CI keeps them as artefacts).
"""

import os
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.browser,
]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    # Playwright runs an event loop in this thread; the live server's requests are in another one.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        yield page
        browser.close()


def _shots(tmp_path):
    folder = Path(os.environ.get("CTDC_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_codebook_renders_and_switches_between_english_french_and_spanish(live_server, page, tmp_path):
    shots = _shots(tmp_path)
    page.goto(f"{live_server.url}/codebook/")
    assert page.locator("h1").inner_text() == "ctdc data standard: codebook"
    assert page.locator("link[rel=stylesheet]").count() == 1
    # the stylesheet loaded: the header is the dark band, not the browser default
    assert (
        page.eval_on_selector(".cb-header", "e => getComputedStyle(e).backgroundColor") == "rgb(22, 50, 79)"
    )
    page.screenshot(path=str(shots / "codebook-en.png"), full_page=False)

    with page.expect_navigation():
        page.click(".cb-langs a[hreflang=fr]")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Norme de données ctdc : livre de codes"
    page.screenshot(path=str(shots / "codebook-fr.png"))

    page.fill("#cb-q", "nationalité")
    with page.expect_navigation():
        page.click(".cb-search button")
    with page.expect_navigation():
        page.click(".cb-results a >> nth=0")
    assert page.locator("h1").inner_text().startswith("Nationalité")
    with page.expect_navigation():
        page.click(".cb-langs a[hreflang=es]")
    assert page.locator("h1").inner_text().startswith("Nacionalidad")
    page.screenshot(path=str(shots / "codebook-field-es.png"), full_page=True)

    for name in ("codebook-en.png", "codebook-fr.png", "codebook-field-es.png"):
        assert (shots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.console_errors == []
