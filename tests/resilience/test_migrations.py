"""Migrations run forward on a populated database from an earlier schema (issue 18, item 5).

There is no tagged release yet, so the earlier schema is the one main had at f0f07b3 (2026-12-05, "ctdc backup /
ctdc restore"): the first installation that could have been backed up. Its migration state, read from that
commit's tree (`git ls-tree f0f07b3 src/ctdc/web/*/migrations`):

    accounts 0001, cases 0003, releases 0004, submissions 0004, worker 0001; audit and portal did not exist.

The test database is migrated back to that state, filled through the historical models of that state (an
organisation, an approved submission with its problems, victim records, a published release, a build, ledger
entries), then migrated forward to today's leaf migrations; every row must still be there with its values, and
the columns added since get their defaults. When a release is tagged, move EARLIER to its migration state.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

ITEM = "5 backup, restore, migrations"
pytestmark = pytest.mark.django_db(transaction=True)

EARLIER = [("accounts", "0001_initial"), ("cases", "0003_record_id_hashed"),
           ("releases", "0004_build_cancel"), ("submissions", "0004_record_id_hashed"),
           ("worker", "0001_initial"), ("audit", None), ("portal", None)]
RECORDS = 50


def _fill(apps) -> None:
    """Rows in the earlier schema, written with its own models (today's could name columns it lacks)."""
    now = timezone.now()
    Organisation = apps.get_model("accounts", "Organisation")
    Submission = apps.get_model("submissions", "Submission")
    Problem = apps.get_model("submissions", "Problem")
    Victim = apps.get_model("cases", "Victim")
    Release = apps.get_model("releases", "Release")
    ReleaseBuild = apps.get_model("releases", "ReleaseBuild")
    Ledger = apps.get_model("releases", "PrivacyLedgerEntry")
    org = Organisation.objects.create(slug="open-roads", name="Open Roads", kind="case_management")
    sub = Submission.objects.create(organisation=org, dataset="victims", filename="cases.csv", sha256="a" * 64,
                                    size=1234, status="approved", rows_read=RECORDS + 2, accepted=RECORDS,
                                    quarantined=2, mapping_name="kobo-htcds", mapping_version="v1")
    Problem.objects.create(submission=sub, row=3, column="Gender", field="gender", code="unknown-code",
                           severity="error", value="X", message="row 3: unknown gender")
    Victim.objects.bulk_create(
        Victim(organisation=org, submission=sub, record_id=f"{i:064x}", source_row=i + 2, mapping_version="v1",
               registration_year=2020 + i % 4, gender=("female", "male")[i % 2], citizenship="PH",
               victim_id=f"{i:032x}") for i in range(RECORDS))
    release = Release.objects.create(dataset="victims", version="2026.12.1", status="published",
                                     method="dp-synthetic", params={"epsilon": 1.0}, path="victims/2026.12.1",
                                     summary={"records": 40}, record_count=40, standard_version="0.3.0",
                                     published_at=now, files=[{"name": "microdata.csv", "bytes": 10}])
    ReleaseBuild.objects.create(dataset="victims", method="dp-synthetic", params={"epsilon": 1.0},
                                status="succeeded", progress=100, release=release)
    Ledger.objects.create(dataset="victims", purpose="release victims 2026.12.1 (dp-synthetic)", epsilon=1.0,
                          delta=1e-8, rho=0.01, date=now)


def test_migrations_run_forward_on_a_database_filled_at_an_earlier_schema(figures):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(EARLIER)
    executor.loader.build_graph()
    _fill(executor.loader.project_state([t for t in EARLIER if t[1]]).apps)

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)
    assert not MigrationExecutor(connection).migration_plan(leaves)  # nothing left to apply

    from ctdc.web.cases.models import Victim
    from ctdc.web.releases.models import PrivacyLedgerEntry, Release, ReleaseBuild
    from ctdc.web.releases.services import release_build_create
    from ctdc.web.submissions.models import Submission

    sub = Submission.objects.get()
    assert (sub.status, sub.rows_read, sub.accepted, sub.quarantined, sub.problems.count()) == (
        "approved", RECORDS + 2, RECORDS, 2, 1)
    assert (sub.error_code, sub.error_extra) == ("", {})  # added by submissions 0005
    victims = Victim.objects.order_by("source_row")
    assert victims.count() == RECORDS
    assert list(victims.values_list("gender", flat=True)[:2]) == ["female", "male"]
    assert sorted({v.registration_year for v in victims}) == [2020, 2021, 2022, 2023]
    release = Release.objects.get()
    assert (release.version, release.status, release.published_by, release.input_count) == (
        "2026.12.1", "published", "", 0)  # published_by: releases 0005; input_count: 0006
    build = ReleaseBuild.objects.get()
    assert (build.status, build.release_id, build.version) == ("succeeded", release.pk, "")  # version: 0007
    assert PrivacyLedgerEntry.objects.get().epsilon == 1.0
    # And the migrated installation works: a new build of the dataset can be reserved.
    assert release_build_create(method="k-anonymity").status == "queued"
    figures(cases=1, rows_lost=RECORDS - victims.count())
