"""The recruitment fees page in a real browser (Debian's Chromium, Playwright), from a published fees release of
simulated victims and fees; its screenshots (English, then French, and a country profile's fees) are saved for people to look at (issue 17,
item 5)."""

import pytest

from tests.web.browser import SHOTS, portal_page
from tests.web.intake import published_hotline_dataset
from tests.web.test_browser import _axe, _too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_fees_page_compares_corridors_in_one_currency_and_year_and_speaks_french(live_server, run_cli, tmp_path):
    published_hotline_dataset(run_cli, tmp_path / "simulated", linked="fees", dataset="recruitment_fees",
                              method="k-anonymity", k=3)
    with portal_page() as (page, errors):
        page.goto(live_server.url + "/fees/")
        assert "USD of 2025" in page.locator("#fees-unit").inner_text()
        rows = page.locator("#fees-table tbody tr")
        assert rows.count() >= 3
        # Corridors with amounts come first, highest median first, each with its range bar.
        medians = [float(t.replace(",", "") or 0) for t in
                   page.locator("#fees-table tbody tr td:nth-child(5)").all_inner_texts() if t != "—"]
        assert medians and medians == sorted(medians, reverse=True)
        assert page.locator("#fees-table svg.fee-range").count() == len(medians)
        assert _axe(page) == []
        page.screenshot(path=str(SHOTS / "fees.png"), full_page=True)
        sector = page.locator("select[name=sector] option").nth(1).get_attribute("value")
        page.select_option("select[name=sector]", sector)
        page.locator("form.filters button").click()
        page.wait_for_url(f"**/fees/?sector={sector}")
        assert page.locator("select[name=sector]").input_value() == sector
        page.locator("nav.language a[lang=fr]").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Frais de recrutement"
        assert "Corridors comparés" in page.locator("#fees-corridors").inner_text()
        page.screenshot(path=str(SHOTS / "fees-fr.png"), full_page=True)
        # The country profile shows the fees of the corridors ending in and starting from the country.
        page.goto(live_server.url + "/countries/SA/")
        section = page.locator("#country-fees")
        assert section.is_visible() and "Frais des victimes venues ici" in section.inner_text()
        assert "USD de 2025" in section.inner_text()
        assert section.locator("table").first.locator("tbody tr").count() >= 1
        assert _axe(page) == []
        section.screenshot(path=str(SHOTS / "country-fees.png"))
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server.url + "/fees/")
        measured = _too_wide(page)
        assert measured["scroll"] <= measured["inner"], measured
        page.screenshot(path=str(SHOTS / "fees-390.png"), full_page=True)
        assert errors == []
