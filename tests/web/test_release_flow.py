"""Releases through the real CLI, services, task queue and pages, on the real database (SQLite or PostgreSQL)."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from ctdc.errors import DisclosureCheckFailed, ReleaseError
from ctdc.release.methods import METHODS, MethodResult, as_text
from ctdc.web.accounts.services import steward_ensure
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.releases.selectors import release_snapshot
from ctdc.web.releases.services import (
    release_build,
    release_build_cancel,
    release_build_create,
    release_build_enqueue,
    release_build_run,
    release_publish,
)

pytestmark = pytest.mark.django_db
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def approved(run_cli, simulated):
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    result = run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve", "--json")
    return json.loads(result.stdout)["accepted"]


def test_build_verify_publish_and_withdraw_a_release(run_cli, approved, client):
    built = run_cli("release", "build", "--json")
    assert built.exit_code == 0, built.output
    version = json.loads(built.stdout)["version"]
    assert json.loads(built.stdout)["status"] == "draft"
    assert client.get("/api/v1/releases/victims/latest").status_code == 404  # a draft is not served

    verified = run_cli("release", "verify", version, "--json")
    assert verified.exit_code == 0 and json.loads(verified.stdout)["ok"]
    assert run_cli("release", "publish", version).exit_code == 0
    assert client.get("/api/v1/releases/victims/latest").json()["version"] == version

    catalogue = client.get("/data/").content.decode()
    assert f"Victims, release {version}" in catalogue and "k-anonymity" in catalogue and "Cite as:" in catalogue
    url = f"/data/victims/{version}/files/microdata.csv"
    assert client.get(url).status_code == 302  # terms of use first
    client.post("/data/terms/", {"accept": "yes", "next": url})
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"registration_year,data_source,trafficking_status,trafficking_status_decided_by,gender")
    assert download["Content-Disposition"] == 'attachment; filename="microdata.csv"'  # its datapackage.json path
    assert client.get(f"/data/victims/{version}/").status_code == 200
    assert client.get("/data/victims/latest/").url == f"/data/victims/{version}/"
    assert client.get("/data/victims/latest/files/aggregates.csv").url == f"/data/victims/{version}/files/aggregates.csv"
    # One zip per release: every file under one folder, the same bytes at every download.
    zips = [b"".join(client.get(f"/data/victims/{version}/files/ctdc-victims-{version}.zip").streaming_content)
            for _ in range(2)]
    assert zips[0] == zips[1]
    with zipfile.ZipFile(io.BytesIO(zips[0])) as zf:
        assert zf.testzip() is None
        folder = settings.CTDC_RELEASES_DIR / "victims" / version
        assert sorted(zf.namelist()) == sorted(f"ctdc-victims-{version}/{p.name}" for p in folder.iterdir())
        assert zf.read(f"ctdc-victims-{version}/aggregates.csv") == (folder / "aggregates.csv").read_bytes()
    detail = client.get(f"/api/v1/releases/victims/{version}").json()
    assert [c["passed"] for c in detail["checks"]] == [True, True, True] and len(detail["files"]) == 17

    withdrawn = run_cli("release", "withdraw", version, "--reason", "A contributor revoked its data")
    assert withdrawn.exit_code == 0
    assert client.get(url).status_code == 410
    assert "A contributor revoked its data" in client.get("/data/").content.decode()
    assert client.get("/api/v1/releases/victims/latest").status_code == 404
    assert client.get("/data/victims/latest/").status_code == 404  # nothing published any more
    listed = json.loads(run_cli("release", "list", "--json").stdout)
    assert [(r["version"], r["status"]) for r in listed] == [(version, "withdrawn")]


@pytest.fixture
def leaky_method():
    """A plugin method that publishes its input unchanged: the disclosure checks must catch it."""
    def identity(frame, params, ds):
        return MethodResult(as_text(frame), pl.DataFrame({"combination": [""], "length": [0], "count": [0],
                                                          "protection": ["none"]}), {})
    METHODS["identity"] = identity
    yield "identity"
    del METHODS["identity"]


def test_a_failed_disclosure_check_blocks_publishing(approved, leaky_method, client):
    with pytest.raises(DisclosureCheckFailed) as failed:
        release_build(method=leaky_method, publish=True)
    assert "quasi-identifier-k" in failed.value.extra["failed_checks"]
    draft = Release.objects.get()
    assert draft.status == Release.Status.DRAFT and not draft.checks_passed
    assert ReleaseBuild.objects.get().status == ReleaseBuild.Status.REFUSED
    with pytest.raises(DisclosureCheckFailed, match="quasi-identifier-k"):
        release_publish(dataset="victims", version=draft.version)
    assert client.get("/api/v1/releases/victims/latest").status_code == 404
    assert client.get(f"/data/victims/{draft.version}/").status_code == 404


def test_two_builds_of_one_dataset_at_once_are_refused(approved):
    first = release_build_enqueue(method="k-anonymity")
    with pytest.raises(ReleaseError, match="already queued"):
        release_build_enqueue(method="k-synthetic")
    with pytest.raises(ReleaseError, match=f"build {first.pk}"):
        release_build(method="k-anonymity")
    assert ReleaseBuild.objects.count() == 1


# The worker closes and reopens database connections between tasks: the test needs committed data.
@pytest.mark.django_db(transaction=True)
def test_a_queued_build_runs_in_the_worker_with_progress_and_a_log(approved, client):
    build = release_build_enqueue(method="k-anonymity", publish=True, notes="from the queue")
    assert build.status == ReleaseBuild.Status.QUEUED and build.task_id
    call_command("db_worker", "--batch", "--no-startup-delay")
    build.refresh_from_db()
    assert build.status == ReleaseBuild.Status.SUCCEEDED, build.log
    assert build.progress == 100 and "Check unique-record-copies: passed" in build.log
    assert build.release.status == Release.Status.PUBLISHED and build.release.input_count == approved


@pytest.mark.django_db(transaction=True)
def test_the_steward_page_queues_a_build_and_shows_its_progress(approved, client):
    steward_ensure(username="steward", password="correct horse battery")
    client.login(username="steward", password="correct horse battery")
    response = client.post("/data/steward/action/", {"action": "build", "dataset": "victims",
                                                     "method": "k-anonymity", "k": "11"})
    assert response.status_code == 302
    call_command("db_worker", "--batch", "--no-startup-delay")
    page = client.get("/data/steward/").content.decode()
    assert "Succeeded" in page and 'value="100"' in page and "Publish" in page

    client.post("/data/steward/action/", {"action": "build", "dataset": "victims", "method": "k-synthetic"})
    queued = ReleaseBuild.objects.get(status=ReleaseBuild.Status.QUEUED)
    assert f'name="build" value="{queued.pk}"' in client.get("/data/steward/").content.decode()
    client.post("/data/steward/action/", {"action": "cancel", "build": str(queued.pk)})
    page = client.get("/data/steward/").content.decode()
    assert f"Build {queued.pk} cancelled." in page and "Cancelled by steward before it started" in page
    client.post("/data/steward/action/", {"action": "cancel", "build": "not-a-number"})  # no 500 on bad input
    assert client.get("/data/steward/").status_code == 200


def test_anonymous_users_cannot_reach_the_steward_page(client):
    assert client.get("/data/steward/").status_code == 302


def test_a_build_killed_midway_leaves_the_previous_release_intact_and_serving(run_cli, approved, client, tmp_path):
    first = json.loads(run_cli("release", "build", "--publish", "--json").stdout)["version"]
    frame, _ = release_snapshot()
    frame.write_parquet(tmp_path / "snapshot.parquet")
    root = settings.CTDC_RELEASES_DIR
    nxt = first[:-1] + str(int(first[-1]) + 1)
    # The progress callback parks the build at 85%: the microdata files are in its temporary folder, the
    # documentation not yet. SIGKILL then hits a real half-written release.
    script = (
        "import pathlib, time, polars as pl\n"
        "from ctdc.release.build import build_release\n"
        f"build_release(pl.read_parquet({str(tmp_path / 'snapshot.parquet')!r}), root=pathlib.Path({str(root)!r}),"
        f" dataset='victims', version={nxt!r},"
        " progress=lambda pct, msg: time.sleep(60) if pct == 85 else None)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(SRC)})
    deadline = time.monotonic() + 60
    while not [p for p in (root / "victims").glob(f".tmp-{nxt}-*") if (p / "ctdc-public.csv").exists()]:
        assert time.monotonic() < deadline and proc.poll() is None, "the build never reached its write stage"
        time.sleep(0.02)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL

    assert not (root / "victims" / nxt).exists()
    assert run_cli("release", "verify", first).exit_code == 0
    assert client.get("/api/v1/releases/victims/latest").json()["version"] == first
    assert client.get("/").status_code == 200
    assert [r["version"] for r in json.loads(run_cli("release", "list", "--json").stdout)] == [first]
    # The next build is not confused by the leftover temporary folder, and clears it away.
    assert list((root / "victims").glob(".tmp-*"))
    again = run_cli("release", "build", "--publish", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["version"] == nxt
    assert not list((root / "victims").glob(".tmp-*"))
    assert f"Removed .tmp-{nxt}-" in ReleaseBuild.objects.first().log


# The worker reopens database connections: the test needs committed data.
@pytest.mark.django_db(transaction=True)
def test_a_cancelled_queued_build_never_runs_and_frees_the_dataset(run_cli, approved):
    build = release_build_enqueue(method="k-anonymity", publish=True)
    listed = json.loads(run_cli("release", "builds", "--json").stdout)
    assert [(b["build"], b["status"]) for b in listed] == [(build.pk, "queued")]
    cancelled = run_cli("release", "cancel", str(build.pk), "--json")
    assert cancelled.exit_code == 0 and json.loads(cancelled.stdout)["status"] == "cancelled"
    call_command("db_worker", "--batch", "--no-startup-delay")  # the task is still queued: it must do nothing
    build.refresh_from_db()
    assert build.status == ReleaseBuild.Status.CANCELLED and build.started_at is None
    assert "Cancelled by cli before it started" in build.log and not Release.objects.exists()
    again = run_cli("release", "cancel", str(build.pk), "--json")
    assert again.exit_code == 1 and "already ended (cancelled)" in again.stdout
    assert release_build(method="k-anonymity").status == Release.Status.DRAFT  # the dataset is free again


@pytest.mark.django_db(transaction=True)
def test_a_running_build_stops_at_its_next_stage_when_cancelled(approved):
    folder = settings.CTDC_RELEASES_DIR / "victims"
    before = sorted(folder.iterdir()) if folder.is_dir() else []
    build = release_build_create(method="k-synthetic", publish=True)
    outcome = {}

    def worker():
        try:
            outcome["build"] = release_build_run(build_id=build.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 30
    while ReleaseBuild.objects.get(pk=build.pk).status != ReleaseBuild.Status.RUNNING:
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.005)
    requested = release_build_cancel(build_id=build.pk, by="steward")
    assert requested.status == ReleaseBuild.Status.RUNNING and requested.cancel_requested
    thread.join(timeout=120)
    done = outcome["build"]
    assert done.status == ReleaseBuild.Status.CANCELLED, done.log
    assert "Cancel requested by steward" in done.log and "no release was written" in done.error
    assert not Release.objects.exists()
    assert (sorted(folder.iterdir()) if folder.is_dir() else []) == before  # no folder, no temporary left


def test_releases_in_another_storage_are_served_and_verified_from_it_alone(run_cli, approved, client, tmp_path):
    # A second FileSystemStorage stands in for object storage: the code only sees Django's storage API.
    bucket = tmp_path / "bucket"
    stores = {**settings.STORAGES, "releases": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                "OPTIONS": {"location": bucket}}}
    with override_settings(STORAGES=stores):
        built = run_cli("release", "build", "--publish", "--json")
        assert built.exit_code == 0, built.output
        version = json.loads(built.stdout)["version"]
        stored = sorted(p.name for p in (bucket / "victims" / version).iterdir())
        assert len(stored) == 17 and "CHECKSUMS.sha256" in stored
        # The web process keeps nothing: without the builder's folder, everything still comes from the storage.
        local = settings.CTDC_RELEASES_DIR / "victims" / version
        for p in local.iterdir():
            p.chmod(0o644)
        shutil.rmtree(local)
        assert run_cli("release", "verify", version).exit_code == 0
        client.post("/data/terms/", {"accept": "yes", "next": "/data/"})
        download = client.get(f"/data/victims/{version}/files/microdata.csv")
        assert b"".join(download.streaming_content) == (bucket / "victims" / version / "microdata.csv").read_bytes()
        assert 'id="check-unique-record-copies"' in client.get(f"/data/victims/{version}/").content.decode()
        # A changed object in the storage is caught by verify.
        target = bucket / "victims" / version / "aggregates.csv"
        target.chmod(0o644)
        target.write_text(target.read_text() + "x,1,1,none\n")
        checked = run_cli("release", "verify", version, "--json")
        assert checked.exit_code == 1
        assert "aggregates.csv does not match its checksum" in json.loads(checked.stdout)["problems"]
