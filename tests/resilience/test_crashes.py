"""Crashes (issue 18, item 2): the ingest worker, the approval and the release builder killed with SIGKILL at seeded
points; after a restart the job resumes or fails cleanly, no partial record is visible, the last published
release still serves and verifies, and the privacy-budget ledger matches the releases.

Every process is real and runs on an installation of its own (`tests.served.site`: SQLite in a folder, or a
PostgreSQL database of its own in the PostgreSQL run). `killer.py` sends SIGKILL just before the job's N-th SQL
statement; N is drawn from a seeded generator over the statements an uninterrupted run makes, so each run kills
at the same points and any point between two statements can be drawn. After each kill, one process restarts the
job the way an operator would (`ctdc worker --batch`, which recovers what a lost worker left running; the steward
approving again; a new `ctdc release build`) and reports the state through the services and the public API.

CTDC_RESILIENCE_KILLS (default 2 per job) and CTDC_RESILIENCE_SEED (default 18) widen or move the schedule;
`make resilience` runs 20 per job.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.served import ctdc_many, server_env, site

ITEM = "2 crashes"  # its row in the summary table (conftest.py)
KILLS = int(os.environ.get("CTDC_RESILIENCE_KILLS") or 2)
SEED = int(os.environ.get("CTDC_RESILIENCE_SEED") or 18)
KILLER = Path(__file__).with_name("killer.py")
CASES = 600
# Large enough for every kill to charge a DP build: the ledger is checked against releases, not exhausted.
BUDGET = "1000"

# The restart and the report, in one process: whatever a restarted installation shows, through its services.
INSPECT = r"""
import hashlib, io, json, sys
from ctdc.cli.common import setup_django
setup_django()
from django.conf import settings
from django.core.files import File
from django.test import Client
from ctdc.cli.main import cli
from ctdc.ingest.detect import detect_preset
from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file
from ctdc.web.accounts.models import Organisation
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import PrivacyLedgerEntry, Release, ReleaseBuild
from ctdc.web.releases.services import release_verify
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.services import record_id_owner, submission_approve, submission_upload
from django_tasks_db.models import DBTaskResult

actions = json.loads(sys.argv[1])
out = {}

def state():
    subs = []
    for s in Submission.objects.order_by("pk"):
        subs.append({"pk": s.pk, "status": s.status, "rows_read": s.rows_read, "accepted": s.accepted,
                     "quarantined": s.quarantined, "duplicates": s.duplicates, "problems": s.problems.count(),
                     "quarantine": s.quarantine.count(), "records": Victim.objects.filter(submission=s).count(),
                     "error": s.error})
    client = Client(HTTP_HOST="127.0.0.1")
    latest = client.get("/api/v1/releases/victims/latest")
    releases = [{"version": r.version, "status": r.status, "method": r.method,
                 "problems": release_verify(dataset=r.dataset, version=r.version)}
                for r in Release.objects.order_by("pk")]
    pages = {}
    if latest.status_code == 200:
        version = latest.json()["version"]
        r = Release.objects.get(dataset="victims", version=version)
        client.post("/data/terms/", {"accept": "yes"})
        base = f"/data/victims/{version}/files/"
        sums = client.get(base + "CHECKSUMS.sha256")
        pages["CHECKSUMS.sha256"] = sums.status_code
        listed = b"".join(sums.streaming_content).decode() if sums.status_code == 200 else ""
        for f in [f for f in r.files if f["name"] != "CHECKSUMS.sha256"][:3]:
            got = client.get(base + f["name"])
            body = b"".join(got.streaming_content) if got.status_code == 200 else b""
            # Served as published: the bytes hash to the release's own checksum line.
            ok = got.status_code == 200 and f"{hashlib.sha256(body).hexdigest()}  {f['name']}" in listed
            pages[f["name"]] = got.status_code if got.status_code != 200 else (200 if ok else "checksum mismatch")
        pages["report"] = client.get(f"/data/victims/{version}/").status_code
        pages["home"] = client.get("/").status_code
    return {"submissions": subs, "releases": releases,
            "latest": [latest.status_code, latest.json().get("version")], "pages": pages,
            "builds": list(ReleaseBuild.objects.order_by("pk").values_list("pk", "status", "error", "version")),
            "ledger": list(PrivacyLedgerEntry.objects.order_by("pk").values_list("purpose", "epsilon")),
            "tasks": sorted(DBTaskResult.objects.values_list("status", flat=True)),
            "temporaries": sorted(p.name for p in (settings.CTDC_RELEASES_DIR / "victims").glob(".*"))}

for action, *args in actions:
    if action == "state":
        out[args[0]] = state()
    elif action == "ctdc":
        cli.main(args, prog_name="ctdc", standalone_mode=False)
    elif action == "upload":
        path, name = args
        org = Organisation.objects.get(slug="open-roads")
        with open(path, "rb") as fh:
            outcome = submission_upload(organisation=org, upload=File(fh, name=name), dataset="victims",
                                        mapping_choice="preset:kobo-htcds")
        out["queued"] = outcome.submission.pk
    elif action == "expect":  # the pipeline alone on the same file: what the stored submission must say
        path, = args
        org = Organisation.objects.get(slug="open-roads")
        r = ingest_file(path, load_preset("kobo-htcds"), identity_key=settings.CTDC_IDENTITY_KEY.encode(),
                        organisation=record_id_owner(org), defaults={"data_source": org.kind})
        stats = r.report.stats
        out["expect"] = {k: stats[k] for k in ("rows_read", "accepted", "quarantined", "duplicates")}
        out["expect"]["problems"] = r.report.problems.height
    elif action == "enqueue":  # a build queued from the steward's page, for the worker
        from ctdc.web.releases.services import release_build_enqueue
        method, = args
        release_build_enqueue(method=method, epsilon=1 if method == "dp-synthetic" else None, publish=True,
                              requested_by="steward")
    elif action == "approve":
        out["approved"] = submission_approve(submission=Submission.objects.get(pk=int(args[0])))
print("\n" + json.dumps(out))
"""

APPROVE = r"""
import sys
from ctdc.cli.common import setup_django
setup_django()
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.services import submission_approve
submission_approve(submission=Submission.objects.get(pk=int(sys.argv[1])))
"""


def _env(where) -> dict[str, str]:
    return {**server_env(where), "CTDC_DP_EPSILON_BUDGET": BUDGET}


def _inspect(where, *actions: list) -> dict:
    result = subprocess.run([sys.executable, "-c", INSPECT, json.dumps(list(actions))], env=_env(where),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _killed(where, tmp: Path, n: int, *args: str) -> tuple[int, int]:
    """Run `killer.py n args...`; returns (exit code, statements run when it ended without being killed)."""
    count = tmp / "count"
    count.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, str(KILLER), str(n), *args], env={**_env(where),
                            "CTDC_KILLER_COUNT": str(count)}, capture_output=True, text=True, timeout=900)
    assert result.returncode in (0, -signal.SIGKILL), result.stdout[-3000:] + result.stderr[-3000:]
    return result.returncode, int(count.read_text()) if count.exists() else 0


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    """An installation with approved records and one published k-anonymity release; its data folder."""
    tmp = tmp_path_factory.mktemp("crashes")
    with site(tmp / "var") as where:
        env_budget = {"CTDC_DP_EPSILON_BUDGET": BUDGET}
        os.environ.update(env_budget)  # ctdc_many builds its environment from os.environ
        try:
            ctdc_many(where, ["init"], ["org", "create", "open-roads", "--name", "Open Roads"],
                      ["simulate", "--seed", str(SEED), "--cases", str(CASES), "--out", str(tmp / "sim")],
                      ["ingest", str(tmp / "sim" / "open-roads.csv"), "--org", "open-roads", "--preset",
                       "kobo-htcds", "--approve"],
                      ["release", "build", "--publish"],
                      ["manage", "collectstatic", "--noinput", "--verbosity", "0"])  # pages need it, as `ctdc serve`
        finally:
            os.environ.pop("CTDC_DP_EPSILON_BUDGET", None)
        yield where, tmp


def _variant(tmp: Path, i: int) -> Path:
    """The simulated file without its i-th data row: another file (another hash), the same layout."""
    lines = (tmp / "sim" / "open-roads.csv").read_bytes().splitlines(keepends=True)
    path = tmp / f"variant-{i}.csv"
    path.write_bytes(b"".join(lines[: 1 + i] + lines[2 + i:]))
    return path


def _published_serves(state: dict) -> None:
    """The newest published release answers on the API, its pages and files serve, and every release verifies."""
    published = [r["version"] for r in state["releases"] if r["status"] == "published"]
    assert state["latest"] == [200, published[-1]]
    assert set(state["pages"].values()) == {200}, state["pages"]
    assert all(not r["problems"] for r in state["releases"]), state["releases"]


def _ledger_matches(state: dict, killed_dp_builds: int) -> None:
    """Each DP release has exactly one ledger entry, and no version is charged twice; an entry without a release
    only for a build killed after it charged the ledger (the computation happened: its budget stays spent)."""
    methods = {r["version"]: r["method"] for r in state["releases"]}
    charged = [purpose.split()[2] for purpose, _ in state["ledger"]]  # "release victims 2026.12.3 (dp-synthetic)"
    assert len(charged) == len(set(charged)), charged
    assert {v for v, m in methods.items() if m == "dp-synthetic"} <= set(charged), (methods, charged)
    assert not {v for v, m in methods.items() if m != "dp-synthetic"} & set(charged)
    orphans = set(charged) - set(methods)
    failed = {version for _, status, _, version in state["builds"] if status == "failed"}
    assert orphans <= failed and len(orphans) <= killed_dp_builds, (orphans, failed, killed_dp_builds)


def test_the_ingest_worker_killed_anywhere_resumes_the_file_on_restart(installation, figures):
    where, tmp = installation
    rng = random.Random(SEED)
    first = _variant(tmp, 0)
    queued = _inspect(where, ["upload", str(first), first.name], ["expect", str(first)])
    code, total = _killed(where, tmp, 0, "worker", "--batch")  # uninterrupted: how many statements a file takes
    assert code == 0 and total > 5
    done = _inspect(where, ["state", "after"])["after"]
    sub = next(s for s in done["submissions"] if s["pk"] == queued["queued"])
    assert {k: sub[k] for k in queued["expect"]} == queued["expect"]
    for i in range(1, KILLS + 1):
        path = _variant(tmp, i)
        queued = _inspect(where, ["upload", str(path), path.name], ["expect", str(path)])
        n = rng.randint(1, total)
        code, _ = _killed(where, tmp, n, "worker", "--batch")
        seen = _inspect(where, ["state", "dead"], ["ctdc", "worker", "--batch"], ["state", "restarted"])
        dead = next(s for s in seen["dead"]["submissions"] if s["pk"] == queued["queued"])
        after = next(s for s in seen["restarted"]["submissions"] if s["pk"] == queued["queued"])
        # While dead: either nothing of the report is visible, or all of it (one transaction stores it).
        if dead["status"] != "validated":
            assert dead["status"] in ("uploaded", "processing") and dead["problems"] == dead["quarantine"] == 0
        assert dead["records"] == 0
        # Restarted: the same report as an uninterrupted run, every row accounted for, nothing left running.
        assert after["status"] == "validated", (n, after)
        assert {k: after[k] for k in queued["expect"]} == queued["expect"], n
        assert "RUNNING" not in seen["restarted"]["tasks"] and "READY" not in seen["restarted"]["tasks"]
        figures(cases=1, killed=int(code == -signal.SIGKILL),
                rows_lost=queued["expect"]["rows_read"] - after["rows_read"])


def test_an_approval_killed_anywhere_leaves_all_or_nothing_and_completes_when_run_again(installation, figures):
    where, tmp = installation
    rng = random.Random(SEED + 1)
    path = _variant(tmp, 100)
    queued = _inspect(where, ["upload", str(path), path.name], ["ctdc", "worker", "--batch"])
    pk = queued["queued"]
    code, total = _killed(where, tmp, 0, "-c", APPROVE, str(pk))  # counted on a first file, approved through
    assert code == 0 and total > 3
    for i in range(KILLS):
        path = _variant(tmp, 101 + i)
        queued = _inspect(where, ["upload", str(path), path.name], ["ctdc", "worker", "--batch"])
        pk = queued["queued"]
        n = rng.randint(1, total)
        code, _ = _killed(where, tmp, n, "-c", APPROVE, str(pk))
        seen = _inspect(where, ["state", "dead"], ["approve", pk], ["state", "again"])
        dead = next(s for s in seen["dead"]["submissions"] if s["pk"] == pk)
        again = next(s for s in seen["again"]["submissions"] if s["pk"] == pk)
        assert (dead["status"], dead["records"]) in (("validated", 0), ("approved", dead["accepted"])), (n, dead)
        assert again["status"] == "approved" and again["records"] == again["accepted"], (n, again)
        figures(cases=1, killed=int(code == -signal.SIGKILL), rows_lost=again["accepted"] - again["records"])


def test_a_release_build_killed_anywhere_fails_cleanly_and_the_published_release_still_serves(installation, figures):
    where, tmp = installation
    rng = random.Random(SEED + 2)
    before = _inspect(where, ["state", "before"])["before"]
    _published_serves(before)
    dp = ["release", "build", "--method", "dp-synthetic", "--epsilon", "1", "--publish"]
    code, total = _killed(where, tmp, 0, *dp)
    assert code == 0 and total > 10
    killed_dp = 0
    for _ in range(KILLS):
        # A build run by the CLI, or queued from the steward's page and run by the worker.
        how, method = rng.choice([("cli", "dp-synthetic"), ("cli", "k-anonymity"), ("worker", "dp-synthetic")])
        n = rng.randint(1, total)
        if how == "cli":
            code, _ = _killed(where, tmp, n, "release", "build", "--method", method, "--epsilon", "1", "--publish")
        else:
            _inspect(where, ["enqueue", method])
            code, _ = _killed(where, tmp, n, "worker", "--batch")
        killed_dp += int(code == -signal.SIGKILL and method == "dp-synthetic")
        # The restart: a worker starting (it reaps builds of dead processes), then the report.
        seen = _inspect(where, ["ctdc", "worker", "--batch"], ["state", "restarted"])["restarted"]
        assert not [b for b in seen["builds"] if b[1] in ("queued", "running")], seen["builds"]
        _published_serves(seen)
        _ledger_matches(seen, killed_dp)
        figures(cases=1, killed=int(code == -signal.SIGKILL))
    # A new build after all that: it clears what killed builds left on disk, and publishes.
    final = _inspect(where, ["ctdc", *dp], ["state", "final"])["final"]
    assert final["builds"][-1][1] == "succeeded" and final["temporaries"] == []
    _published_serves(final)
    _ledger_matches(final, killed_dp)
    assert [r["status"] for r in final["releases"]][-1] == "published"
