"""The upload, progress and report pages in a real browser (Debian's Chromium via Playwright)."""

from pathlib import Path

import pytest

from ctdc.web.submissions.models import Submission
from tests.web.browser import SHOTS, chromium_page
from tests.web.intake import PASSWORD, make_people, run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_contributor_uploads_a_file_watches_it_processed_and_reads_its_report(live_server, simulated):
    folder, _ = simulated
    make_people()
    with chromium_page() as page:  # in the test body, not a yield fixture: see tests/web/browser.py
        _upload_and_read_report(live_server, page, folder / "harbour-light.xlsx")


def _upload_and_read_report(live_server, page, file: Path):
    outside, console_errors = [], []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/intake/submissions/new/")
    page.fill("#id_username", "harbour-light")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/intake/submissions/new/")
    page.select_option("#id_mapping", "preset:htcds")
    page.set_input_files("#id_file", str(file))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "intake-upload.png"), full_page=True)
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#progress progress")
    assert page.locator("#status").inner_text() == "Uploaded"
    page.screenshot(path=str(SHOTS / "intake-progress.png"), full_page=True)

    run_worker()  # the page polls progress.json and reloads itself when the work is done
    page.wait_for_selector("#accepted", timeout=15_000)
    submission = Submission.objects.get()
    assert page.locator("#status").inner_text() == "Validated"
    assert int(page.locator("#rows-read").inner_text()) == submission.rows_read
    page.screenshot(path=str(SHOTS / "intake-submission.png"), full_page=True)

    page.click("#report-link")
    page.wait_for_selector("#problems")
    total = submission.problems.count()
    assert page.locator("#filtered-total").inner_text().startswith(f"{total} problem")
    page.select_option("select[name=severity]", "error")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**severity=error**")
    errors = submission.problems.filter(severity="error").count()
    assert page.locator("#filtered-total").inner_text().startswith(f"{errors} problem")
    page.screenshot(path=str(SHOTS / "intake-report.png"), full_page=True)
    assert page.locator("link[rel=stylesheet]").nth(1).evaluate("l => l.sheet.cssRules.length") > 0
    assert outside == [] and console_errors == []


def test_the_progress_box_shows_the_rows_checked_so_far_without_a_reload(live_server, simulated):
    """While the worker processes a file, the page's script (CSP-allowed, from this site) polls progress.json and
    writes the rows read and checked so far, as the worker records them in the database (issue 14)."""
    from ctdc.web.submissions.services import submission_progress_set, submission_rows_set

    folder, _ = simulated
    make_people()
    with chromium_page() as page:
        console_errors: list[str] = []
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + "/intake/submissions/new/")
        page.fill("#id_username", "harbour-light")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/intake/submissions/new/")
        page.select_option("#id_mapping", "preset:htcds")
        page.set_input_files("#id_file", str(folder / "harbour-light.xlsx"))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#progress progress")
        assert page.locator("#progress-rows").is_hidden()  # nothing read yet: no figure
        submission = Submission.objects.get()
        # As the worker records it after a piece of the file (services.submission_process).
        Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.PROCESSING)
        submission_progress_set(submission=submission, percent=10, note="Reading, mapping and validating")
        submission_rows_set(submission=submission, rows=20000)
        page.wait_for_selector("#progress-rows:has-text('20,000 rows read and checked so far')", timeout=15_000)
        assert page.locator(".progress-note").inner_text() == "Reading, mapping and validating"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "intake-progress-rows.png"), full_page=True)
        Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.UPLOADED)
        run_worker()  # the page reloads itself when the work is done
        page.wait_for_selector("#accepted", timeout=15_000)
        assert console_errors == []
