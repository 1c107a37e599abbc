"""record_id: never a direct identifier, stored only as a keyed hash per organisation (issue 13, finding 8).

A case number is a linkage key once it sits in a central database (it is printed on letters and court files), and
before this change any column could be mapped as `record_id`: `record_id: full_name` was accepted, and the names
stored in the repository and echoed in problem rows.
"""

from __future__ import annotations

import csv
import importlib
import io
import logging

import polars as pl
import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from ctdc.errors import MappingError
from ctdc.ingest.identity import record_id_hash
from ctdc.ingest.mapping import parse_mapping
from ctdc.web.accounts.models import Organisation
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Problem, QuarantinedRow, SavedMapping, Submission
from ctdc.web.submissions.services import record_id_owner
from tests.conftest import DATA
from tests.web.intake import make_people

pytestmark = pytest.mark.django_db

HEADER = "id,registered,name,born,gender,citizenship,exploited_in,exploitation,notes\n"
ROWS = ("CASE-2021-00417,2021-06-01,Ana Testa,1990-05-06,F,PH,SA,forced_labour,\n"
        "CASE-2021-00418,2021-06-02,Bea Prova,1991-01-01,F,PH,Atlantis,forced_labour,\n"  # quarantined
        "CASE-2021-00417,2021-06-03,Ana Testa,1990-05-06,F,PH,SA,forced_labour,\n"        # duplicate id
        "CASE-2021-00419,2021-06-04,Cai Essai,1980-01-01,M,PH,SA,forced_labour,\n")
IDS = ("CASE-2021-00417", "CASE-2021-00418", "CASE-2021-00419")
NAME_AS_ID = ("record_id: full_name\ncolumns:\n  registered: {field: registration_date}\n"
              "  full_name: {field: full_name}\n")


@pytest.mark.parametrize("text, column", [
    (NAME_AS_ID, "full_name"),
    ("record_id: Nom\ncolumns:\n  Date: {field: registration_date}\n  Nom: {field: full_name}\n", "Nom"),
    # Not mapped at all, but a column the standard knows as a direct identifier (an alias, a crosswalk source).
    ("record_id: [phone]\ncolumns:\n  Date: {field: registration_date}\n", "phone"),
    ("record_id: prs_Email\ncolumns:\n  Date: {field: registration_date}\n", "prs_Email"),
    ("record_id: ['Case ID', 'date of birth']\ncolumns:\n  Date: {field: registration_date}\n", "date of birth"),
])
def test_a_direct_identifier_column_cannot_be_the_record_id(text, column):
    with pytest.raises(MappingError) as info:
        parse_mapping(text)
    assert f"record_id cannot be column '{column}'" in info.value.message
    assert "direct identifier" in info.value.message and info.value.extra["code"] == "record-id-direct-identifier"


def test_the_refusal_reaches_the_cli_and_the_mapping_editor(run_cli, tmp_path, client):
    people = make_people()
    (tmp_path / "m.yml").write_text(NAME_AS_ID)
    (tmp_path / "f.csv").write_text("registered,full_name\n2021-01-01,Ana Testa\n")
    result = run_cli("ingest", str(tmp_path / "f.csv"), "--org", "lakeside-helpline", "--mapping",
                     str(tmp_path / "m.yml"))
    assert result.exit_code != 0 and "record_id cannot be column 'full_name'" in result.output
    assert not Submission.objects.exists() and not Victim.objects.exists()
    client.force_login(people["lakeside-helpline"])
    org = Organisation.objects.get(slug="lakeside-helpline")
    page = client.post("/intake/mappings/new/", {"organisation": org.pk, "name": "names", "text": NAME_AS_ID})
    assert page.status_code == 200 and "record_id cannot be column" in page.content.decode()
    assert not SavedMapping.objects.exists()


def test_record_ids_are_stored_and_shown_only_as_keyed_hashes(run_cli, tmp_path, client, caplog):
    people = make_people()
    path = tmp_path / "cases.csv"
    path.write_text(HEADER + ROWS)
    with caplog.at_level(logging.DEBUG):
        result = run_cli("ingest", str(path), "--org", "lakeside-helpline", "--mapping",
                         str(DATA / "small.mapping.yml"), "--json")
    assert result.exit_code == 0, result.output
    submission = Submission.objects.get()
    assert (submission.accepted, submission.quarantined, submission.duplicates) == (2, 1, 1)
    duplicate = submission.problems.get(code="duplicate-record-id")
    assert duplicate.row == 4 and duplicate.value is None and "row 2 of the file" in duplicate.message
    staged = str(pl.read_parquet(io.BytesIO(default_storage.open(submission.staged_path, "rb").read())).rows())
    client.force_login(people["lakeside-helpline"])
    pages = [client.get(f"/intake/submissions/{submission.pk}/{p}").content.decode()
             for p in ("", "report/", "report.csv", "report.json", "quarantine.csv")]
    client.force_login(people["steward"])
    client.post(f"/intake/submissions/{submission.pk}/approve/")
    stored = [str(v) for model in (Victim, QuarantinedRow, Problem) for row in model.objects.values_list()
              for v in row]
    everything = "\n".join([result.output, staged, *pages, *stored, caplog.text])
    for raw in IDS:
        assert raw not in everything and raw.removeprefix("CASE-") not in everything

    org = Organisation.objects.get(slug="lakeside-helpline")
    key = settings.CTDC_IDENTITY_KEY.encode()
    expected = record_id_hash(pl.Series(["CASE-2021-00417", "CASE-2021-00419"]), key, record_id_owner(org))
    assert sorted(Victim.objects.values_list("record_id", flat=True)) == sorted(expected.to_list())
    quarantine = list(csv.DictReader(io.StringIO(pages[4])))
    assert quarantine == [{"row": "3", "codes": "unknown-country"}]
    # The same ids from another organisation are other keys: nothing links the two organisations' numbering.
    other = record_id_hash(pl.Series(["CASE-2021-00417"]), key, record_id_owner(Organisation.objects.get(
        slug="harbour-light")))[0]
    assert other not in expected.to_list()


def test_the_migration_hashes_ids_stored_before(run_cli, tmp_path):
    make_people()
    path = tmp_path / "cases.csv"
    path.write_text(HEADER + ROWS)
    assert run_cli("ingest", str(path), "--org", "lakeside-helpline", "--mapping", str(DATA / "small.mapping.yml"),
                   "--json").exit_code == 0
    submission = Submission.objects.get()
    staged = pl.read_parquet(io.BytesIO(default_storage.open(submission.staged_path, "rb").read()))
    assert run_cli("ingest", str(path), "--org", "lakeside-helpline", "--mapping", str(DATA / "small.mapping.yml"),
                   "--approve", "--json").exit_code == 0  # the same file: approves the submission above
    hashed = dict(Victim.objects.values_list("source_row", "record_id"))
    quarantined = dict(QuarantinedRow.objects.values_list("row", "record_id"))
    # Put the database and the staged file back as the previous version left them: raw ids.
    raw = {2: IDS[0], 3: IDS[1], 5: IDS[2]}
    for row, rid in raw.items():
        Victim.objects.filter(source_row=row).update(record_id=rid)
        QuarantinedRow.objects.filter(row=row).update(record_id=rid)
    default_storage.delete(submission.staged_path)
    buf = io.BytesIO()
    staged.with_columns(pl.col("source_row").replace_strict(raw, return_dtype=pl.String).alias("record_id")) \
        .write_parquet(buf)
    default_storage.save(submission.staged_path, ContentFile(buf.getvalue()))
    importlib.import_module("ctdc.web.cases.migrations.0003_record_id_hashed").forwards(apps, None)
    importlib.import_module("ctdc.web.submissions.migrations.0004_record_id_hashed").forwards(apps, None)
    assert dict(Victim.objects.values_list("source_row", "record_id")) == hashed
    assert dict(QuarantinedRow.objects.values_list("row", "record_id")) == quarantined
    again = pl.read_parquet(io.BytesIO(default_storage.open(submission.staged_path, "rb").read()))
    assert again.equals(staged)
