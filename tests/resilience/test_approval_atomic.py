"""Approval writes a submission's records with the database's bulk path (COPY on PostgreSQL, executemany on
SQLite) inside one transaction: a process killed mid-approval leaves none of them visible (issue 14, item 1).

The kill is real and deterministic: the approving process runs as a subprocess on this test's database, and the
bulk writer's test hook (`CTDC_TEST_KILL_APPROVAL_AFTER_ROWS`) sends it SIGKILL once rows are in the table,
uncommitted — on SQLite after the first batch (`bulk.BATCH` rows), on PostgreSQL after the INSERT from the COPY'd
temporary table — with no cleanup, no exception handler and no timing involved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import polars as pl
import pytest
from django.conf import settings
from django.db import connection

from ctdc.ingest.mapping import load_mapping
from ctdc.web.accounts.services import organisation_create
from ctdc.web.cases.bulk import KILL_AFTER_ROWS
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.services import submission_ingest
from tests.conftest import DATA

ITEM = "2 crashes"  # its row in the summary table (conftest.py)

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = 100_000

APPROVE = textwrap.dedent("""
    import sys
    from ctdc.cli.common import setup_django
    setup_django()
    from ctdc.web.submissions.models import Submission
    from ctdc.web.submissions.services import submission_approve
    print(submission_approve(submission=Submission.objects.get(pk=int(sys.argv[1]))))
""")


def _file(path):
    """100,000 rows in the small test layout: a bad country every 1,000th row, a repeated id every 2,500th."""
    i = pl.col("i")
    pl.DataFrame({"i": range(ROWS)}).select(
        pl.when(i % 2500 == 7).then(pl.lit("C-6")).otherwise(pl.format("C-{}", i)).alias("id"),
        pl.format("20{}-03-04", (i % 20 + 10).cast(pl.String)).alias("registered"),
        pl.when(i % 2 == 0).then(pl.lit("F")).otherwise(pl.lit("M")).alias("gender"),
        pl.when(i % 1000 == 3).then(pl.lit("Atlantis")).otherwise(pl.lit("PH")).alias("citizenship"),
        pl.lit("SA").alias("exploited_in"), pl.lit("forced_labour").alias("exploitation"),
    ).write_csv(path)


def _approve(submission_id: int, kill_after: int | None) -> subprocess.CompletedProcess:
    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "CTDC_DATA_DIR": str(settings.DATA_DIR),
           "DJANGO_SETTINGS_MODULE": "ctdc.web.config.settings.base"}
    env.pop(KILL_AFTER_ROWS, None)
    if kill_after is not None:
        env[KILL_AFTER_ROWS] = str(kill_after)
    return subprocess.run([sys.executable, "-c", APPROVE, str(submission_id)], env=env, capture_output=True,
                          text=True, timeout=600)


def test_an_approval_killed_after_its_first_batch_leaves_nothing_and_a_second_one_writes_everything(tmp_path):
    organisation, _ = organisation_create(slug="open-roads", name="Open Roads", kind="case_management")
    _file(tmp_path / "big.csv")
    outcome = submission_ingest(organisation=organisation, path=tmp_path / "big.csv",
                                spec=load_mapping(DATA / "small.mapping.yml"))
    s = outcome.submission
    s.refresh_from_db()
    assert s.status == "validated" and s.rows_read == ROWS
    assert (s.quarantined, s.duplicates) == (100, 40) and s.accepted == ROWS - 140

    killed = _approve(s.pk, kill_after=1)  # at the first kill point: after the first batch
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert Victim.objects.count() == 0
    s.refresh_from_db()
    assert s.status == "validated" and s.decided_at is None

    done = _approve(s.pk, kill_after=None)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.split()[-1]) == s.accepted
    s.refresh_from_db()
    assert s.status == "approved"
    assert Victim.objects.filter(submission=s).count() == s.accepted
    assert s.rows_read == s.accepted + s.quarantined + s.duplicates
    # Same result as the ORM path: keys, provenance and typed values as the pipeline staged them.
    stored = pl.DataFrame(list(Victim.objects.values("record_id", "source_row", "registration_year", "gender",
                                                     "citizenship", "is_abduction", "victim_id", "updated_at")))
    staged = pl.read_parquet(settings.MEDIA_ROOT / s.staged_path)
    both = staged.select("record_id", "source_row", "registration_year", "gender").join(
        stored, on="record_id", how="inner", suffix="_db")
    assert both.height == s.accepted
    assert (both["source_row"] == both["source_row_db"]).all()
    assert (both["registration_year"] == both["registration_year_db"]).all()
    assert both["gender_db"].unique().sort().to_list() == ["female", "male"]
    assert stored["victim_id"].n_unique() == s.accepted and stored["victim_id"].str.len_chars().unique().to_list() == [32]
    assert stored["updated_at"].null_count() == 0
