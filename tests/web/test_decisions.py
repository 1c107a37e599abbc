"""Who, when and why on every decision (issue 19, item 6): approve, reject, a verdict on a possible same person
across organisations, publish, withdraw. Each is recorded on its row, shown on its page and appended to the audit
trail, which keeps no direct identifier and refuses to be rewritten."""

from __future__ import annotations

import pytest

from ctdc.errors import CtdcError
from ctdc.web.audit.models import AuditEvent
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import Release
from ctdc.web.submissions.models import DuplicateFlag, Submission
from tests.web.intake import make_people, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)

# Two organisations registered the same three fictional people (same name, birth date, citizenship).
PEOPLE_CSV = """case,name,date of birth,citizenship,gender,year of registration
{p}1,Ondine Marchetti,1990-04-02,NG,female,2021
{p}2,Tobias Wrenfield,1985-11-23,AL,male,2022
{p}3,Ilse Varganova,2001-07-30,VN,female,2023
"""
MAPPING = """dataset: victims
record_id: case
columns:
  name: {field: full_name}
  date of birth: {field: birth_date}
  citizenship: {field: citizenship}
  gender: {field: gender}
  year of registration: {field: registration_year}
"""
NAMES = ("Ondine", "Marchetti", "Tobias", "Wrenfield", "Ilse", "Varganova", "1990-04-02")


@pytest.fixture
def people():
    return make_people()


def _validated(client, people, org: str, tmp_path) -> Submission:
    path = tmp_path / f"{org}.csv"
    path.write_text(PEOPLE_CSV.format(p=org[:2].upper()))
    client.force_login(people[org])
    organisation = people[org].memberships.get().organisation
    client.post("/intake/mappings/new/", {"organisation": organisation.pk, "name": "cases", "text": MAPPING})
    upload(client, path, org, mapping="mapping:cases")
    run_worker()
    submission = Submission.objects.get(organisation=organisation)
    assert submission.status == "validated", submission.error
    return submission


def test_approve_and_reject_record_who_when_and_why_and_show_it(client, people, tmp_path):
    first = _validated(client, people, "open-roads", tmp_path)
    second = _validated(client, people, "harbour-light", tmp_path)
    client.force_login(people["steward"])
    page = client.get(f"/intake/submissions/{first.pk}/").content.decode()
    # One form: the note sits above both buttons, which both use it.
    form = page[page.index('id="decision-form"'):page.index("</form>", page.index('id="decision-form"'))]
    assert form.index('name="note"') < form.index('id="approve"') < form.index('id="reject"')
    assert '<label for="id_note">' in form

    client.post(f"/intake/submissions/{first.pk}/approve/", {"note": "Checked the totals with Open Roads"})
    client.post(f"/intake/submissions/{second.pk}/reject/", {"note": "Wrong reporting period"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.decided_by, first.decision_note) == (
        "approved", people["steward"], "Checked the totals with Open Roads")
    assert (second.status, second.decided_by, second.decision_note) == (
        "rejected", people["steward"], "Wrong reporting period")
    events = list(AuditEvent.objects.filter(action__in=["submission.approve", "submission.reject"]).order_by("pk")
                  .values_list("actor", "action", "target_id", "note"))
    assert events == [("steward", "submission.approve", str(first.pk), "Checked the totals with Open Roads"),
                      ("steward", "submission.reject", str(second.pk), "Wrong reporting period")]
    too_long = client.post(f"/intake/submissions/{second.pk}/approve/", {"note": "x" * 2001}, follow=True)
    assert "Nothing was decided: Ensure this value has at most 2000 characters" in too_long.content.decode()
    assert Submission.objects.get(pk=second.pk).status == "rejected"
    # The contributor sees who decided, when and why.
    client.force_login(people["open-roads"])
    page = client.get(f"/intake/submissions/{first.pk}/").content.decode()
    assert "<strong>Approved</strong> by steward" in page and "Checked the totals with Open Roads" in page


def test_a_verdict_on_a_possible_same_person_keeps_its_note_who_and_when(client, people, tmp_path):
    for org in ("open-roads", "harbour-light"):
        submission = _validated(client, people, org, tmp_path)
        client.force_login(people["steward"])
        client.post(f"/intake/submissions/{submission.pk}/approve/")
    flags = list(DuplicateFlag.objects.order_by("pk"))
    assert len(flags) == 3 and Victim.objects.count() == 6
    page = client.get("/intake/duplicates/").content.decode()
    assert f'<label for="note-{flags[0].pk}">Note (optional)</label>' in page
    client.post(f"/intake/duplicates/{flags[0].pk}/decide/", {"status": "confirmed", "note": "Same case file number"})
    client.post(f"/intake/duplicates/{flags[1].pk}/decide/", {"status": "dismissed"})
    client.post(f"/intake/duplicates/{flags[0].pk}/decide/", {"status": "open", "note": "Asked both NGOs again"})
    for f in flags:
        f.refresh_from_db()
    assert (flags[0].status, flags[0].note, flags[0].decided_by) == ("open", "Asked both NGOs again", people["steward"])
    assert (flags[1].status, flags[1].note, flags[1].decided_by) == ("dismissed", "", people["steward"])
    assert flags[1].decided_at is not None and flags[2].decided_at is None
    trail = list(AuditEvent.objects.filter(target_type="duplicate_flag").order_by("pk")
                 .values_list("action", "target_id", "note"))
    assert trail == [("duplicate_flag.confirmed", str(flags[0].pk), "Same case file number"),
                     ("duplicate_flag.dismissed", str(flags[1].pk), ""),
                     ("duplicate_flag.reopen", str(flags[0].pk), "Asked both NGOs again")]
    dismissed = client.get("/intake/duplicates/?status=dismissed").content.decode()
    assert "steward, " in dismissed
    opened = client.get("/intake/duplicates/?status=open").content.decode()
    assert "Asked both NGOs again" in opened
    bad = client.post(f"/intake/duplicates/{flags[2].pk}/decide/", {"status": "merged"})
    assert bad.status_code == 302 and DuplicateFlag.objects.get(pk=flags[2].pk).status == "open"
    # Nothing of a person reaches the audit trail.
    text = " ".join(f"{e.actor} {e.action} {e.target_id} {e.note} {e.details}" for e in AuditEvent.objects.all())
    assert not any(n in text for n in NAMES)


def test_publish_and_withdraw_from_the_steward_page_record_who_and_why(client, people, run_cli, simulated):
    folder, _ = simulated
    run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve")
    assert run_cli("release", "build").exit_code == 0
    release = Release.objects.get()
    client.force_login(people["steward"])
    client.post("/data/steward/action/", {"action": "publish", "dataset": "victims", "version": release.version})
    release.refresh_from_db()
    assert release.status == "published" and release.published_by == "steward"
    page = client.get("/data/steward/").content.decode()
    assert f'<label for="reason-{release.version}">Why withdraw it</label>' in page
    missing = client.post("/data/steward/action/", {"action": "withdraw", "dataset": "victims",
                                                     "version": release.version, "reason": "  "})
    assert missing.status_code == 400 and "Say why the release is withdrawn" in missing.content.decode()
    assert "--reason" not in missing.content.decode()
    client.post("/data/steward/action/", {"action": "withdraw", "dataset": "victims", "version": release.version,
                                          "reason": "A contributor withdrew consent for one year"})
    release.refresh_from_db()
    assert (release.status, release.withdrawn_by) == ("withdrawn", "steward")
    page = client.get("/data/steward/").content.decode()
    assert "published by steward" in page and "withdrawn by steward" in page
    assert list(AuditEvent.objects.exclude(action__startswith="auth.").exclude(action__startswith="membership.")
                .order_by("pk").values_list("actor", "action", "note")) == [
        ("cli", "submission.upload", ""),  # `ctdc ingest --approve` above
        ("cli", "submission.approve", ""),
        ("cli", "release.build", ""),
        ("steward", "release.publish", ""),
        ("steward", "release.withdraw", "A contributor withdrew consent for one year")]
    # From the command line, the actor is the command.
    assert run_cli("release", "build", "--publish").exit_code == 0
    assert Release.objects.filter(status="published").get().published_by == "cli"


def test_the_audit_trail_is_append_only(people):
    event = AuditEvent.objects.create(actor="steward", action="submission.approve", target_type="submission",
                                      target_id="1", note="first")
    event.note = "rewritten"
    with pytest.raises(CtdcError, match="append-only"):
        event.save()
    with pytest.raises(CtdcError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).note == "first"
