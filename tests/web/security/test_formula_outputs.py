"""Every CSV the web produces defuses text that starts like a formula (ctdc.formulas), for each prefix."""

import csv
import io
from datetime import date

import pytest

from ctdc.web.accounts.services import steward_ensure
from ctdc.web.portal.models import UsageCount
from tests.web.intake import make_people, run_worker, upload
from tests.web.security.test_upload_limits import SMALL, csv_file

PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.django_db
def test_the_usage_export_defuses_every_prefix(client):
    steward, _ = steward_ensure(username="steward", password="correct horse battery staple")
    for i, prefix in enumerate(PREFIXES):
        UsageCount.objects.create(day=date(2026, 1, 1), kind="page", name=f"{prefix}cmd|x{i}", count=1)
    client.force_login(steward)
    body = client.get("/steward/usage.csv").content.decode()
    # Read as text: a bare CR inside a cell would split the row for a CSV reader, not for a spreadsheet's import.
    for i, prefix in enumerate(PREFIXES):
        assert f"2026-01-01,page,'{prefix}cmd|x{i},1\n" in body
        assert f",{prefix}cmd|x{i}," not in body


@pytest.mark.django_db(transaction=True)
def test_the_validation_report_csv_defuses_coded_values_echoed_back(client, tmp_path):
    from ctdc.web.accounts.models import Organisation
    from ctdc.web.submissions.services import mapping_save

    people = make_people()
    mapping_save(organisation=Organisation.objects.get(slug="lakeside-helpline"), name="small",
                 text=SMALL.read_text())
    client.force_login(people["lakeside-helpline"])
    # Cells are trimmed on reading, so tab and CR never reach a report; the four visible prefixes do.
    path = csv_file(tmp_path / "codes.csv", rows=4, citizenship=["=1+1", "+cmd", "-cmd", "@SUM(A1)"])
    assert upload(client, path, "lakeside-helpline", mapping="mapping:small").status_code == 302
    run_worker()
    from ctdc.web.submissions.models import Submission

    pk = Submission.objects.get().pk
    rows = list(csv.DictReader(io.StringIO(client.get(f"/intake/submissions/{pk}/report.csv").content.decode())))
    echoed = sorted(r["value"] for r in rows if r["field"] == "citizenship")
    assert echoed == ["'+cmd", "'-cmd", "'=1+1", "'@SUM(A1)"]
