"""`make resilience` (issue 18): the resilience suite at full size, then the load benchmark; one summary table.

    .venv/bin/python benchmarks/resilience.py [--kills 10] [--scale 4] [--load-seconds 60] [--soak-seconds 120]
                                              [--cases 3000] [--port 8140] [--budget-minutes 40]

1. `pytest tests/resilience` with CTDC_RESILIENCE_KILLS (SIGKILLs per job: ingest worker, approval, release
   builder) and CTDC_RESILIENCE_SCALE (a multiplier of every Hypothesis example count), on the database
   DATABASE_URL names (the Makefile passes PostgreSQL when it is up, for the concurrency tests) or SQLite. Items
   1, 2, 3, 5 and 6; each test adds its figures (tests/resilience/conftest.py).
2. `benchmarks/load.py`: item 4, the portal and API under wrk's load while releases build, then a memory soak.

Bounded: each step has a time limit (`--budget-minutes` in all); a step that overruns counts as a failure. Prints
one table: cases tried, failures, rows lost, server errors (5xx; for the load row, every non-2xx response and
socket error), leaks. Exit code 1 if any failure, lost row, server error or leak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.resilience.conftest import COLUMNS, table  # noqa: E402  (the same table pytest prints)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--soak-seconds", type=int, default=120)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--port", type=int, default=8140)
    parser.add_argument("--budget-minutes", type=float, default=40)
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget_minutes * 60
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="ctdc-resilience-") as tmp:
        report = Path(tmp) / "suite.json"
        env = {**os.environ, "CTDC_RESILIENCE_KILLS": str(args.kills), "CTDC_RESILIENCE_SCALE": str(args.scale),
               "CTDC_RESILIENCE_REPORT": str(report)}
        engine = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
        print(f"== tests/resilience on {engine}: {args.kills} kills per job, examples x{args.scale}", flush=True)
        t0 = time.monotonic()
        try:
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/resilience"],
                           cwd=ROOT, env=env, timeout=max(deadline - time.monotonic() - 60 - args.load_seconds
                                                          - args.soak_seconds, 60))
        except subprocess.TimeoutExpired:
            rows["suite timed out"] = {"failures": 1}
        if report.exists():
            rows.update(json.loads(report.read_text()))
        print(f"   ({time.monotonic() - t0:.0f} s)")

        load_json = Path(tmp) / "load.json"
        print(f"== benchmarks/load.py: {args.load_seconds} s under load while building, {args.soak_seconds} s soak",
              flush=True)
        t0 = time.monotonic()
        try:
            done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--cases", str(args.cases),
                                   "--seconds", str(args.load_seconds), "--soak-seconds", str(args.soak_seconds),
                                   "--port", str(args.port), "--json", str(load_json)],
                                  cwd=ROOT, env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
                                  timeout=max(deadline - time.monotonic(), 120))
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = 1
        if load_json.exists():
            load = json.loads(load_json.read_text())
            requests = load["load"]["requests"] + load.get("soak", {}).get("requests", 0)
            # failures: each release build that failed while the load ran, or the run itself (1) when it failed
            # for another reason; server_errors: every non-2xx answer and socket error.
            failed_builds = int(load.get("failed_builds", 0))
            rows["4 load"] = {"cases": int(requests), "failures": failed_builds or int(code != 0 and not load["errors"]),
                              "server_errors": int(load["errors"])}
        else:
            rows["4 load"] = {"failures": 1}
        print(f"   ({time.monotonic() - t0:.0f} s)")
    print("\n== resilience summary (issue 18)")
    print(table(rows))
    bad = sum(r.get(c, 0) for r in rows.values() for c in COLUMNS if c != "cases")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
