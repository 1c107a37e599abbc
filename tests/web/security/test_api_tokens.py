"""API tokens and the contributor API (issue 16, items 2 and 3): tokens hashed at rest, scoped, expiring and
revocable, made on the web page and by the CLI; upload, status and own submissions through /api/v1/submissions."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from ctdc.web.accounts.models import ApiToken
from ctdc.web.accounts.tokens import api_token_create
from ctdc.web.audit.models import AuditEvent
from ctdc.web.submissions.models import Submission
from tests.conftest import DATA
from tests.web.intake import make_people, run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return make_people()


def _bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _upload(client, key: str, path=DATA / "ngo-simple.csv", **fields):
    with path.open("rb") as fh:
        return client.post("/api/v1/submissions", {"file": fh, "organisation": "lakeside-helpline",
                                                   "mapping": "detect", **fields}, headers=_bearer(key))


def test_a_token_is_kept_only_as_a_hash_and_shown_once_on_the_web_page(client, people):
    client.force_login(people["lakeside-helpline"])
    page = client.post("/accounts/tokens/", {"name": "nightly upload", "scopes": ["read", "submit"], "days": 30})
    assert page.status_code == 200
    token = ApiToken.objects.get()
    key = page.context["created"]["key"]
    assert key.startswith("ctdc_") and len(key) > 40 and key in page.content.decode()
    assert token.token_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get())
    assert key not in stored and key[12:] not in stored  # only the hash and the first characters
    assert token.scopes == ["read", "submit"] and token.user == people["lakeside-helpline"]
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    again = client.get("/accounts/tokens/").content.decode()
    assert key not in again and token.prefix in again  # never shown again
    assert AuditEvent.objects.filter(action="token.create", target_id=str(token.pk)).exists()


def test_the_cli_creates_lists_and_revokes_tokens(run_cli, people, client):
    made = run_cli("token", "create", "lakeside-helpline", "--name", "crm", "--scope", "read", "--days", "7", "--json")
    assert made.exit_code == 0, made.output
    import json

    out = json.loads(made.stdout)
    assert out["scopes"] == ["read"] and out["token"].startswith("ctdc_")
    assert client.get("/api/v1/submissions", headers=_bearer(out["token"])).status_code == 200
    listed = run_cli("token", "list", "lakeside-helpline")
    assert "crm" in listed.stdout and out["token"] not in listed.stdout
    assert run_cli("token", "revoke", str(out["id"])).exit_code == 0
    refused = client.get("/api/v1/submissions", headers=_bearer(out["token"]))
    assert refused.status_code == 401 and "revoked" in refused.json()["message"]
    bad = run_cli("token", "create", "lakeside-helpline", "--name", "x", "--scope", "write")
    assert bad.exit_code == 1 and "scopes" in bad.output


def test_a_read_token_cannot_upload_and_a_submit_token_cannot_read(client, people):
    user = people["lakeside-helpline"]
    _, read = api_token_create(user=user, name="r", scopes=["read"])
    _, submit = api_token_create(user=user, name="s", scopes=["submit"])
    refused = _upload(client, read)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient-scope"
    assert Submission.objects.count() == 0
    assert client.get("/api/v1/submissions", headers=_bearer(submit)).status_code == 403
    assert _upload(client, submit).status_code == 201
    assert client.get("/api/v1/submissions", headers=_bearer(read)).json()["count"] == 1


def test_an_expired_or_revoked_or_unknown_token_is_refused(client, people):
    user = people["lakeside-helpline"]
    token, key = api_token_create(user=user, name="r", scopes=["read"], days=1)
    assert client.get("/api/v1/submissions", headers=_bearer(key)).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get("/api/v1/submissions", headers=_bearer(key))
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    assert expired["WWW-Authenticate"].startswith("Bearer")
    token2, key2 = api_token_create(user=user, name="r2", scopes=["read"])
    client.force_login(user)
    assert client.post(f"/accounts/tokens/{token2.pk}/revoke/").status_code == 302
    assert client.get("/api/v1/submissions", headers=_bearer(key2)).status_code == 401
    client.logout()
    for header in ({}, _bearer("ctdc_" + "x" * 43), _bearer(key2[:-1] + "A"), {"Authorization": key2}):
        response = client.get("/api/v1/submissions", headers=header)
        assert response.status_code == 401 and set(response.json()) == {"code", "message", "extra"}


def test_a_session_cookie_does_not_open_the_contributor_api(client, people):
    client.force_login(people["lakeside-helpline"])
    assert client.get("/api/v1/submissions").status_code == 401


def test_tokens_outside_their_bounds_are_refused(people):
    from ctdc.web.accounts.tokens import TokenError

    for kwargs in ({"scopes": []}, {"scopes": ["admin"]}, {"scopes": ["read"], "days": 0},
                   {"scopes": ["read"], "days": 400}):
        with pytest.raises(TokenError):
            api_token_create(user=people["steward"], name="x", **kwargs)


@pytest.mark.django_db(transaction=True)  # the real worker runs the queued task in its own connection
def test_upload_status_and_report_through_the_api(client, people):
    from ctdc.web.submissions.services import mapping_save

    user = people["lakeside-helpline"]
    mapping_save(organisation=user.memberships.get().organisation, name="small",
                 text=(DATA / "small.mapping.yml").read_text(), user=user)
    _, key = api_token_create(user=user, name="crm", scopes=["read", "submit"])
    created = _upload(client, key, DATA / "problems.csv", mapping="mapping:small")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organisation"] == "lakeside-helpline" and body["status"] == "uploaded"
    again = _upload(client, key, DATA / "problems.csv", mapping="mapping:small")
    assert again.status_code == 200 and again.json()["id"] == body["id"]  # the same file: the same submission
    run_worker()
    detail = client.get(f"/api/v1/submissions/{body['id']}", headers=_bearer(key)).json()
    submission = Submission.objects.get(pk=body["id"])
    assert detail["status"] == submission.status and detail["progress"] == submission.progress
    assert detail["rows_read"] == submission.rows_read > 0
    assert detail["report"]["problems_total"] == submission.problems.count() > 0
    assert {p["code"] for p in detail["report"]["problems"]} == set(submission.problems.values_list("code", flat=True))
    upload_events = AuditEvent.objects.filter(action="submission.upload", target_id=str(body["id"]))
    assert upload_events.get().details["via"] == "api"
    assert upload_events.get().actor == "lakeside-helpline" and upload_events.get().organisation == "lakeside-helpline"
    assert AuditEvent.objects.filter(action="token.use").count() >= 3


def test_the_api_lists_only_the_own_organisations_submissions_and_hides_others(client, people):
    _, mine = api_token_create(user=people["lakeside-helpline"], name="a", scopes=["read", "submit"])
    _, theirs = api_token_create(user=people["harbour-light"], name="b", scopes=["read", "submit"])
    own = _upload(client, mine).json()["id"]
    with (DATA / "problems.csv").open("rb") as fh:
        other = client.post("/api/v1/submissions", {"file": fh, "organisation": "harbour-light"},
                            headers=_bearer(theirs)).json()["id"]
    listed = client.get("/api/v1/submissions", headers=_bearer(mine)).json()
    assert [s["id"] for s in listed["results"]] == [own] and listed["count"] == 1
    assert client.get(f"/api/v1/submissions/{other}", headers=_bearer(mine)).status_code == 404
    # Uploading for another organisation is refused as if it did not exist.
    with (DATA / "problems.csv").open("rb") as fh:
        refused = client.post("/api/v1/submissions", {"file": fh, "organisation": "harbour-light"},
                              headers=_bearer(mine))
    assert refused.status_code == 404 and Submission.objects.count() == 2


def test_the_list_is_paginated(client, people):
    user = people["lakeside-helpline"]
    _, key = api_token_create(user=user, name="a", scopes=["read", "submit"])
    for i in range(3):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from ctdc.web.submissions.services import submission_upload

        submission_upload(organisation=user.memberships.get().organisation, dataset="victims",
                          upload=SimpleUploadedFile(f"f{i}.csv", f"id,name\n{i},x\n".encode()), mapping_choice="detect")
    first = client.get("/api/v1/submissions?page_size=2", headers=_bearer(key)).json()
    second = client.get("/api/v1/submissions?page_size=2&page=2", headers=_bearer(key)).json()
    assert first["count"] == 3 and first["pages"] == 2 and len(first["results"]) == 2 and len(second["results"]) == 1
    assert {s["id"] for s in first["results"] + second["results"]} == set(Submission.objects.values_list("pk", flat=True))
    bad = client.get("/api/v1/submissions?page_size=1000", headers=_bearer(key))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid-request"


def test_an_oversize_upload_through_the_api_is_refused_in_the_api_shape(client, people, settings):
    from ctdc.ingest.limits import UploadLimits

    settings.CTDC_UPLOAD_LIMITS = UploadLimits(max_bytes=100, max_rows=1000, max_unpacked_bytes=10**6, max_entries=10)
    _, key = api_token_create(user=people["lakeside-helpline"], name="a", scopes=["submit"])
    refused = _upload(client, key, DATA / "problems.csv")
    assert refused.status_code == 413 and refused.json()["code"] == "upload-too-large"
    assert Submission.objects.count() == 0
