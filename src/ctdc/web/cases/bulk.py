"""Write approved records into `cases.Victim` through the database's bulk path, not model instances.

Django's `bulk_create` builds one model instance per row and prepares every value through its field (a profile of
a 250,000-row approval spent 64 % of its time there). Records arrive from the intake pipeline already typed and
de-identified, as a polars frame, so they go straight in:

- PostgreSQL: `COPY ... FROM STDIN` (psycopg 3) of the frame written as CSV into a temporary table, then one
  `INSERT ... SELECT ... ON CONFLICT (organisation_id, record_id) DO UPDATE`.
- SQLite: `executemany` of tuples, `INSERT ... ON CONFLICT DO UPDATE`, in batches.

Both run inside the caller's transaction (`submission_approve` is atomic): a failure or a kill mid-way leaves no
row of the submission visible. The table's own constraints (unique record per organisation, plausible age,
non-negative integers) are checked by the database as for any insert. A record the organisation sent before keeps
its `victim_id`; a new one gets a fresh random one.
"""

from __future__ import annotations

import io
import os
import signal

import polars as pl
from django.db import connection
from django.utils import timezone

from ctdc.web.cases.models import Victim

BATCH = 20_000
# Test hook, read from the environment at each batch: the all-or-nothing test (tests/resilience/
# test_approval_atomic.py) kills the approving process here with SIGKILL, at a point it controls exactly.
KILL_AFTER_ROWS = "CTDC_TEST_KILL_APPROVAL_AFTER_ROWS"


def _kill_point(rows_written: int) -> None:
    limit = os.environ.get(KILL_AFTER_ROWS)
    if limit and rows_written >= int(limit):
        os.kill(os.getpid(), signal.SIGKILL)


def _random_ids(n: int) -> pl.Series:
    """n random 32-hex-digit keys, as `uuid.uuid4().hex` makes them but without a Python call per row."""
    raw = os.urandom(16 * n).hex()
    return pl.Series("victim_id", [raw[i:i + 32] for i in range(0, 32 * n, 32)], dtype=pl.String)


def victims_upsert(*, records: pl.DataFrame, organisation_id: int, submission_id: int, mapping_version: str,
                   fields: list[str]) -> int:
    """Insert or update (by organisation and record id) every row of `records`; returns how many were written.

    `records` has `record_id`, `source_row`, `identity_hash` and `fields` (model field names = column names).
    """
    if not records.height:
        return 0
    now = timezone.now()
    frame = records.select(
        pl.lit(organisation_id, dtype=pl.Int64).alias("organisation_id"),
        pl.lit(submission_id, dtype=pl.Int64).alias("submission_id"),
        "record_id", "source_row", pl.lit(mapping_version).alias("mapping_version"), "identity_hash",
        *fields,
    ).with_columns(_random_ids(records.height))
    columns = [Victim._meta.get_field(c.removesuffix("_id") if c in ("organisation_id", "submission_id") else c).column
               for c in frame.columns]
    columns.append("updated_at")
    q = connection.ops.quote_name
    table = q(Victim._meta.db_table)
    # victim_id is set once, when a record first arrives; everything else is the latest submission's.
    update = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in columns
                       if c not in ("organisation_id", "record_id", "victim_id"))
    conflict = f"ON CONFLICT ({q('organisation_id')}, {q('record_id')}) DO UPDATE SET {update}"
    names = ", ".join(q(c) for c in columns)
    if connection.vendor == "postgresql":
        _copy_postgresql(frame, columns, names, table, conflict, now)
    else:
        _executemany(frame, names, table, conflict, connection.ops.adapt_datetimefield_value(now), len(columns))
    return frame.height


def _copy_postgresql(frame: pl.DataFrame, columns: list[str], names: str, table: str, conflict: str, now) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE ctdc_victims_in ON COMMIT DROP AS SELECT {names} FROM {table} "
                       "WITH NO DATA")
        frame = frame.with_columns(pl.lit(now.isoformat()).alias("updated_at"))
        with cursor.cursor.copy(f"COPY ctdc_victims_in ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
            for start in range(0, frame.height, BATCH):
                buf = io.BytesIO()
                frame.slice(start, BATCH).write_csv(buf, include_header=False, null_value="\\N")
                copy.write(buf.getvalue())
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM ctdc_victims_in {conflict}")
        # Here every row is in the real table, uncommitted: the point where a kill tests atomicity.
        _kill_point(frame.height)
        cursor.execute("DROP TABLE ctdc_victims_in")


def _executemany(frame: pl.DataFrame, names: str, table: str, conflict: str, now, width: int) -> None:
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * width)}) {conflict}"
    with connection.cursor() as cursor:
        for start in range(0, frame.height, BATCH):
            part = frame.slice(start, BATCH).with_columns(pl.lit(now).alias("updated_at"))
            cursor.executemany(sql, part.rows())
            _kill_point(min(start + BATCH, frame.height))
