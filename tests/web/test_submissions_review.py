"""Steward and contributor review pages: cross-organisation duplicate flags, saved mappings, data quality."""

from __future__ import annotations

import json

import pytest
from django.db.models import Count

from ctdc.web.accounts.models import Organisation
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import DuplicateFlag, SavedMapping, Submission
from tests.web.intake import make_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def _approve_hotline_and_ngo(run_cli, folder) -> None:
    for args in (("lakeside-helpline.csv", "--org", "lakeside-helpline", "--mapping", str(folder / "lakeside-helpline.mapping.yml")),
                 ("harbour-light.xlsx", "--org", "harbour-light")):
        result = run_cli("ingest", str(folder / args[0]), *args[1:], "--approve", "--json")
        assert result.exit_code == 0, result.output


def test_approval_flags_each_record_pair_sharing_an_identity_hash_across_organisations(people, run_cli, simulated):
    folder, _ = simulated
    _approve_hotline_and_ngo(run_cli, folder)
    shared = (Victim.objects.exclude(identity_hash=None).values("identity_hash")
              .annotate(orgs=Count("organisation", distinct=True)).filter(orgs__gt=1))
    expected = set()
    for row in shared:
        records = list(Victim.objects.filter(identity_hash=row["identity_hash"]).values_list("pk", "organisation_id"))
        expected |= {(a, b) for a, oa in records for b, ob in records if a < b and oa != ob}
    flags = DuplicateFlag.objects.all()
    assert expected and {(f.record_id, f.other_id) for f in flags} == expected
    assert all(f.record.organisation_id != f.other.organisation_id and f.record.identity_hash == f.other.identity_hash
               == f.identity_hash and f.status == "open" for f in flags)
    assert {f.submission.organisation.slug for f in flags} == {"harbour-light"}  # found when the second one came in
    # What a re-process would use: the detected preset; a one-off mapping file must be chosen again.
    choices = dict(Submission.objects.values_list("organisation__slug", "mapping_choice"))
    assert choices == {"lakeside-helpline": "", "harbour-light": "preset:htcds"}


def test_a_steward_confirms_or_dismisses_a_flag_and_nothing_is_merged(client, people, run_cli, simulated):
    folder, _ = simulated
    _approve_hotline_and_ngo(run_cli, folder)
    before = Victim.objects.count()
    client.force_login(people["harbour-light"])
    assert client.get("/intake/duplicates/").status_code == 403
    client.force_login(people["steward"])
    page = client.get("/intake/duplicates/").content.decode()
    first, second = DuplicateFlag.objects.order_by("pk")[:2]
    where = f"submission {first.record.submission_id}</a>, row {first.record.source_row}<br>"
    assert where in page and "Same person" in page and first.record.record_id not in page
    client.post(f"/intake/duplicates/{first.pk}/decide/", {"status": "confirmed"})
    client.post(f"/intake/duplicates/{second.pk}/decide/", {"status": "dismissed", "note": "different ages"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.decided_by) == ("confirmed", people["steward"])
    assert (second.status, second.note) == ("dismissed", "different ages")
    assert Victim.objects.count() == before
    assert Victim.objects.filter(pk__in=[first.record_id, first.other_id]).count() == 2
    confirmed = client.get("/intake/duplicates/?status=confirmed").content.decode()
    assert where in confirmed
    # Re-approving (the same file again) adds no flag twice.
    flags = DuplicateFlag.objects.count()
    _approve_hotline_and_ngo(run_cli, folder)
    assert DuplicateFlag.objects.count() == flags


def test_a_saved_mapping_is_versioned_and_usable_from_the_cli(client, people, run_cli, simulated):
    folder, _ = simulated
    org = Organisation.objects.get(slug="lakeside-helpline")
    text = (folder / "lakeside-helpline.mapping.yml").read_text()
    client.force_login(people["lakeside-helpline"])
    bad = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "hotline", "text": "columns: ["})
    assert bad.status_code == 200 and "is not valid YAML" in bad.content.decode()
    first = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "hotline", "text": text})
    v1 = SavedMapping.objects.get()
    assert first["Location"] == f"/intake/mappings/{v1.pk}/"
    edited = text.replace('"Résumé": {field: narrative}', "")
    assert edited != text
    client.post(f"/intake/mappings/{v1.pk}/", {"organisation": org.pk, "name": "hotline", "text": edited})
    client.post(f"/intake/mappings/{v1.pk}/", {"organisation": org.pk, "name": "hotline", "text": edited})  # no-op
    assert SavedMapping.objects.count() == 2
    v2 = SavedMapping.objects.exclude(pk=v1.pk).get()
    page = client.get(f"/intake/mappings/{v2.pk}/").content.decode()
    assert v1.version_hash in page and v2.version_hash in page
    assert "hotline" in client.get("/intake/mappings/").content.decode()
    client.force_login(people["open-roads"])
    assert client.get(f"/intake/mappings/{v2.pk}/").status_code == 404

    result = run_cli("ingest", str(folder / "lakeside-helpline.csv"), "--org", "lakeside-helpline",
                     "--saved-mapping", "hotline", "--json")
    assert result.exit_code == 0, result.output
    submission = Submission.objects.get(pk=json.loads(result.stdout)["submission"])
    assert (submission.saved_mapping, submission.mapping_version) == (v2, v2.version_hash)
    assert run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--preset", "kobo-htcds",
                   "--save-mapping", "kobo").exit_code == 0
    kobo = SavedMapping.objects.get(organisation__slug="open-roads")
    assert kobo.name == "kobo" and Submission.objects.get(organisation__slug="open-roads").saved_mapping == kobo
    assert run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--saved-mapping",
                   "nope").exit_code == 1


def test_the_data_quality_page_shows_completeness_by_year_and_frequent_problems(client, people, run_cli, simulated):
    folder, _ = simulated
    _approve_hotline_and_ngo(run_cli, folder)
    client.force_login(people["lakeside-helpline"])
    response = client.get("/intake/organisations/lakeside-helpline/quality/")
    assert response.status_code == 200
    quality = response.context["quality"]
    years = Victim.objects.filter(organisation__slug="lakeside-helpline").values("registration_year").distinct().count()
    assert len(quality["years"]) == years > 5
    assert quality["records"] == Victim.objects.filter(organisation__slug="lakeside-helpline").count()
    gender = quality["field_names"].index("gender")
    with_gender = Victim.objects.filter(organisation__slug="lakeside-helpline").exclude(gender=None).count()
    assert quality["overall"][gender] == round(100 * with_gender / quality["records"])
    assert all(0 <= c <= 100 for y in quality["years"] for c in y["cells"])
    codes = {p["code"] for p in quality["problems"]}
    assert {"bad-date", "unknown-country", "unknown-code"} <= codes
    html = response.content.decode()
    assert 'id="completeness"' in html and 'id="frequent-problems"' in html
    gender_row = next(f for f in quality["by_field"] if f["name"] == "gender")
    assert gender_row["overall"] == quality["overall"][gender] and len(gender_row["cells"]) == years
    assert f'title="{quality["years"][0]["year"]}: {gender_row["cells"][0][1]} %"' in html


def test_the_admin_lists_organisations_and_submissions_read_only(admin_client, people, run_cli, simulated):
    folder, _ = simulated
    run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads")
    submission = Submission.objects.get()
    assert "open-roads" in admin_client.get("/admin/accounts/organisation/").content.decode()
    assert admin_client.get("/admin/submissions/submission/").status_code == 200
    assert admin_client.get(f"/admin/submissions/submission/{submission.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/submissions/submission/{submission.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Submission.objects.filter(pk=submission.pk).exists()
