"""Raw uploads: only encrypted at rest, re-processable after a mapping change, deleted after the retention period."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from ctdc.errors import IngestError
from ctdc.web.accounts.models import Organisation
from ctdc.web.submissions.models import SavedMapping, Submission
from ctdc.web.submissions.rawstore import raw_open
from ctdc.web.submissions.services import submission_reprocess
from tests.web.intake import make_people, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people():
    return make_people()


def _a_simulated_name(csv_path: Path) -> str:
    """A full name written in the hotline's file (Latin-1, ';'), e.g. 'CORREA Rodolfo'."""
    frame = pl.read_csv(csv_path, separator=";", encoding="latin-1", infer_schema=False)
    return frame["Nom complet"].drop_nulls()[0]


def test_the_raw_upload_is_kept_only_encrypted_and_decrypts_to_the_same_bytes(client, people, simulated):
    folder, _ = simulated
    original = (folder / "lakeside-helpline.csv").read_bytes()
    name = _a_simulated_name(folder / "lakeside-helpline.csv")
    assert name.encode("latin-1") in original  # the search below could fail
    client.force_login(people["lakeside-helpline"])
    upload(client, folder / "lakeside-helpline.csv", "lakeside-helpline")
    submission = Submission.objects.get()
    stored = Path(settings.MEDIA_ROOT) / submission.raw_path
    on_disk = stored.read_bytes()
    assert on_disk.startswith(b"CTDCRAW1") and len(on_disk) > len(original)
    for encoding in ("latin-1", "utf-8"):
        assert name.encode(encoding) not in on_disk
        assert name.split()[0].encode(encoding) not in on_disk
    every_file = b"".join(p.read_bytes() for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    assert name.encode("latin-1") not in every_file
    with raw_open(name=submission.raw_path, filename=submission.filename) as clear:
        assert clear.read_bytes() == original and clear.name == "lakeside-helpline.csv"
    assert not clear.exists()  # the clear copy is deleted after use


def test_a_damaged_or_moved_raw_file_does_not_decrypt(client, people, simulated):
    folder, _ = simulated
    client.force_login(people["open-roads"])
    upload(client, folder / "open-roads.csv", "open-roads")
    submission = Submission.objects.get()
    stored = Path(settings.MEDIA_ROOT) / submission.raw_path
    data = bytearray(stored.read_bytes())
    moved = "submissions/elsewhere/raw.enc"
    default_storage.save(moved, default_storage.open(submission.raw_path))
    with pytest.raises(IngestError, match="cannot be decrypted"), raw_open(name=moved):
        pass
    data[100] ^= 1
    stored.write_bytes(bytes(data))
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "failed" and "cannot be decrypted" in submission.error


def test_a_failed_submission_is_re_processed_from_its_raw_file_after_a_mapping_is_saved(client, people, simulated):
    # The hotline's own format matches no preset: the submission waits for a mapping. Its contributor saves one in
    # the web editor, then re-processes the kept (encrypted) file with it; nothing is uploaded again.
    folder, _ = simulated
    client.force_login(people["lakeside-helpline"])
    upload(client, folder / "lakeside-helpline.csv", "lakeside-helpline")
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "needs_mapping" and "match none of the ready-made mappings" in submission.error
    assert submission.error_code == "mapping-error" and submission.error_extra["reason"] == "no-preset-matches"

    text = (folder / "lakeside-helpline.mapping.yml").read_text()
    org = Organisation.objects.get(slug="lakeside-helpline")
    broken = text.replace("field: gender", "field: sex")
    response = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "hotline", "text": broken})
    assert response.status_code == 200 and "maps to &#x27;sex&#x27;, which is not a field" in response.content.decode()
    response = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "hotline", "text": text})
    assert response.status_code == 302
    client.post(f"/intake/submissions/{submission.pk}/reprocess/", {"mapping": "mapping:hotline"})
    submission.refresh_from_db()
    assert submission.status == "uploaded" and submission.progress == 0
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated" and submission.error == ""
    assert submission.rows_read == submission.accepted + submission.quarantined + submission.duplicates > 1000
    assert submission.saved_mapping.name == "hotline" and submission.mapping_version == submission.saved_mapping.version_hash

    # A mapping change that maps the hotline's stray code: those rows leave quarantine, and the report is replaced,
    # not appended to.
    stray = submission.problems.filter(code="unknown-code", column="Type d'exploitation").count()
    assert stray > 0
    quarantined, problems = submission.quarantined, submission.problems.count()
    fixed = text.replace("EXP-AUT: other}", "EXP-AUT: other, EXP-ZZZ: other}")
    assert fixed != text
    client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "hotline", "text": fixed})
    client.post(f"/intake/submissions/{submission.pk}/reprocess/", {"mapping": "mapping:hotline"})
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated" and submission.saved_mapping.text == fixed
    assert submission.problems.count() == problems - stray and not submission.problems.filter(code="unknown-code").exists()
    assert submission.quarantined < quarantined
    assert org.mappings.count() == 2  # both versions are kept


def test_an_approved_submission_is_not_re_processed(client, people, simulated):
    folder, _ = simulated
    client.force_login(people["open-roads"])
    upload(client, folder / "open-roads.csv", "open-roads")
    run_worker()
    client.force_login(people["steward"])
    submission = Submission.objects.get()
    client.post(f"/intake/submissions/{submission.pk}/approve/")
    with pytest.raises(IngestError, match="only a validated, rejected, failed or needs-mapping"):
        submission_reprocess(submission=submission)


def test_purge_deletes_raw_files_past_the_retention_period_and_nothing_else(client, people, simulated, run_cli):
    folder, _ = simulated
    client.force_login(people["steward"])
    upload(client, folder / "open-roads.csv", "open-roads")
    upload(client, folder / "harbour-light.xlsx", "harbour-light", mapping="preset:htcds")
    run_worker()
    old, recent = Submission.objects.order_by("pk")
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=settings.CTDC_RAW_RETENTION_DAYS + 1))
    problems = old.problems.count()

    dry = json.loads(run_cli("purge", "--dry-run", "--json").stdout)
    assert dry["submissions"] == [old.pk] and default_storage.exists(old.raw_path)
    result = run_cli("purge", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == {
        "days": settings.CTDC_RAW_RETENTION_DAYS, "dry_run": False, "submissions": [old.pk]}
    assert not default_storage.exists(old.raw_path) and default_storage.exists(recent.raw_path)
    old.refresh_from_db()
    assert old.raw_path == "" and old.raw_purged_at is not None
    assert old.status == "validated" and old.problems.count() == problems  # the report stays
    assert "Deleted the raw upload of 0 submission(s)" in run_cli("purge").stdout

    with pytest.raises(IngestError, match="purged"):
        submission_reprocess(submission=old)
    page = client.get(f"/intake/submissions/{old.pk}/").content.decode()
    assert "raw file was deleted" in page
    assert json.loads(run_cli("purge", "--days", "0", "--json").stdout)["submissions"] == [recent.pk]


def test_a_mapping_suggested_from_the_kept_file_is_checked_saved_and_used(client, people, simulated):
    # The hotline's French columns match no preset. Its contributor asks for a suggestion from the kept file,
    # saves it unchanged, and re-processes: the file is validated with the suggested mapping.
    folder, _ = simulated
    client.force_login(people["lakeside-helpline"])
    upload(client, folder / "lakeside-helpline.csv", "lakeside-helpline")
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "needs_mapping"
    assert 'id="suggest-mapping"' in client.get(f"/intake/submissions/{submission.pk}/").content.decode()

    page = client.get(f"/intake/submissions/{submission.pk}/suggest-mapping/")
    assert page.status_code == 200 and 'id="suggested-note"' in page.content.decode()
    form = page.context["form"]
    text = form.initial["text"]
    assert '"Nom complet":' in text and "field: full_name" in text and "field: gender" in text
    name = _a_simulated_name(folder / "lakeside-helpline.csv")
    assert name not in text and name.split()[0] not in text  # the suggestion names columns, never people
    assert SavedMapping.objects.count() == 0  # nothing stored until saved

    org = Organisation.objects.get(slug="lakeside-helpline")
    saved = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": form.initial["name"], "text": text})
    assert saved.status_code == 302 and form.initial["name"] == "lakeside-helpline"
    client.post(f"/intake/submissions/{submission.pk}/reprocess/", {"mapping": "mapping:lakeside-helpline"})
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated", submission.error
    assert submission.rows_read == submission.accepted + submission.quarantined + submission.duplicates > 1000
    # The hotline's own codes (EXP-TRAV...) resemble no code: the suggestion leaves them for a person, so the
    # report now says exactly which values to map before the next re-process.
    stray = submission.problems.filter(code="unknown-code", column="Type d'exploitation")
    parts = {p for v in stray.values_list("value", flat=True) for p in v.split("|")}
    assert parts <= {"EXP-TRAV", "EXP-SEX", "EXP-MAR", "EXP-MEN", "EXP-AUT", "EXP-ZZZ"} and "EXP-TRAV" in parts
    assert submission.problems.filter(code="bad-date").count() < 10  # the dates were understood
    client.force_login(people["open-roads"])
    assert client.get(f"/intake/submissions/{submission.pk}/suggest-mapping/").status_code == 404
