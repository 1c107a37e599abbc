"""A long validation report and its quarantine list come in pages, filtered, with links that keep the filters
(issue 19, item 8): a report of thousands of problems is never one endless page."""

from __future__ import annotations

import re

import pytest

from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.views import PAGE_SIZE, QUARANTINE_PAGE_SIZE
from tests.web.intake import make_people, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)
MAPPING = """dataset: victims
record_id: case
columns:
  citizenship: {field: citizenship}
  gender: {field: gender}
  year: {field: registration_year}
"""


def test_problems_and_quarantined_rows_are_paged_and_filtered(client, tmp_path):
    people = make_people()
    client.force_login(people["open-roads"])
    org = people["open-roads"].memberships.get().organisation
    saved = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "cases",
                                                  "text": MAPPING})
    assert saved.status_code == 302, saved.content.decode()[-3000:]
    rows = ["case,citizenship,gender,year"]
    # 130 rows with an unknown country (errors), 40 more with an unknown gender too, 30 clean ones.
    rows += [f"A{i},Atlantis,female,2020" for i in range(130)]
    rows += [f"B{i},NG,robot,2021" for i in range(40)] + [f"C{i},NG,male,2022" for i in range(30)]
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(rows) + "\n")
    upload(client, path, "open-roads", mapping="mapping:cases")
    run_worker()
    s = Submission.objects.get()
    assert (s.status, s.quarantined, s.problems.count()) == ("validated", 170, 170)

    url = f"/intake/submissions/{s.pk}/report/"
    first = client.get(url).content.decode()
    assert first.count('<td class="num">') >= PAGE_SIZE and "page 1 of 4" in first
    assert "1–50 below" in first and 'id="problems-pager"' in first
    third = client.get(url, {"code": "unknown-country", "page": 3}).content.decode()
    assert "page 3 of 3" in third and "101–130 below" in third
    # The pager keeps the filter and the other list's page.
    links = re.findall(r'href="(\?[^"]+)"', third)
    assert any("code=unknown-country" in link and "page=2" in link for link in links)
    assert client.get(url, {"page": "999"}).status_code == 200 and client.get(url, {"page": "x"}).status_code == 200

    quarantine = client.get(url, {"qcode": "unknown-code"}).content.decode()
    assert "40 rows held back for <code>unknown-code</code>" in quarantine
    assert 'id="quarantine-pager"' not in quarantine  # 40 rows: one page
    everything = client.get(url, {"qpage": 4}).content.decode()
    assert f"{3 * QUARANTINE_PAGE_SIZE + 1}–170 below" in everything and "page 4 of 4" in everything
    csv = client.get(f"/intake/submissions/{s.pk}/quarantine.csv").content.decode()
    assert len(csv.strip().splitlines()) == 171  # the download still has every row
