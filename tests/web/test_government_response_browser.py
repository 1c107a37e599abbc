"""A country profile with its government-response section, in a real browser (Debian's Chromium, Playwright)."""

from pathlib import Path

import pytest

from tests.web.browser import SHOTS, portal_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
XLSX = Path(__file__).resolve().parents[1] / "data" / "unodc-glotip-quirks.xlsx"


def test_a_country_profile_shows_government_response_beside_the_cases(live_server, run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    run_cli("org", "create", "unodc", "--name", "UNODC (public data)")
    assert run_cli("ingest", str(XLSX), "--dataset", "government_response", "--preset", "unodc-glotip",
                   "--org", "unodc", "--approve").exit_code == 0
    assert run_cli("release", "build", "--dataset", "government_response", "--publish").exit_code == 0
    with portal_page() as (page, errors):
        page.goto(live_server.url + "/countries/MX/")
        section = page.locator("#government-response")
        assert section.is_visible()
        assert page.locator("#as-destination").count() == 1  # the case data, above it
        totals = page.locator("#government-totals")
        assert "1,192" in totals.inner_text() and "1–4" in totals.inner_text()
        page.locator("#government-response details summary").click()
        assert "VENEZOLANA" in page.locator("#government-citizenship").inner_text()
        page.screenshot(path=str(SHOTS / "country-profile-government-response.png"), full_page=True)
        # Nothing of the section runs off the page at the portal's narrowest layout (390 px).
        page.set_viewport_size({"width": 390, "height": 800})
        right = page.evaluate("Math.max(...[...document.querySelectorAll('#government-response, "
                              "#government-response *')].map(e => e.getBoundingClientRect().right))")
        page.locator("#government-response").screenshot(
            path=str(SHOTS / "country-profile-government-response-390.png"))
        assert errors == []
        assert right <= 390 + 1, right
