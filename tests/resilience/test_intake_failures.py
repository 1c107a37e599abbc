"""A file whose processing fails, in whatever stage, ends its submission `failed` with a reason the contributor
can read, and the same file can be sent again (issue 18, first bug found).

The faults are real: a header that repeats a column name, and a folder standing where the staged records must be
written (the storage refuses to replace it), so the storing stage fails as a full or broken disk would.
"""

import json
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings

from ctdc.errors import IngestError
from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Submission
from tests.web.intake import make_people, run_worker, upload

ITEM = "1 bad input"  # its row in the summary table (conftest.py)

DATA = Path(__file__).parent.parent / "data"
PUBLIC = DATA / "ctdc-public-kanon-quirks.csv"


def _repeated_header(tmp_path: Path) -> Path:
    """The public layout with its `ageBroad` column renamed `gender`: two columns named `gender` (D and E)."""
    lines = PUBLIC.read_text().splitlines()
    header = lines[0].split(";")
    assert header[3:5] == ["gender", "ageBroad"]
    header[4] = "gender"
    path = tmp_path / "public-layout.csv"
    path.write_text("\n".join([";".join(header), *lines[1:]]) + "\n")
    return path


def _block_staging(submission_id: int) -> Path:
    """A non-empty folder where the submission's accepted records are to be stored: storing them fails."""
    blocker = Path(settings.MEDIA_ROOT) / "submissions" / str(submission_id) / "accepted.parquet"
    if blocker.is_file():  # left by an earlier test's submission of the same id (the media folder is shared)
        blocker.unlink()
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "in-the-way").write_text("x")
    return blocker


def _unblock(blocker: Path) -> None:
    (blocker / "in-the-way").unlink()
    blocker.rmdir()


def test_a_repeated_column_name_is_a_clear_error_in_csv_and_xlsx(tmp_path):
    csv = _repeated_header(tmp_path)
    with pytest.raises(IngestError) as caught:
        ingest_file(csv, load_preset("ctdc-public"), identity_key=b"k")
    assert caught.value.message == (
        "public-layout.csv: 2 columns of the header are named 'gender' (columns D and E). Each column needs its own "
        "name: rename or delete the extra ones, then send the file again.")
    assert caught.value.extra["positions"] == [4, 5]

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Case ID", "prs_Gender", "cas_IncomingReferralDate", "prs_Gender", "notes"])
    sheet.append(["Case ID", "Gender", "Referral date", "Gender", "Notes"])
    sheet.append(["A1", "Feminine", "2021-03-04", "Masculine", ""])
    book.save(tmp_path / "cases.xlsx")
    with pytest.raises(IngestError, match=r"2 columns of the header are named 'prs_Gender' \(columns B and D\)"):
        ingest_file(tmp_path / "cases.xlsx", load_preset("htcds"), identity_key=b"k")


def test_a_repeated_name_among_columns_nobody_reads_does_not_matter(tmp_path):
    lines = PUBLIC.read_text().splitlines()
    path = tmp_path / "extra.csv"
    path.write_text("\n".join([lines[0] + ";remarks;remarks", *(ln + ";;" for ln in lines[1:])]) + "\n")
    result = ingest_file(path, load_preset("ctdc-public"), identity_key=b"k")
    assert result.report.stats["rows_read"] == 6


@pytest.mark.django_db
def test_the_cli_reports_a_repeated_header_and_the_file_can_be_sent_again(run_cli, tmp_path):
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    bad = _repeated_header(tmp_path)
    for _ in range(2):  # the second time, the same file is processed again: not "processing" for ever
        result = run_cli("ingest", str(bad), "--org", "open-roads", "--preset", "ctdc-public", "--json")
        assert result.exit_code == 1, result.output
        error = json.loads(result.stdout)
        assert error["code"] == "ingest-error" and "named 'gender' (columns D and E)" in error["message"]
        submission = Submission.objects.get()
        assert (submission.status, submission.error) == ("failed", error["message"])
    assert "Traceback" not in result.output


@pytest.mark.django_db
def test_a_crash_while_storing_ends_failed_and_the_cli_sends_the_file_again(run_cli, tmp_path):
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    # First with a preset for spreadsheets: the submission fails cleanly and we learn its id.
    first = run_cli("ingest", str(PUBLIC), "--org", "open-roads", "--preset", "htcds")
    assert first.exit_code == 1 and "is not a readable spreadsheet" in first.output
    submission = Submission.objects.get()
    assert submission.status == "failed"
    blocker = _block_staging(submission.pk)

    crashed = run_cli("ingest", str(PUBLIC), "--org", "open-roads", "--preset", "ctdc-public")
    assert crashed.exit_code == 1 and "Traceback" not in crashed.output
    submission.refresh_from_db()
    assert submission.status == "failed" and submission.progress == 100
    assert submission.error == (
        "ctdc-public-kanon-quirks.csv: an unexpected error (OSError) stopped the processing while storing the report "
        "and the accepted records. Nothing from this file entered the central repository. A data steward can find "
        "the details in the log; the file can be sent again.")
    assert crashed.output.strip().splitlines()[-1] == f"Error: {submission.error}"
    assert not submission.problems.exists() and not Victim.objects.exists()

    _unblock(blocker)
    again = run_cli("ingest", str(PUBLIC), "--org", "open-roads", "--preset", "ctdc-public", "--approve", "--json")
    assert again.exit_code == 0, again.output
    out = json.loads(again.stdout)
    assert (out["submission"], out["new"], out["status"]) == (submission.pk, True, "approved")
    assert out["rows_read"] == out["accepted"] + out["quarantined"] + out["duplicates"] == 6
    assert Victim.objects.count() == out["accepted"] == 5


@pytest.mark.django_db(transaction=True)  # the worker commits, and on_commit queues the task, as in production
def test_a_crash_in_the_background_worker_ends_failed_and_the_upload_can_be_sent_again(client, tmp_path):
    people = make_people()
    client.force_login(people["open-roads"])
    upload(client, PUBLIC, "open-roads", mapping="preset:ctdc-public")
    submission = Submission.objects.get()
    blocker = _block_staging(submission.pk)
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "failed"
    assert "unexpected error (OSError) stopped the processing while storing" in submission.error
    page = client.get(f"/intake/submissions/{submission.pk}/").content.decode()
    assert "unexpected error (OSError)" in page

    _unblock(blocker)
    response = upload(client, PUBLIC, "open-roads", mapping="preset:ctdc-public")
    assert response["Location"] == f"/intake/submissions/{submission.pk}/"
    submission.refresh_from_db()
    assert (submission.status, submission.error) == ("uploaded", "")
    run_worker()
    submission.refresh_from_db()
    assert submission.status == "validated" and submission.accepted == 5 and Submission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_repeated_header_uploaded_on_the_web_fails_with_its_reason(client, tmp_path):
    people = make_people()
    client.force_login(people["open-roads"])
    upload(client, _repeated_header(tmp_path), "open-roads", mapping="preset:ctdc-public")
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "failed" and "named 'gender' (columns D and E)" in submission.error
