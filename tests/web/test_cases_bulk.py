"""The bulk writer of approved records (`ctdc.web.cases.bulk`): what an approval does to records an organisation
sent before, on SQLite (insert, then update of the rows the insert skipped) and PostgreSQL (one upsert).
"""

from __future__ import annotations

import polars as pl
import pytest

from ctdc.web.accounts.services import organisation_create
from ctdc.web.cases.bulk import victims_upsert
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.services import _VICTIM_FIELDS

pytestmark = pytest.mark.django_db


def _records(ids: list[str], gender: list[str | None], citizenship: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({"record_id": ids, "source_row": list(range(2, 2 + len(ids))),
                         "identity_hash": [None] * len(ids), "registration_year": [2020] * len(ids),
                         "gender": gender, "citizenship": citizenship},
                        schema_overrides={"identity_hash": pl.String})


def _approve(org, name: str, records: pl.DataFrame) -> Submission:
    sub = Submission.objects.create(organisation=org, dataset="victims", filename=name, sha256=name * 64,
                                    size=1)
    written = victims_upsert(records=records, organisation_id=org.pk, submission_id=sub.pk, mapping_version=name,
                             fields=_VICTIM_FIELDS)
    assert written == records.height
    return sub


def test_a_record_sent_again_is_updated_in_place_and_keeps_its_random_key():
    org, _ = organisation_create(slug="open-roads", name="Open Roads")
    other, _ = organisation_create(slug="safe-harbour", name="Safe Harbour")
    _approve(org, "a", _records(["h1", "h2", "h3"], ["female", "male", None], ["FR", "DE", "IT"]))
    _approve(other, "b", _records(["h1"], ["male"], ["ES"]))  # the same hash at another organisation: its own
    keys = dict(Victim.objects.filter(organisation=org).values_list("record_id", "victim_id"))

    # h2 again with its gender changed and its citizenship now blank; h4 is new; h1 and h3 are not sent.
    second = _approve(org, "c", _records(["h2", "h4"], ["female", "male"], [None, "PT"]))

    rows = {v.record_id: v for v in Victim.objects.filter(organisation=org)}
    assert sorted(rows) == ["h1", "h2", "h3", "h4"]
    assert (rows["h2"].gender, rows["h2"].citizenship, rows["h2"].submission_id) == ("female", None, second.pk)
    assert (rows["h2"].mapping_version, rows["h2"].source_row) == ("c", 2)
    assert rows["h2"].victim_id == keys["h2"] and rows["h4"].victim_id not in keys.values()
    assert (rows["h1"].gender, rows["h1"].citizenship, rows["h1"].mapping_version) == ("female", "FR", "a")
    assert Victim.objects.get(organisation=other).citizenship == "ES"
    assert Victim.objects.values("victim_id").distinct().count() == Victim.objects.count() == 5


def _plan(sql: str, params: list) -> str:
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql, params)
        return " ".join(str(part) for row in cursor.fetchall() for part in row)


def test_the_identity_index_holds_only_hashed_records_and_still_serves_the_cross_organisation_lookups():
    # Issue 14: a record without an identity hash (no name given) writes no entry to the partial index; the two
    # queries on the hash (flags between organisations, the submission page's count) must still use it.
    from django.db import connection

    org, _ = organisation_create(slug="open-roads", name="Open Roads")
    other, _ = organisation_create(slug="safe-harbour", name="Safe Harbour")
    hashed = _records(["h1", "h2"], ["female", "male"], ["FR", "DE"]).with_columns(
        identity_hash=pl.Series(["a" * 64, None]))
    sub = _approve(org, "a", hashed)
    _approve(other, "b", _records(["h1"], ["male"], ["ES"]).with_columns(identity_hash=pl.lit("a" * 64)))
    table = connection.ops.quote_name(Victim._meta.db_table)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'victim_identity_hash'")
            assert "WHERE" in cursor.fetchone()[0]
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'victim_identity_hash'")
            assert "WHERE (identity_hash IS NOT NULL)" in cursor.fetchone()[0]
            cursor.execute("SET LOCAL enable_seqscan = off")  # a three-row table: make the planner show its index
    join = (f"SELECT a.id, b.id FROM {table} a JOIN {table} b ON b.identity_hash = a.identity_hash "
            "AND b.organisation_id <> a.organisation_id WHERE a.submission_id = %s AND a.identity_hash IS NOT NULL")
    assert "victim_identity_hash" in _plan(join, [sub.pk])
    lookup = str(Victim.objects.filter(identity_hash__in=["a" * 64]).exclude(organisation=org).explain())
    assert "victim_identity_hash" in lookup
