"""A contributor is led to a mapping when detection is unsure, saves it, and processes the same submission again
with one click (issue 19, item 3). The CLI refuses the same file in its own words."""

from __future__ import annotations

import json

import pytest

from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import SavedMapping, Submission
from tests.conftest import DATA
from tests.web.intake import make_people, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)
NGO = DATA / "ngo-simple.csv"


@pytest.fixture
def people():
    return make_people()


def _uploaded_and_stopped(client, people) -> Submission:
    client.force_login(people["open-roads"])
    response = upload(client, NGO, "open-roads")  # "Detect from the file's columns", the default
    assert response.status_code == 302
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "needs_mapping" and submission.error_code == "mapping-needed"
    # Nothing was accepted without the columns the preset would have dropped.
    assert (submission.rows_read, submission.accepted) == (0, 0) and Victim.objects.count() == 0
    return submission


def test_an_unsure_detection_stops_at_needs_a_mapping_and_one_click_processes_the_file_with_it(client, people):
    submission = _uploaded_and_stopped(client, people)
    page = client.get(f"/intake/submissions/{submission.pk}/").content.decode()
    assert "This file needs a mapping" in page and 'id="review-mapping"' in page
    assert "“age” (Age at registration)" in page and "“type of exploitation”" in page and "ctdc-public" in page
    assert "--" not in submission.error and ".py" not in page

    suggested = client.get(f"/intake/submissions/{submission.pk}/suggest-mapping/")
    form = suggested.context["form"]
    text = form.initial["text"]
    assert '"age":' in text and "field: age" in text and "field: exploitation_types" in text
    assert form.initial["submission"] == submission.pk and 'id="save-and-reprocess"' in suggested.content.decode()

    response = client.post("/intake/mappings/new/", {
        "organisation": submission.organisation_id, "name": form.initial["name"], "text": text,
        "submission": submission.pk, "then": "reprocess"})
    assert response.status_code == 302 and response["Location"] == f"/intake/submissions/{submission.pk}/"
    submission.refresh_from_db()
    assert submission.status == "uploaded" and submission.mapping_choice == f"mapping:{form.initial['name']}"
    run_worker()
    submission.refresh_from_db()
    assert Submission.objects.count() == 1  # the same submission, processed again
    assert submission.status == "validated" and submission.error == "" and submission.error_code == ""
    assert submission.rows_read == submission.accepted + submission.quarantined + submission.duplicates == 5
    assert submission.saved_mapping == SavedMapping.objects.get()
    client.force_login(people["steward"])
    client.post(f"/intake/submissions/{submission.pk}/approve/", {"note": "Checked with the NGO"})
    ages = sorted(Victim.objects.values_list("age", flat=True))
    assert ages == [15, 17, 29, 34, 41]
    assert set(Victim.objects.values_list("exploitation_types", flat=True)) == {"sexual_exploitation", "forced_labour"}
    # The same file uploaded again is that submission, not a second one.
    client.force_login(people["open-roads"])
    again = upload(client, NGO, "open-roads")
    assert again["Location"] == f"/intake/submissions/{submission.pk}/" and Submission.objects.count() == 1


def test_saving_only_brings_the_person_back_with_the_new_mapping_chosen(client, people):
    submission = _uploaded_and_stopped(client, people)
    text = client.get(f"/intake/submissions/{submission.pk}/suggest-mapping/").context["form"].initial["text"]
    response = client.post("/intake/mappings/new/", {"organisation": submission.organisation_id, "name": "ngo",
                                                      "text": text, "submission": submission.pk})
    assert response["Location"] == f"/intake/submissions/{submission.pk}/?mapping=mapping:ngo#reprocess"
    page = client.get(response["Location"]).content.decode()
    assert "Process again with Saved mapping: ngo" in page
    assert '<option value="mapping:ngo" selected>' in page
    client.post(f"/intake/submissions/{submission.pk}/reprocess/", {"mapping": "mapping:ngo"})
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated" and submission.accepted == 5


def test_a_mapping_for_another_organisation_cannot_be_used_to_reprocess(client, people):
    submission = _uploaded_and_stopped(client, people)
    client.force_login(people["steward"])  # a steward sees every organisation
    text = client.get(f"/intake/submissions/{submission.pk}/suggest-mapping/").context["form"].initial["text"]
    other = people["harbour-light"].memberships.get().organisation
    response = client.post("/intake/mappings/new/", {"organisation": other.pk, "name": "ngo", "text": text,
                                                      "submission": submission.pk, "then": "reprocess"})
    assert response.status_code == 200 and "belongs to Open Roads" in response.content.decode()
    assert not SavedMapping.objects.exists()
    submission.refresh_from_db()
    assert submission.status == "needs_mapping"


def test_a_binary_file_is_named_as_such_on_its_page(client, people, tmp_path):
    pdf = tmp_path / "annual-report.csv"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    client.force_login(people["open-roads"])
    upload(client, pdf, "open-roads")
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "failed" and submission.error_code == "ingest-error"
    assert submission.error.startswith("annual-report.csv looks like a PDF document, not a spreadsheet.")
    page = client.get(f"/intake/submissions/{submission.pk}/").content.decode()
    assert "looks like a PDF document" in page and "--" not in submission.error


def test_the_cli_refuses_the_unsure_detection_in_its_own_words(run_cli):
    run_cli("org", "create", "ngo", "--name", "A small NGO")
    result = run_cli("ingest", str(NGO), "--org", "ngo")
    assert result.exit_code == 1 and "--suggest-mapping" in result.output and "--preset ctdc-public" in result.output
    assert not Submission.objects.exists()
    as_json = json.loads(run_cli("ingest", str(NGO), "--org", "ngo", "--json").stdout)
    assert as_json["code"] == "mapping-needed" and as_json["extra"]["preset"] == "ctdc-public"
    # A person who chose the preset gets what they chose.
    forced = run_cli("ingest", str(NGO), "--org", "ngo", "--preset", "ctdc-public", "--json")
    assert forced.exit_code == 0 and json.loads(forced.stdout)["accepted"] == 5
