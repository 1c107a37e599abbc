"""No plaintext copy of an upload on disk (issue 14, item 5). An adversary with the disk (a backup of the temporary
folder, a stolen volume, a process killed mid-upload) searches it for a name from a contributor's file: while the
upload is being received, while it is being read by the worker, and after.

The search reads every file under the temporary folder and the data folder, and every regular file this process
holds open."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings

from ctdc.web.accounts.models import Organisation
from ctdc.web.security.sealed_uploads import SealedUploadedFile
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.rawstore import memory_backed, raw_open
from tests.web.intake import make_people

# A fictional name no other test writes; the file is over FILE_UPLOAD_MAX_MEMORY_SIZE, so it is not kept in memory.
MARKER = "Quilliam Zephyrine-Vantablack"


def _large_csv() -> bytes:
    """The contributor's file, made in memory: the test itself never writes the name to a disk."""
    rows = [f"C-{i},{MARKER if i % 1000 == 7 else 'Ana Example'},2019,F,PH,SA,forced_labour" for i in range(160_000)]
    content = ("id,full_name,registered,gender,citizenship,exploited_in,exploitation\n" + "\n".join(rows)
               + "\n").encode()
    assert len(content) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    return content


@pytest.fixture
def private_temp(tmp_path, monkeypatch) -> Path:
    """This test's own temporary folder (what tempfile and Django's upload handlers use): the other backend's run
    of the same test, at the same moment, must not show up in this one's search."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _on_disk_holding(marker: bytes, temp: Path) -> list[str]:
    """Files on a disk that contain `marker`: under the temporary and data folders, and held open by this process
    (an unnamed temporary file has no directory entry but is on the disk all the same)."""
    hits = []
    for root in (temp, Path(settings.DATA_DIR)):
        for path in root.rglob("*"):
            try:
                if path.is_file() and not memory_backed(path) and marker in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = Path(os.readlink(fd))
            if not target.is_absolute() or memory_backed(target.parent) or not fd.is_file() \
                    or target.suffix == ".py" or target.name.endswith(".pyc"):
                continue
            with open(fd, "rb") as held:
                if marker in held.read():
                    hits.append(f"{fd} -> {target}")
        except (OSError, ValueError):
            continue
    return hits


def _receive(content: bytes):
    """The request a browser sends with the file, parsed by the configured upload handlers; its uploaded file."""
    request = RequestFactory().post("/intake/submissions/new/", {"file": SimpleUploadedFile("hotline.csv", content)})
    return request.FILES["file"]


def test_a_large_upload_is_never_on_disk_in_clear_while_it_is_received(private_temp):
    content = _large_csv()
    received = _receive(content)
    try:
        assert isinstance(received, SealedUploadedFile)
        assert _on_disk_holding(MARKER.encode(), private_temp) == []
        assert b"".join(received.chunks()) == content  # and it reads back whole
        received.seek(len(content) - 10)
        assert received.read() == content[-10:]  # from any offset (zip files are read from their end)
    finally:
        received.close()


def test_the_search_finds_the_name_when_django_spools_the_upload_in_clear(private_temp):
    """The same search against Django's own temporary-file handler finds the name: the search can fail."""
    handlers = ["django.core.files.uploadhandler.MemoryFileUploadHandler",
                "django.core.files.uploadhandler.TemporaryFileUploadHandler"]
    with override_settings(FILE_UPLOAD_HANDLERS=handlers):
        received = _receive(_large_csv())
        try:
            assert _on_disk_holding(MARKER.encode(), private_temp) != []
        finally:
            received.close()


@pytest.mark.django_db
def test_the_stored_upload_is_read_from_memory_and_nothing_stays(client, private_temp):
    people = make_people()
    client.force_login(people["lakeside-helpline"])
    organisation = Organisation.objects.get(slug="lakeside-helpline")
    response = client.post("/intake/submissions/new/", {
        "organisation": organisation.pk, "dataset": "victims", "mapping": "detect",
        "file": SimpleUploadedFile("hotline.csv", _large_csv())})
    assert response.status_code == 302, response.content[:500]
    submission = Submission.objects.get()
    assert _on_disk_holding(MARKER.encode(), private_temp) == []  # stored sealed, nothing left behind
    with raw_open(name=submission.raw_path, filename=submission.filename) as path:
        assert memory_backed(path)  # /dev/shm on these machines: the readers get a path, the disk gets nothing
        assert MARKER.encode() in path.read_bytes()
        assert _on_disk_holding(MARKER.encode(), private_temp) == []
        folder = path.parent
    assert not folder.exists()
