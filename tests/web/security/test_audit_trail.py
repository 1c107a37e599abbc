"""The audit trail of a whole cycle (issue 16, item 4): a contributor uploads on the web, a steward approves, builds
a release, publishes and withdraws it; each step is one event naming who, from which organisation, when and what,
in that order, with no direct identifier. Administrators browse and export it; nobody else may. The trail is
append-only, through the ORM too."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model

from ctdc.errors import CtdcError
from ctdc.web.audit.models import AuditEvent
from ctdc.web.releases.models import Release
from ctdc.web.submissions.models import Submission
from tests.web.intake import PASSWORD, make_people, run_worker, upload

CYCLE = ["submission.upload", "submission.approve", "release.build", "release.publish", "release.withdraw"]


@pytest.mark.django_db(transaction=True)  # the real worker processes the upload and the build
def test_upload_approve_release_withdraw_each_leave_one_event_that_administrators_browse_and_export(
        client, simulated):
    folder, manifest = simulated
    people = make_people()
    get_user_model().objects.create_superuser("admin", password=PASSWORD)

    client.force_login(people["open-roads"])
    assert upload(client, folder / "open-roads.csv", "open-roads", mapping="preset:kobo-htcds").status_code == 302
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "validated", submission.error
    client.force_login(people["steward"])
    assert client.post(f"/intake/submissions/{submission.pk}/approve/", {"note": "Totals checked"}).status_code == 302
    assert client.post("/data/steward/action/", {"action": "build", "dataset": "victims", "method": "k-anonymity"}
                       ).status_code == 302
    run_worker()
    release = Release.objects.get()
    for action, extra in (("publish", {}), ("withdraw", {"reason": "Consent withdrawn for one year"})):
        client.post("/data/steward/action/", {"action": action, "dataset": "victims", "version": release.version,
                                              **extra})
    release.refresh_from_db()
    assert release.status == "withdrawn"

    trail = list(AuditEvent.objects.filter(action__in=CYCLE).order_by("pk")
                 .values_list("actor", "organisation", "action", "target_id", "note"))
    target = f"victims {release.version}"
    assert trail == [
        ("open-roads", "open-roads", "submission.upload", str(submission.pk), ""),
        ("steward", "open-roads", "submission.approve", str(submission.pk), "Totals checked"),
        ("steward", "", "release.build", target, ""),
        ("steward", "", "release.publish", target, ""),
        ("steward", "", "release.withdraw", target, "Consent withdrawn for one year"),
    ]
    events = AuditEvent.objects.filter(action__in=CYCLE).order_by("pk")
    assert all(a.at <= b.at for a, b in zip(events, events[1:], strict=False))
    assert events.get(action="submission.approve").details["records"] == submission.accepted
    assert events.get(action="release.build").details["method"] == "k-anonymity"

    # Administrators browse (with filters) and export; stewards and contributors may not.
    for who, status in (("open-roads", 403), ("steward", 403)):
        client.force_login(people[who])
        assert client.get("/accounts/audit/").status_code == status
        assert client.get("/accounts/audit.csv").status_code == status
    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/accounts/audit/?organisation=open-roads").content.decode()
    assert "submission.upload" in page and "submission.approve" in page and "release.publish" not in page
    exported = b"".join(client.get("/accounts/audit.csv?action=release.").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["action"] for r in rows] == ["release.build", "release.publish", "release.withdraw"]
    assert rows[2]["note"] == "Consent withdrawn for one year" and rows[0]["actor"] == "steward"
    everything = b"".join(client.get("/accounts/audit.csv").streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(everything)))) == AuditEvent.objects.count()

    # No direct identifier of any case reaches the trail (the simulator's names and contacts).
    import polars as pl

    raw = pl.read_csv(folder / "open-roads.csv", infer_schema=False)
    name_columns = [c for c in raw.columns if "name" in c.lower() or "phone" in c.lower()]
    assert name_columns, raw.columns
    values = {v for c in name_columns for v in raw[c].drop_nulls().to_list() if len(v) > 4}
    assert values and not [v for v in values if v in everything]


@pytest.mark.django_db
def test_the_audit_trail_refuses_updates_and_deletes_through_the_orm():
    event = AuditEvent.objects.create(actor="steward", action="submission.approve", target_type="submission",
                                      target_id="1", note="first")
    with pytest.raises(CtdcError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(CtdcError, match="append-only"):
        AuditEvent.objects.all().delete()
    with pytest.raises(CtdcError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get().note == "first"


@pytest.mark.django_db
def test_membership_and_role_changes_are_audited_with_who_made_them(client):
    people = make_people()
    added = AuditEvent.objects.filter(action="membership.add")
    assert {(e.details["user"], e.details["role"], e.organisation) for e in added} >= {
        ("open-roads", "contributor", "open-roads"), ("steward", "steward", "")}
    admin = get_user_model().objects.create_superuser("admin", password=PASSWORD)
    client.force_login(admin)
    user = people["open-roads"]
    response = client.post(f"/admin/auth/user/{user.pk}/change/", {
        "username": user.username, "is_active": "on", "is_staff": "on", "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"})
    assert response.status_code == 302, response.content.decode()[:2000]
    change = AuditEvent.objects.get(action="user.change")
    assert (change.actor, change.details["is_staff"]) == ("admin", True)
