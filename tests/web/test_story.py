"""The whole story of issue 19 in a real browser, against a real `ctdc serve` started as `make demo` starts it.

A `make demo`-style setup (three fictional organisations with simulated, approved records; a steward), then: the
steward adds an organisation and invites a contributor; the contributor sets a password, uploads a simple NGO
spreadsheet (Faker names, fictional), is led to a mapping, saves it, re-processes and reads the report; the steward
approves, resolves a duplicate, builds and publishes a release. Every background task is run by the worker that
`ctdc serve` started: no worker command anywhere. Screenshots of each step: var/screenshots/story/.

Small on purpose (400 simulated cases, 8 NGO rows, a k-anonymity release) to keep the run short.
"""

from __future__ import annotations

import csv
import random
import re
import shutil

import pytest
from faker import Faker
from playwright.sync_api import sync_playwright

from tests.cli.processes import wait_for
from tests.served import ctdc_many, serving, site
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, SHOTS

pytestmark = pytest.mark.browser
STORY_SHOTS = SHOTS / "story"
NEW_PASSWORD = "riverside demo passphrase"
WAIT_MS = 120_000


def _ngo_csv(path) -> list[str]:
    """The simple NGO export of the issue: name, age, gender, citizenship, country and type of exploitation, year."""
    fake, rng = Faker(), random.Random(19)
    Faker.seed(19)
    rows = [{"name": fake.name(), "age": rng.randint(15, 45), "gender": rng.choice(["Female", "Male"]),
             "citizenship": rng.choice(["Philippines", "Nigeria", "Ukraine", "Viet Nam"]),
             "country of exploitation": rng.choice(["Saudi Arabia", "Italy", "Thailand"]),
             "type of exploitation": rng.choice(["Forced labour", "Sexual exploitation"]),
             "year": rng.choice([2022, 2023, 2024])} for _ in range(8)]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return [r["name"] for r in rows]


def _demo_setup(data, sim) -> str:
    """What `make demo-data` does, smaller (no release: the story builds the first one). Returns the password."""
    password_file = data.data_dir / "demo-steward-password.txt"
    ctdc_many(data, ["init"],
              ["org", "create", "lakeside-helpline", "--name", "Lakeside Helpline (fictional)", "--kind", "hotline"],
              ["org", "create", "harbour-light", "--name", "Harbour Light Shelter Network (fictional)"],
              ["org", "create", "open-roads", "--name", "Open Roads Outreach (fictional)"],
              ["user", "steward", "steward", "--password-file", str(password_file)],
              # Seed 1 at 400 cases puts two hotline callers in the NGO's file too: cross-organisation duplicates.
              ["simulate", "--seed", "1", "--cases", "400", "--out", str(sim)],
              ["ingest", str(sim / "lakeside-helpline.csv"), "--org", "lakeside-helpline",
               "--mapping", str(sim / "lakeside-helpline.mapping.yml"), "--approve"],
              ["ingest", str(sim / "harbour-light.xlsx"), "--org", "harbour-light", "--preset", "htcds", "--approve"],
              ["ingest", str(sim / "open-roads.csv"), "--org", "open-roads", "--preset", "kobo-htcds", "--approve"])
    assert data.query("select count(*) from submissions_duplicateflag where status = 'open'")[0][0] > 0
    return password_file.read_text().strip()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(STORY_SHOTS / f"{name}.png"), full_page=True)
    if not name.startswith("failed"):  # every page of the story fits the window (1,280 px)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, name


def _sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/intake/")


def test_the_whole_story_from_invitation_to_published_release(tmp_path):
    with site(tmp_path / "var") as data:
        _story(tmp_path, data)


def _story(tmp_path, data):
    shutil.rmtree(STORY_SHOTS, ignore_errors=True)
    STORY_SHOTS.mkdir(parents=True)
    ngo_file = tmp_path / "riverside-cases.csv"
    steward_password = _demo_setup(data, tmp_path / "simulated")
    names = _ngo_csv(ngo_file)

    with serving(data, tmp_path / "serve.log") as server, sync_playwright() as p:
        url = server.url
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        steward = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        contributor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

        try:
            # 1. The steward signs in, lands on /intake/, adds the new organisation in the admin.
            _sign_in(steward, url, "steward", steward_password)
            assert steward.locator("#steward-todo").is_visible()
            _shot(steward, "01-steward-intake")
            steward.goto(url + "/admin/accounts/organisation/add/")
            steward.fill("#id_slug", "riverside-outreach")
            steward.fill("#id_name", "Riverside Outreach (fictional)")
            steward.click("input[name=_save]")
            steward.wait_for_selector("text=was added successfully")
            _shot(steward, "02-admin-organisation-added")

            # 2. ... and invites a contributor: the link is shown once, and "mailed" to the server's console.
            steward.goto(url + "/accounts/invitations/")
            steward.select_option("#id_organisation", label="Riverside Outreach (fictional)")
            steward.fill("#id_username", "amina")
            steward.fill("#id_email", "amina@riverside.example")
            steward.click("#invite")
            link = steward.locator("#invitation-link").input_value()
            assert link.startswith(url + "/accounts/invitation/")
            _shot(steward, "03-invitation-created")
            wait_for(lambda: link in server.log.read_text(), "the invitation mail on the server's console")

            # 3. The contributor opens the link, chooses a password and lands on the organisation's intake page.
            contributor.goto(link)
            assert contributor.locator("#invited-username").inner_text() == "amina"
            contributor.fill("#id_password1", NEW_PASSWORD)
            contributor.fill("#id_password2", NEW_PASSWORD)
            _shot(contributor, "04-invitation-accept")
            contributor.click("#accept")
            contributor.wait_for_url("**/intake/")
            assert "Riverside Outreach (fictional)" in contributor.locator("#organisations").inner_text()
            assert "Lakeside" not in contributor.content()
            _shot(contributor, "05-contributor-intake")

            # 4. Upload the NGO file; the worker started by `ctdc serve` processes it, and stops at "needs a
            #    mapping": detection would have ignored columns that look like standard fields.
            contributor.goto(url + "/intake/submissions/new/")
            contributor.set_input_files("#id_file", str(ngo_file))
            contributor.click("#upload-form button[type=submit]")
            contributor.wait_for_url(re.compile(r".*/intake/submissions/\d+/$"))
            submission_url = contributor.url
            contributor.wait_for_selector("#needs-mapping", timeout=WAIT_MS)
            missed = contributor.locator("#missed-columns").inner_text()
            assert "type of exploitation" in missed
            _shot(contributor, "06-needs-a-mapping")

            # 5. Led to the mapping: the suggestion from the file's columns, checked, saved, and the file
            #    processed again with it in the same click.
            contributor.click("#review-mapping")
            contributor.wait_for_selector("#suggested-note")
            mapping_text = contributor.locator("#id_text").input_value()
            assert "field: age" in mapping_text and "field: exploitation_types" in mapping_text
            _shot(contributor, "07-suggested-mapping")
            contributor.click("#save-and-reprocess")
            contributor.wait_for_url(submission_url)
            contributor.wait_for_selector("#accepted", timeout=WAIT_MS)
            assert contributor.locator("#status").inner_text() == "Validated"
            assert int(contributor.locator("#accepted").inner_text()) == len(names)
            assert "columns not read" not in contributor.content()  # age and type of exploitation are read now
            _shot(contributor, "08-processed-again")

            # 6. The report.
            contributor.click("#report-link")
            contributor.wait_for_selector("#filtered-total")
            page_text = contributor.content()
            assert not [n for n in names if n in page_text]  # names were dropped at the door
            _shot(contributor, "09-report")

            # 7. The steward approves it, with a note.
            steward.goto(submission_url)
            steward.fill("#decision-form textarea[name=note]", "Checked with Riverside's coordinator.")
            steward.click("#approve")
            steward.wait_for_selector("#decisions")
            assert steward.locator("#status").inner_text().startswith("Approved")
            decisions = steward.locator("#decisions").inner_text()
            assert "steward" in decisions and "Checked with Riverside's coordinator." in decisions
            _shot(steward, "10-approved")

            # 8. ... resolves a cross-organisation duplicate, with a note ...
            steward.goto(url + "/intake/duplicates/")
            first = steward.locator("#flags tbody tr").first
            first.locator("input[name=note]").fill("Different birth years in the two files.")
            first.locator("button[value=dismissed]").click()
            steward.wait_for_selector(".messages >> text=Nothing was merged")
            _shot(steward, "11-duplicate-resolved")
            steward.goto(url + "/intake/duplicates/?status=dismissed")
            assert steward.locator("#flags tbody tr").count() == 1
            decided = steward.locator("#flags .decided").inner_text()
            assert "steward" in decided and "Different birth years" in decided

            # 9. ... and builds a release from the page (the same worker builds it), then publishes it.
            steward.goto(url + "/data/steward/")
            assert steward.locator("#worker-notice").is_hidden()
            steward.select_option("#build-form select[name=method]", "k-anonymity")
            steward.fill("#build-form input[name=notes]", "First release with Riverside Outreach")
            steward.click("#queue-build")
            steward.wait_for_selector("#builds")
            _shot(steward, "12-release-queued")

            def built() -> str:
                steward.goto(url + "/data/steward/")
                button = steward.locator("#releases button[id^=publish-]")
                return button.first.get_attribute("id") if button.count() else ""

            publish = wait_for(built, "the release to be built", timeout=300, every=2)
            _shot(steward, "13-release-built")
            steward.click(f"[id='{publish}']")  # versions have dots: an attribute selector, not #id
            version = publish.removeprefix("publish-")
            steward.wait_for_selector(f"[id='release-{version}'] >> text=published by steward")
            _shot(steward, "14-release-published")
            steward.goto(url + "/data/")
            assert version in steward.content() and "k-anonymity" in steward.content()
            _shot(steward, "15-data-catalogue")
        except BaseException:  # what each person saw when it failed
            _shot(steward, "failed-steward")
            _shot(contributor, "failed-contributor")
            raise
        browser.close()

    log = server.log.read_text()
    assert "ctdc serve: task worker started" in log and "restarting" not in log
    assert not [n for n in names if n in log]  # nor in the server's output
