"""A transient database lock must not fail a release build (issue 18, second bug found).

Under load, a build cancelled from another thread ended `failed` with "Unexpected error: OperationalError": the
test database was SQLite's shared in-memory one, where a reader meeting another connection's uncommitted write
fails at once. The database is now a WAL file in tests as in production, with IMMEDIATE transactions and a busy
timeout. These tests hold a real write lock from another connection while the builder runs; nothing here
depends on timing for its outcome (the builder cannot finish without writing, so it must still be waiting).
"""

import threading

import pytest
from django.db import connection, transaction

from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.releases.services import release_build_create, release_build_run

ITEM = "2 crashes"  # its row in the summary table (conftest.py)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def approved(run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    assert run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve").exit_code == 0


def _run_in_thread(build_id: int) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def work():
        try:
            outcome["build"] = release_build_run(build_id=build_id)
        except Exception as exc:  # reported by the test, not swallowed
            outcome["error"] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread, outcome


def test_a_build_waits_for_another_connections_write_lock_instead_of_failing(approved):
    build = release_build_create(method="k-anonymity")
    with transaction.atomic():
        # An uncommitted write on the build's own row: SQLite's write lock, PostgreSQL's row lock.
        ReleaseBuild.objects.filter(pk=build.pk).update(requested_by="someone holding the lock")
        thread, outcome = _run_in_thread(build.pk)
        thread.join(timeout=1)
        assert thread.is_alive(), outcome  # waiting for the lock, not failed
    thread.join()
    assert "error" not in outcome, outcome["error"]
    done = outcome["build"]
    assert done.status == ReleaseBuild.Status.SUCCEEDED, done.log
    assert "OperationalError" not in done.log and Release.objects.count() == 1


def test_a_reader_is_not_blocked_by_another_connections_write_transaction():
    build = release_build_create(method="k-anonymity")  # no records needed: it is never run
    with transaction.atomic():
        ReleaseBuild.objects.filter(pk=build.pk).update(requested_by="writer")
        seen = {}

        def read():
            try:  # another connection reads the same table: WAL (and PostgreSQL) serve the last committed state
                seen["requested_by"] = ReleaseBuild.objects.get(pk=build.pk).requested_by
            except Exception as exc:
                seen["error"] = repr(exc)
            finally:
                connection.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()
    assert seen == {"requested_by": ""}


def test_the_test_database_is_a_file_like_production():
    if connection.vendor == "sqlite":
        assert connection.settings_dict["NAME"].endswith("test.sqlite3")
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_transaction_that_reads_then_writes_is_not_refused_after_another_connection_wrote():
    # The shape of release_build_cancel (read the build, then write it) against the builder's progress writes.
    # A deferred SQLite transaction cannot upgrade a read snapshot that another connection has since overtaken:
    # "database is locked" at once, whatever the busy timeout. IMMEDIATE takes the write lock at BEGIN.
    build = release_build_create(method="k-anonymity")
    with transaction.atomic():
        assert ReleaseBuild.objects.get(pk=build.pk).progress == 0
        done = {}

        def progress():
            try:
                done["rows"] = ReleaseBuild.objects.filter(pk=build.pk).update(progress=5)
            except Exception as exc:
                done["error"] = repr(exc)
            finally:
                connection.close()

        writer = threading.Thread(target=progress)
        writer.start()
        writer.join(timeout=1)
        ReleaseBuild.objects.filter(pk=build.pk).update(cancel_requested=True)
    writer.join()
    assert done == {"rows": 1}
    build.refresh_from_db()
    assert (build.progress, build.cancel_requested) == (5, True)
