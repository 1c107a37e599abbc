"""Pages hold their shape (issue 19, item 8): no page of the contributor's and the steward's story is wider than
the window, at 1,280 and at 390 px, with a report holding a 2 MB cell and a steward page holding a long build log;
and every field of every form on them has a label.
Screenshots of every page at both widths go to var/screenshots/layout-*.png."""

from __future__ import annotations

import pytest

from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.submissions.models import DuplicateFlag, Submission
from tests.conftest import DATA
from tests.web.browser import SHOTS, chromium_page
from tests.web.intake import PASSWORD, make_people, run_worker, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAPPING = """dataset: victims
record_id: case
columns:
  name: {field: full_name}
  date of birth: {field: birth_date}
  citizenship: {field: citizenship}
  gender: {field: gender}
  type of exploitation: {field: exploitation_types}
  year of registration: {field: registration_year}
"""
BIG = "X" * (2 * 1024 * 1024)  # one cell of 2 MB, without a single space to break at


def _case_file(path, prefix: str, rows: int, big: bool) -> None:
    """A contributor file with `rows` cases; every third has an unknown gender code (a long, paged report)."""
    lines = ["case,name,date of birth,citizenship,gender,type of exploitation,year of registration,notes"]
    for i in range(rows):
        gender = f"unknown-gender-code-{i % 7}" if i % 3 == 0 else ("female" if i % 2 else "male")
        lines.append(f"{prefix}{i},Person Number{i} Fictional,19{70 + i % 30}-01-0{1 + i % 9},NG,{gender},"
                     f"forced_labour,{2015 + i % 8},")
    if big:
        lines.append(f"{prefix}BIG,Someone Fictional,1990-01-01,{BIG},{BIG},{BIG},2020,{BIG}")
    path.write_text("\n".join(lines) + "\n")


def _story(client, people, tmp_path) -> dict:
    """The state the story's pages show: a submission waiting for a mapping, a validated one with a 2 MB cell and a
    long report, an approved pair of organisations with possible same persons, and builds with long logs."""
    urls = {}
    for org, rows, big in (("open-roads", 400, True), ("harbour-light", 40, False)):
        organisation = people[org].memberships.get().organisation
        client.force_login(people[org])
        client.post("/intake/mappings/new/", {"organisation": organisation.pk, "name": "cases", "text": MAPPING})
        path = tmp_path / f"{org}.csv"
        _case_file(path, "C", rows, big)  # the same case numbers and people in both files: possible same persons
        upload(client, path, org, mapping="mapping:cases")
    client.force_login(people["open-roads"])
    upload(client, tmp_path.parent / "ngo.csv", "open-roads")  # detection unsure: needs a mapping
    run_worker()
    big = Submission.objects.get(organisation__slug="open-roads", filename="open-roads.csv")
    small = Submission.objects.get(organisation__slug="harbour-light")
    waiting = Submission.objects.get(filename="ngo.csv")
    assert (big.status, small.status, waiting.status) == ("validated", "validated", "needs_mapping")
    assert big.problems.count() > 120 and big.quarantined > 100
    client.force_login(people["steward"])
    client.post(f"/intake/submissions/{small.pk}/approve/", {"note": "Checked"})
    urls["decide"] = f"/intake/submissions/{big.pk}/"
    client.post(f"/intake/submissions/{big.pk}/approve/", {"note": "Checked " + "with a long note " * 40})
    assert DuplicateFlag.objects.exists()
    long_line = "Z" * 5000
    ReleaseBuild.objects.create(dataset="victims", method="k-anonymity", params={"k": 11}, status="failed",
                                progress=60, requested_by="steward", error="Failed: " + long_line,
                                log="".join(f"08:{i % 60:02d}:00  {i % 100:3d}% step {i}: {long_line if i % 50 == 0 else 'ok'}\n"
                                            for i in range(400)))
    urls.update({
        "intake-home": "/intake/", "submissions": "/intake/submissions/", "upload": "/intake/submissions/new/",
        "needs-mapping": f"/intake/submissions/{waiting.pk}/",
        "suggested-mapping": f"/intake/submissions/{waiting.pk}/suggest-mapping/",
        "submission": f"/intake/submissions/{big.pk}/", "report": f"/intake/submissions/{big.pk}/report/",
        "report-page-3": f"/intake/submissions/{big.pk}/report/?page=3&qpage=2#quarantine",
        "mappings": "/intake/mappings/", "quality": "/intake/organisations/open-roads/quality/",
        "duplicates": "/intake/duplicates/?status=open", "steward": "/data/steward/",
        "invitations": "/accounts/invitations/", "data": "/data/",
    })
    return urls


def _unlabelled(page) -> list[str]:
    """Visible form fields with no label (neither a <label> nor an aria-label)."""
    return page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.tagName + '[name=' + e.name + ']')""")


def _too_wide(page) -> dict:
    return page.evaluate("""() => {
        const w = window.innerWidth, sw = document.documentElement.scrollWidth;
        const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.'));
        return {inner: w, scroll: sw, wide};
    }""")


def test_no_page_of_the_story_is_wider_than_the_window_at_1280_and_390_px(live_server, client, tmp_path):
    people = make_people()
    (tmp_path.parent / "ngo.csv").write_bytes((DATA / "ngo-simple.csv").read_bytes())
    urls = _story(client, people, tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with chromium_page() as page:
        for who, names in (("open-roads", ("intake-home", "submissions", "upload", "needs-mapping",
                                           "suggested-mapping", "submission", "report", "report-page-3", "mappings",
                                           "quality")),
                           ("steward", ("decide", "duplicates", "steward", "invitations", "data"))):
            page.context.clear_cookies()
            page.goto(live_server.url + "/accounts/login/")
            page.fill("#id_username", who)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                for name in names:
                    response = page.goto(live_server.url + urls[name])
                    assert response.status < 400, (name, response.status)
                    # Folded parts (build logs, help) are opened: they must hold their shape too.
                    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                    measured = _too_wide(page)
                    page.screenshot(path=str(SHOTS / f"layout-{name}-{width}.png"), full_page=True)
                    if measured["scroll"] > measured["inner"]:
                        problems.append((name, width, measured))
                    if unlabelled := _unlabelled(page):
                        problems.append((name, width, {"unlabelled": unlabelled}))
    assert problems == []
    assert Release.objects.count() == 0  # the story's pages only; nothing built here
