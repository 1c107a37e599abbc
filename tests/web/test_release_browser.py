"""The data catalogue in a real browser: Debian's Chromium driven by Playwright (never `playwright install`)."""

import pytest

from ctdc.web.accounts.services import steward_ensure
from ctdc.web.releases.models import Release
from tests.web.browser import SHOTS, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_data_page_lists_releases_and_downloads_after_the_terms(live_server, run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    assert run_cli("release", "build", "--method", "k-synthetic", "--publish").exit_code == 0
    steward_ensure(username="steward", password="pw-steward-1")
    with chromium_page() as page:
        _check_data(live_server, page)
        _check_steward_report(live_server, page)


def _check_steward_report(live_server, page):
    """The public report has no input counts; a steward, logged in, reads them on the steward report."""
    report = Release.objects.get(method="k-anonymity")
    page.goto(live_server.url + f"/data/victims/{report.version}/")
    assert "For data stewards only" not in page.content()
    page.goto(live_server.url + f"/accounts/login/?next=/data/steward/victims/{report.version}/")
    page.fill("#id_username", "steward")
    page.fill("#id_password", "pw-steward-1")
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()
    assert "For data stewards only" in page.content()
    records = page.locator("table th", has_text="records").first
    assert records.is_visible() and str(report.input_count) in page.content()
    page.screenshot(path=str(SHOTS / "data-steward-report.png"), full_page=True)


def _check_data(live_server, page):
    outside, console_errors = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/data/")
    releases = page.locator("article.release")
    assert releases.count() == 2
    assert [m.strip() for m in page.locator("dd.method").all_inner_texts()] == ["k-synthetic", "k-anonymity"]
    assert "Cite as:" in releases.first.inner_text() and "k = 11" in releases.first.inner_text()
    assert page.locator("#terms-box").is_visible()
    page.locator("article.release details.downloads summary").first.click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "data.png"), full_page=True)
    with page.expect_navigation():
        page.locator("a[href$='/files/microdata.csv']").first.click()
    assert "/data/terms/" in page.url  # the terms come before the first download
    with page.expect_download() as dl:
        page.locator("#accept-terms").click()
    assert dl.value.suggested_filename.endswith("-microdata.csv")
    page.goto(live_server.url + "/data/")
    assert page.locator("#terms-box").count() == 0
    page.locator("a", has_text="Report: disclosure checks").first.click()
    assert page.locator("table.checks td.pass").count() == 3
    page.screenshot(path=str(SHOTS / "data-report.png"), full_page=True)
    assert outside == [] and console_errors == []
