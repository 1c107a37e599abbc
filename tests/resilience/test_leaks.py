"""Leak check (issue 18, item 6): after files go through every path, the good and the failing ones, no simulated
direct identifier is anywhere ctdc writes: the database, the logs and command output, the data folder (uploads,
staged records, releases: Parquet, XLSX and archives opened, not grepped as bytes), the temporary folder, and a
backup.

The identifiers are the simulator's own (Faker names in two spellings, phone numbers, birth dates in both
formats), the ones this test feeds in; the search is `tests/web/test_end_to_end.py`'s, whose own test shows it
finds each kind.
"""

from __future__ import annotations

import gzip
import io
import logging
import tarfile
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from django.conf import settings

from tests.web.intake import make_people, run_worker, upload
from tests.web.test_end_to_end import _database_text, _identifiers, _leaks

ITEM = "6 leaks"  # its row in the summary table (conftest.py)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _text(name: str, data: bytes) -> str:
    """What a file holds as text, its containers opened: Parquet, ZIP (XLSX, ODS), gzip, tar."""
    if name.endswith(".parquet"):
        return pl.read_parquet(io.BytesIO(data)).write_csv()
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(_text(n, archive.read(n)) for n in archive.namelist())
    if data.startswith(b"\x1f\x8b"):
        return _text(name.removesuffix(".gz"), gzip.decompress(data))
    if name.endswith(".tar"):
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            return "\n".join(_text(m.name, archive.extractfile(m).read()) for m in archive if m.isfile())
    return data.decode("utf-8", errors="ignore")


def _folder_text(root: Path) -> str:
    return "\n".join(_text(p.name, p.read_bytes()) for p in sorted(Path(root).rglob("*")) if p.is_file())


def test_no_simulated_identifier_is_left_anywhere_after_every_path(run_cli, simulated, client, caplog, tmp_path,
                                                                   monkeypatch, figures):
    folder, _ = simulated
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))  # every temporary file of this test lands here
    caplog.set_level(logging.DEBUG)
    outputs = []
    people = make_people()  # the three fictional organisations and their contributors

    def cli(*args: str) -> int:
        result = run_cli(*args)
        outputs.append(result.output)
        return result.exit_code

    # Good files through the CLI, approved.
    assert cli("ingest", str(folder / "lakeside-helpline.csv"), "--org", "lakeside-helpline", "--mapping",
               str(folder / "lakeside-helpline.mapping.yml"), "--approve") == 0
    assert cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--preset", "htcds",
               "--approve") == 0
    # Broken files through the CLI: a repeated header (refused), rows whose tail uses commas (problems echoed).
    raw = (folder / "lakeside-helpline.csv").read_bytes().decode("latin-1").splitlines()
    header = raw[0].split(";")
    repeated = tmp_path / "repeated.csv"
    repeated.write_bytes("\n".join([";".join([*header[:6], header[5], *header[7:]]), *raw[1:40]]).encode("latin-1"))
    assert cli("ingest", str(repeated), "--org", "lakeside-helpline", "--mapping",
               str(folder / "lakeside-helpline.mapping.yml")) == 1
    mixed = tmp_path / "mixed.csv"
    rows = [";".join(r.split(";")[:4]) + ";" + ",".join(r.split(";")[4:]) for r in raw[1:40]]
    mixed.write_bytes("\n".join([raw[0], *rows]).encode("latin-1"))
    assert cli("ingest", str(mixed), "--org", "lakeside-helpline", "--mapping",
               str(folder / "lakeside-helpline.mapping.yml")) == 0
    # A web upload, processed by the background worker (it decrypts the upload into a temporary file).
    client.force_login(people["open-roads"])
    upload(client, folder / "open-roads.csv", "open-roads", mapping="preset:kobo-htcds")
    run_worker()
    # A release, and a backup of everything.
    assert cli("release", "build", "--publish") == 0
    assert cli("backup", str(tmp_path / "backup")) == 0

    places = {
        "database": _database_text(),
        "logs and command output": caplog.text + "\n".join(outputs),
        "data folder": _folder_text(settings.DATA_DIR),
        "temporary folder": _folder_text(private_tmp),
        "backup": _folder_text(tmp_path / "backup"),
    }
    assert "releases" in str(settings.CTDC_RELEASES_DIR) and str(settings.DATA_DIR) in str(settings.CTDC_RELEASES_DIR)
    assert len(places["data folder"]) > 100_000 and "microdata" in places["backup"]  # the scan reached the files
    ids = _identifiers()
    for where, text in places.items():
        found = _leaks(text, ids)
        figures(cases=1, leaks=sum(len(v) for v in found.values()))  # one place searched
        assert not any(found.values()), f"identifiers in the {where}: { {k: sorted(v)[:3] for k, v in found.items()} }"


def test_the_scan_finds_an_identifier_inside_each_kind_of_container(simulated, tmp_path):
    ids = _identifiers()
    name, phone = sorted(ids["names"])[0], sorted(ids["phones"])[0]
    frame = pl.DataFrame({"who": [name], "tel": [phone]})
    frame.write_parquet(tmp_path / "a.parquet")
    book = openpyxl.Workbook()
    book.active.append([name, phone])
    book.save(tmp_path / "c.xlsx")
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(frame.write_csv().encode()))
    with tarfile.open(tmp_path / "e.tar", "w") as tar:
        tar.add(tmp_path / "c.xlsx", arcname="inner/c.xlsx")
    for path in sorted(tmp_path.iterdir()):
        found = _leaks(_text(path.name, path.read_bytes()), ids)
        assert found["phones"] == {phone} and len(found["names"]) == 1, path.name
