"""Upload limits (issue 16, item 6): size while streaming, a spreadsheet's zip directory, rows; in page, API, CLI.

The zip bomb is a real one (a sheet inflating to 216 MB from well under 1 MB, as the review's), refused in a
process of its own whose peak memory is measured; the oversize upload is announced as 10 GB to a live server that
must answer without waiting for it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest

from ctdc.errors import UploadTooLarge
from ctdc.ingest.limits import MIB, UploadLimits
from ctdc.ingest.mapping import load_mapping
from ctdc.ingest.pipeline import ingest_file
from ctdc.ingest.readers import read_table
from tests.conftest import DATA

SMALL = DATA / "small.mapping.yml"
HEADER = "id,registered,name,born,gender,citizenship,exploited_in,exploitation,notes\n"


def csv_file(path: Path, rows: int, citizenship: list[str] | None = None, pad: int = 0) -> Path:
    """A file in the layout of tests/data/small.mapping.yml; `pad` adds that many bytes of notes per row."""
    codes = citizenship or ["PH"]
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(rows):
            fh.write(f"R{i},2021-03-04,,,F,\"{codes[i % len(codes)]}\",SA,forced_labour,{'x' * pad}\n")
    return path


def zip_bomb(path: Path, unpacked_mb: int = 216) -> Path:
    """An XLSX whose sheet inflates to `unpacked_mb` MB of blanks (written streamed: never held in memory)."""
    book = openpyxl.Workbook()
    book.active.append(["id", "registered", "citizenship"])
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, part)
                continue
            head, tail = part.split(b"</sheetData>")
            with out.open(item.filename, "w", force_zip64=True) as fh:
                fh.write(head)
                block = b" " * MIB
                for _ in range(unpacked_mb):
                    fh.write(block)
                fh.write(b"</sheetData>" + tail)
    plain.unlink()
    return path


# --- the core ------------------------------------------------------------------------------------------------

MEASURE = """
import json, resource, sys
from ctdc.ingest.mapping import load_mapping
from ctdc.ingest.pipeline import ingest_file
from ctdc.errors import UploadTooLarge
spec = load_mapping(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    ingest_file(sys.argv[1], spec, identity_key=b"k")
    outcome = {"refused": False}
except UploadTooLarge as exc:
    outcome = {"refused": True, **exc.as_dict()}
outcome["grew_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps(outcome))
"""


def test_a_zip_bomb_xlsx_is_refused_from_its_directory_and_memory_stays_under_100_mb(tmp_path):
    bomb = zip_bomb(tmp_path / "cases.xlsx")
    assert bomb.stat().st_size < MIB
    done = subprocess.run([sys.executable, "-c", MEASURE, str(bomb), str(SMALL)], capture_output=True, text=True,
                          timeout=300, check=True)
    outcome = json.loads(done.stdout)
    assert outcome["refused"] and outcome["code"] == "upload-too-large"
    assert outcome["extra"]["reason"] == "zip-bomb" and "216 MB" in outcome["message"]
    assert outcome["grew_kb"] < 100 * 1024  # ru_maxrss is in KiB on Linux


def test_a_workbook_over_the_unpacked_size_or_entry_count_is_refused_before_parsing(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["id", "registered"])
    for i in range(2000):
        book.active.append([f"R{i}", "2021-01-01"])
    path = tmp_path / "cases.xlsx"
    book.save(path)
    with pytest.raises(UploadTooLarge, match="would unpack to") as exc:
        read_table(path, limits=UploadLimits(max_unpacked_bytes=20_000))
    assert exc.value.extra["reason"] == "unpacked-too-large"
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(many, "w") as out:
        for item in source.infolist():
            out.writestr(item, source.read(item.filename))
        for i in range(30):
            out.writestr(f"xl/media/image{i}.png", b"")
    with pytest.raises(UploadTooLarge, match="holds 39 parts, more than the 25") as exc:
        read_table(many, limits=UploadLimits(max_entries=25))
    assert exc.value.extra["reason"] == "too-many-entries"
    assert read_table(many).frame.height == 2000  # the default limits accept a real workbook


def test_a_file_over_the_row_cap_is_refused_and_one_at_the_cap_is_read(tmp_path):
    path = csv_file(tmp_path / "rows.csv", rows=50)
    with pytest.raises(UploadTooLarge, match="more than 49 rows") as exc:
        ingest_file(path, load_mapping(SMALL), identity_key=b"k", limits=UploadLimits(max_rows=49))
    assert exc.value.extra == {"file": "rows.csv", "reason": "too-many-rows", "limit": 49}
    result = ingest_file(path, load_mapping(SMALL), identity_key=b"k", limits=UploadLimits(max_rows=50))
    assert result.report.stats["rows_read"] == 50


# --- the CLI -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_ctdc_ingest_refuses_an_oversize_file_in_one_line(run_cli, settings, tmp_path):
    settings.CTDC_UPLOAD_LIMITS = UploadLimits(max_bytes=MIB)
    path = csv_file(tmp_path / "big.csv", rows=400, pad=4000)
    run_cli("org", "create", "lakeside-helpline", "--name", "Lakeside")
    result = run_cli("ingest", str(path), "--org", "lakeside-helpline", "--mapping", str(SMALL))
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: big.csv is 1.5 MB, more than the 1.0 MB a file may be. Split it into "
                                     "several files (by year, say) and submit each.")
    from ctdc.web.submissions.models import Submission

    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_ctdc_ingest_refuses_a_file_over_the_row_cap(run_cli, settings, tmp_path):
    settings.CTDC_UPLOAD_LIMITS = UploadLimits(max_rows=10)
    run_cli("org", "create", "lakeside-helpline", "--name", "Lakeside")
    result = run_cli("ingest", str(csv_file(tmp_path / "rows.csv", rows=11)), "--org", "lakeside-helpline",
                     "--mapping", str(SMALL), "--json")
    assert result.exit_code == 1
    # Read after it was recorded (as any file that cannot be read): the submission failed, with the reason.
    out = json.loads(result.stdout)
    assert out["code"] == "upload-too-large"
    from ctdc.web.submissions.models import Submission

    failed = Submission.objects.get()
    assert out["extra"] == {"file": "rows.csv", "reason": "too-many-rows", "limit": 10, "submission": failed.pk}
    assert failed.status == "failed" and failed.error_code == "upload-too-large"


# --- the web -------------------------------------------------------------------------------------------------

@pytest.fixture
def contributor(db):
    from tests.web.intake import make_people

    return make_people()["lakeside-helpline"]


def _post(client, path: Path, **extra):
    from ctdc.web.accounts.models import Organisation

    with path.open("rb") as fh:
        return client.post("/intake/submissions/new/", {"organisation": Organisation.objects.get(
            slug="lakeside-helpline").pk, "dataset": "victims", "mapping": "detect", "file": fh}, **extra)


def test_the_page_refuses_an_upload_cut_off_while_it_streamed_in(client, contributor, settings, tmp_path):
    from ctdc.web.submissions.models import Submission

    settings.CTDC_UPLOAD_LIMITS = UploadLimits(max_bytes=MIB)
    client.force_login(contributor)
    response = _post(client, csv_file(tmp_path / "big.csv", rows=400, pad=4000))  # 1.5 MB: within the overhead
    assert response.status_code == 413
    page = response.content.decode()
    assert "big.csv is larger than the 1.0 MB a file may be; it was not kept." in page
    assert "This field is required" not in page
    assert not Submission.objects.exists()


def test_the_page_refuses_a_spreadsheet_whose_directory_promises_too_much(client, contributor, settings, tmp_path):
    from ctdc.web.submissions.models import Submission

    settings.CTDC_UPLOAD_LIMITS = UploadLimits(max_entries=5)
    client.force_login(contributor)
    book = openpyxl.Workbook()
    book.save(tmp_path / "cases.xlsx")
    response = _post(client, tmp_path / "cases.xlsx")
    assert response.status_code == 413 and "more than the 5 a spreadsheet may have" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_request_announcing_more_than_the_limit_is_refused_before_its_body_is_read(client, contributor):
    client.force_login(contributor)
    page = client.post("/intake/submissions/new/", data=b"", content_type="multipart/form-data; boundary=x",
                       CONTENT_LENGTH=str(10 << 30))
    assert page.status_code == 413 and page.content.decode().startswith("The request is 10240 MB, more than")
    api = client.post("/api/v1/releases", data=b"", content_type="application/json", CONTENT_LENGTH=str(10 << 30))
    assert api.status_code == 413 and api.json()["code"] == "upload-too-large"
    assert api.json()["extra"] == {"reason": "file-too-large", "size": 10 << 30, "limit": 256 * MIB}


@pytest.mark.django_db(transaction=True)
def test_a_live_server_answers_a_10_gb_upload_without_waiting_for_its_body(live_server):
    # If the server read the body it would wait for 10 GB that never come; the socket's timeout would fail this.
    url = urlsplit(live_server.url)
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(b"POST /intake/submissions/new/ HTTP/1.1\r\nHost: localhost\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10737418240\r\n\r\n"
                     + b"x" * 65536)
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")
