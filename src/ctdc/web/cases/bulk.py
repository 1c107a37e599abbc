"""Write approved records into `cases.Victim` through the database's bulk path, not model instances.

Django's `bulk_create` builds one model instance per row and prepares every value through its field (a profile of
a 250,000-row approval spent 64 % of its time there). Records arrive from the intake pipeline already typed and
de-identified, as a polars frame, so they go straight in:

- PostgreSQL: `COPY ... FROM STDIN` (psycopg 3) of the frame written as CSV into a temporary table, then one
  `UPDATE ... FROM` it for the records the organisation sent before and one `INSERT ... SELECT ... WHERE NOT
  EXISTS` for the others (no `ON CONFLICT`: its speculative insertion costs more per row, see `_copy_postgresql`).
- SQLite: `executemany` of tuples (built column by column, not row by row), `INSERT ... ON CONFLICT DO NOTHING`,
  in batches of 25,000 (one batch's Python tuples are all that is alive at once), with a page cache large enough
  for the table's indexes while it runs; then the records the organisation had sent before (the rows the insert
  skipped) are updated by an `UPDATE` each. Not one
  `ON CONFLICT DO UPDATE`: with foreign keys on, an upsert whose update may set a foreign-key column
  (`submission_id`) doubles SQLite's cost for every row, conflicting or not (8.0 against 3.9 CPU s for 250,000
  rows; issue 14).

Only the columns the submission fills travel: a column blank on every row is left to its NULL default (and still
set to NULL on an update), and the values shared by every row (organisation, submission,
mapping version, time) and the new random `victim_id` are written by the database itself in the statement, not
sent once per row (issue 14: a third of the time of a 250,000-row approval was binding those).

Both run inside the caller's transaction (`submission_approve` is atomic): a failure or a kill mid-way leaves no
row of the submission visible. The table's own constraints (unique record per organisation, plausible age,
non-negative integers) are checked by the database as for any insert. A record the organisation sent before keeps
its `victim_id`; a new one gets a fresh random one.
"""

from __future__ import annotations

import io
import json
import os
import signal

import polars as pl
from django.db import connection
from django.utils import timezone

from ctdc.web.cases.models import Victim

BATCH = 25_000
# Test hook, read from the environment at each batch: the all-or-nothing test (tests/resilience/
# test_approval_atomic.py) kills the approving process here with SIGKILL, at a point it controls exactly.
KILL_AFTER_ROWS = "CTDC_TEST_KILL_APPROVAL_AFTER_ROWS"
# SQLite page cache for the approval, in KiB (its default is 2 MB): the unique indexes on random keys (victim_id,
# record-id hashes) are touched at random pages, and a cache that holds them keeps the insert off the disk.
SQLITE_CACHE_KIB = 262_144
# First key of the PostgreSQL advisory lock an approval holds on its organisation (the second is the organisation).
APPROVAL_LOCK = 14_001


def _kill_point(rows_written: int) -> None:
    limit = os.environ.get(KILL_AFTER_ROWS)
    if limit and rows_written >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def _sql_string(value: str) -> str:
    """An SQL string literal (the values are our own: a mapping hash, a timestamp; quoted all the same)."""
    return "'" + value.replace("'", "''") + "'"


def victims_upsert(*, records: pl.DataFrame | pl.LazyFrame, organisation_id: int, submission_id: int,
                   mapping_version: str, fields: list[str]) -> int:
    """Insert or update (by organisation and record id) every row of `records`; returns how many were written.

    `records` has `record_id`, `source_row`, `identity_hash` and `fields` (model field names = column names). A
    LazyFrame (the staged Parquet file, scanned) is read one batch at a time: a million staged records are never
    all in memory at once (issue 14).
    """
    return _people_upsert(Victim, "victim_id", records=records, organisation_id=organisation_id,
                          submission_id=submission_id, mapping_version=mapping_version, fields=fields)


def perpetrators_upsert(*, records: pl.DataFrame, organisation_id: int, submission_id: int, mapping_version: str,
                        fields: list[str]) -> int:
    """`victims_upsert` for `cases.Perpetrator`: a new record gets a random `perpetrator_id`, kept ever after."""
    from ctdc.web.cases.models import Perpetrator

    return _people_upsert(Perpetrator, "perpetrator_id", records=records, organisation_id=organisation_id,
                          submission_id=submission_id, mapping_version=mapping_version, fields=fields)


def _people_upsert(model, key: str, *, records: pl.DataFrame | pl.LazyFrame, organisation_id: int,
                   submission_id: int, mapping_version: str, fields: list[str]) -> int:
    lazy = records.lazy()
    height = lazy.select(pl.len()).collect().item()
    if not height:
        return 0
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    given = ["record_id", "source_row", "identity_hash", *fields]
    nulls = lazy.select(pl.all().null_count()).collect().row(0, named=True)
    payload = [c for c in given if c in ("record_id", "source_row") or (c in nulls and nulls[c] < height)]
    frame = lazy.select(payload)
    column = {c: model._meta.get_field(c).column for c in given}
    constants = {model._meta.get_field("organisation").column: str(int(organisation_id)),
                 model._meta.get_field("submission").column: str(int(submission_id)),
                 "mapping_version": _sql_string(mapping_version),
                 "updated_at": _sql_string(connection.ops.adapt_datetimefield_value(timezone.now())
                                           if connection.vendor == "sqlite" else timezone.now().isoformat()),
                 # 32 random hex digits, as `uuid.uuid4().hex` makes them, drawn by the database.
                 key: ("replace(gen_random_uuid()::text, '-', '')" if connection.vendor == "postgresql"
                               else "lower(hex(randomblob(16)))")}
    written = [column[c] for c in payload]
    names = ", ".join(q(c) for c in [*written, *constants])
    # The random key (victim_id, perpetrator_id) is set once, when a record first arrives; every other column of
    # a record sent before is the latest submission's, a column this submission leaves blank set to NULL.
    sets = [c for c in [*(column[g] for g in given), *constants] if c not in ("organisation_id", "record_id", key)]
    if connection.vendor == "postgresql":
        values = {**{column[g]: f"i.{q(column[g])}" if g in payload else "NULL" for g in given}, **constants}
        update = (f"UPDATE {table} t SET {', '.join(f'{q(c)} = {values[c]}' for c in sets)} FROM ctdc_records_in i "
                  f"WHERE t.{q('organisation_id')} = {constants['organisation_id']} "
                  f"AND t.{q('record_id')} = i.{q('record_id')}")
        _copy_postgresql(frame, height, written, names, table, update, list(constants.values()),
                         int(organisation_id))
    else:
        # A clash on the random key (never expected) still raises: only a known record is skipped here.
        skip_known = f"ON CONFLICT ({q('organisation_id')}, {q('record_id')}) DO NOTHING"
        inserted = _executemany(frame, height, names, table, skip_known, list(constants.values()))
        if inserted < height:
            # Records the organisation sent before: `sets`, the random key stays.
            values = {**{column[g]: "%s" if g in payload else "NULL" for g in given}, **constants}
            sql = (f"UPDATE {table} SET {', '.join(f'{q(c)} = {values[c]}' for c in sets)} "
                   f"WHERE {q('organisation_id')} = {constants['organisation_id']} AND {q('record_id')} = %s")
            known = _already_there(table, int(organisation_id), int(submission_id),
                                   frame.select("record_id").collect()["record_id"])
            again = frame.filter(pl.col("record_id").is_in(known.implode())).collect()
            order = [g for g in given if g in payload and column[g] in sets]
            with connection.cursor() as cursor:
                cursor.executemany(sql, zip(*(again[c].to_list() for c in [*order, "record_id"]), strict=True))
    return height


def _already_there(table: str, organisation_id: int, submission_id: int, record_ids: pl.Series) -> pl.Series:
    """Which of `record_ids` the organisation's earlier submissions wrote (SQLite), looked up through the
    unique (organisation, record id) index with the ids sent as one JSON array."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT j.value FROM json_each(%s) j JOIN {table} v ON v.{q('organisation_id')} = %s "
                       f"AND v.{q('record_id')} = j.value WHERE v.{q('submission_id')} <> %s",
                       [json.dumps(record_ids.to_list()), organisation_id, submission_id])
        return pl.Series("record_id", [r[0] for r in cursor.fetchall()], dtype=pl.String)


def _copy_postgresql(frame: pl.LazyFrame, height: int, written: list[str], names: str, table: str,
                     update: str, constants: list[str], organisation_id: int) -> None:
    """COPY into a temporary table, then `update` the records the organisation sent before and insert the others
    with a plain INSERT ... WHERE NOT EXISTS. Not one `INSERT ... ON CONFLICT DO UPDATE`: its speculative insertion
    costs a WAL record more per row and more buffer work, conflicting or not (issue 14). Approvals of one
    organisation take its transaction-level advisory lock first, so a concurrent approval of the same records
    waits and then finds them (before: ON CONFLICT waited on the row); the unique (organisation, record id)
    constraint still refuses a duplicate whatever happens."""
    q = connection.ops.quote_name
    copied = ", ".join(q(c) for c in written)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [APPROVAL_LOCK, organisation_id])
        cursor.execute(f"CREATE TEMPORARY TABLE ctdc_records_in ON COMMIT DROP AS SELECT {copied} FROM {table} "
                       "WITH NO DATA")
        with cursor.cursor.copy(f"COPY ctdc_records_in ({copied}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
            for start in range(0, height, BATCH):
                buf = io.BytesIO()
                frame.slice(start, BATCH).collect().write_csv(buf, include_header=False, null_value="\\N")
                copy.write(buf.getvalue())
        cursor.execute("ANALYZE ctdc_records_in")  # a temporary table has no statistics: plan the join on real ones
        cursor.execute(update)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(f'i.{q(c)}' for c in written)}, "
                       f"{', '.join(constants)} FROM ctdc_records_in i WHERE NOT EXISTS (SELECT 1 FROM {table} t "
                       f"WHERE t.{q('organisation_id')} = {organisation_id} AND t.{q('record_id')} = i.{q('record_id')})")
        # Here every row is in the real table, uncommitted: the point where a kill tests atomicity.
        _kill_point(height)
        cursor.execute("DROP TABLE ctdc_records_in")


def _executemany(frame: pl.LazyFrame, height: int, names: str, table: str, conflict: str,
                 constants: list[str]) -> int:
    """Insert `frame` in batches; returns how many rows the database inserted (those `conflict` skipped aside)."""
    marks = ", ".join(["%s"] * len(frame.collect_schema()) + constants)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) {conflict}"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        inserted = 0
        try:
            for start in range(0, height, BATCH):
                part = frame.slice(start, BATCH).collect()
                # Column by column into Python lists, zipped into row tuples in C: faster than DataFrame.rows().
                cursor.executemany(sql, zip(*(part[c].to_list() for c in part.columns), strict=True))
                inserted += max(cursor.rowcount, 0)
                _kill_point(min(start + BATCH, height))
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
    return inserted


def figures_upsert(*, records: pl.DataFrame, organisation_id: int, submission_id: int, mapping_version: str,
                   fields: list[str]) -> int:
    """Insert or update (by organisation and record id) published aggregates (`cases.GovernmentResponse`).

    A source's table is small (GLOTIP's whole workbook is some tens of thousands of figures), so Django's
    `bulk_create` with `update_conflicts` is enough, on SQLite and PostgreSQL alike, inside the caller's
    transaction.
    """
    from ctdc.web.cases.models import GovernmentResponse

    columns = ["record_id", "source_row", *fields]
    objs = [GovernmentResponse(organisation_id=organisation_id, submission_id=submission_id,
                               mapping_version=mapping_version,
                               **{c: row.get(c) for c in columns if c in records.columns})
            for row in records.iter_rows(named=True)]
    GovernmentResponse.objects.bulk_create(
        objs, batch_size=2000, update_conflicts=True, unique_fields=["organisation", "record_id"],
        update_fields=["submission", "source_row", "mapping_version", "updated_at", *fields])
    return len(objs)


def links_upsert(*, records: pl.DataFrame, organisation_id: int, submission_id: int, mapping_version: str) -> int:
    """Insert or update victim-perpetrator links, their two ends given as keyed hashes of the contributor's ids.

    Both ends must be records of the same organisation already in the repository (approval writes victims and
    perpetrators first): a link to anything else raises `IngestError`, so an approval never drops one silently.
    """
    from ctdc.errors import IngestError
    from ctdc.web.cases.models import Perpetrator, VictimPerpetratorLink

    if not records.height:
        return 0
    ends = {}
    for column, model in (("victim_id", Victim), ("perpetrator_id", Perpetrator)):
        wanted = sorted(set(records[column].drop_nulls().to_list()))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 5000):
            found.update(model.objects.filter(organisation_id=organisation_id, record_id__in=wanted[start:start + 5000])
                         .values_list("record_id", "pk"))
        missing = records.filter(~pl.col(column).is_in(list(found)))
        if missing.height:
            raise IngestError(f"{missing.height} link(s) point at a {model._meta.verbose_name} that is not in the "
                              f"central repository (first at row {missing['source_row'][0]}); nothing was approved.",
                              {"reason": "unknown-reference", "rows": missing["source_row"].head(20).to_list()})
        ends[column] = found
    objs = [VictimPerpetratorLink(organisation_id=organisation_id, submission_id=submission_id,
                                  mapping_version=mapping_version, victim_id=ends["victim_id"][row["victim_id"]],
                                  perpetrator_id=ends["perpetrator_id"][row["perpetrator_id"]],
                                  source_row=row["source_row"], relation_to_victim=row.get("relation_to_victim"),
                                  victim_paid_perpetrator=row.get("victim_paid_perpetrator"))
            for row in records.iter_rows(named=True)]
    VictimPerpetratorLink.objects.bulk_create(
        objs, batch_size=5000, update_conflicts=True, unique_fields=["victim", "perpetrator"],
        update_fields=["submission", "source_row", "mapping_version", "updated_at", "relation_to_victim",
                       "victim_paid_perpetrator"])
    return len(objs)


def journey_events_upsert(*, records: pl.DataFrame, organisation_id: int, submission_id: int,
                          mapping_version: str) -> int:
    """Insert or update (by organisation and record id) journey events, each naming its victim by the keyed hash of
    the contributor's case id (see `_victim_rows_upsert`)."""
    from ctdc.web.cases.models import JourneyEvent

    return _victim_rows_upsert(
        JourneyEvent, "journey event(s)", records=records, organisation_id=organisation_id,
        submission_id=submission_id, mapping_version=mapping_version,
        fields=["sequence", "event_type", "country", "event_year", "event_month", "date_precision",
                "transport_modes", "crossed_border"])


def recruitment_fees_upsert(*, records: pl.DataFrame, organisation_id: int, submission_id: int,
                            mapping_version: str) -> int:
    """Insert or update (by organisation and record id) recruitment fees, as given (amount, currency, year): the
    conversion to base-year dollars happens at release. Each names its victim as `_victim_rows_upsert` says."""
    from ctdc.web.cases.models import RecruitmentFee

    return _victim_rows_upsert(
        RecruitmentFee, "recruitment fee(s)", records=records, organisation_id=organisation_id,
        submission_id=submission_id, mapping_version=mapping_version,
        fields=["amount", "currency", "fee_year", "paid_to", "financed_by_debt", "origin_country",
                "destination_country"])


def _victim_rows_upsert(model, what: str, *, records: pl.DataFrame, organisation_id: int, submission_id: int,
                        mapping_version: str, fields: list[str]) -> int:
    """Rows of a table whose every row belongs to one victim. The victim must be a record of the same organisation
    already in the repository: a row for anything else raises `IngestError`, so an approval never drops one
    silently."""
    from ctdc.errors import IngestError

    if not records.height:
        return 0
    wanted = sorted(set(records["victim_id"].drop_nulls().to_list()))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 5000):
        found.update(Victim.objects.filter(organisation_id=organisation_id, record_id__in=wanted[start:start + 5000])
                     .values_list("record_id", "pk"))
    missing = records.filter(~pl.col("victim_id").is_in(list(found)))
    if missing.height:
        raise IngestError(f"{missing.height} {what} point at a victim that is not in the central "
                          f"repository (first at row {missing['source_row'][0]}); nothing was approved.",
                          {"reason": "unknown-reference", "rows": missing["source_row"].head(20).to_list()})
    objs = [model(organisation_id=organisation_id, submission_id=submission_id, mapping_version=mapping_version,
                  victim_id=found[row["victim_id"]], record_id=row["record_id"], source_row=row["source_row"],
                  **{f: row.get(f) for f in fields})
            for row in records.iter_rows(named=True)]
    model.objects.bulk_create(
        objs, batch_size=5000, update_conflicts=True, unique_fields=["organisation", "record_id"],
        update_fields=["submission", "victim", "source_row", "mapping_version", "updated_at", *fields])
    return len(objs)
