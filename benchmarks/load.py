"""Benchmark (issue 18, item 4): the portal and API under bounded loopback load while release builds run, and the
servers' memory over a soak.

    .venv/bin/python benchmarks/load.py [--cases 6000] [--seconds 60] [--soak-seconds 600] [--connections 8]
                                        [--port 8140] [--keep var/bench-load] [--json out.json]

Sets up a data folder (SQLite in it, or the database DATABASE_URL names, which must be empty) with one
organisation's simulated records approved and one published release, then runs the real `ctdc serve` (gunicorn
and the task worker, as `make demo` does) on 127.0.0.1 only. While wrk (Debian's; `make bench-portal` installs
it) sends `--connections` connections of a mixed URL list (home, /explore/, /data/, the release list, the latest
release, 100 aggregate questions) for `--seconds`, release builds run one after another through the CLI
(k-anonymity and dp-synthetic in turn, each published), so the portal switches releases under load. Then the soak:
the same load for `--soak-seconds`, RSS of every server process sampled every 2 s.

Prints requests, non-2xx responses (which include every 5xx), socket errors, p50/p95/p99 latency, the builds
finished during the load (method, exit code, and for a failed one the last line it printed: its one-line reason),
and each server process's RSS at the start, end and peak of the soak. Exits 1 if any response was not 2xx, a socket
error happened or a build failed. Figures and the command used: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from portal import HOST, run_wrk, wait_up  # noqa: E402  (a sibling script, not a package)

BIN = Path(sys.executable).parent


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "CTDC_DATA_DIR": str(folder), "CTDC_ALLOWED_HOSTS": f"{HOST},localhost",
            "DJANGO_SETTINGS_MODULE": "ctdc.web.config.settings.base", "DEBUG": "false",
            # Plain HTTP on loopback with keys generated into the throwaway folder: a demo install. Production
            # settings refuse to start on generated keys and would redirect wrk's HTTP to HTTPS.
            "CTDC_DEMO": "true",
            "CTDC_API_RATE_PER_MINUTE": "0",  # one client (wrk) on loopback: the per-address limit would answer 429
            "CTDC_DP_EPSILON_BUDGET": "100000"}  # builds for as long as the load lasts; the ledger is not the point


def ctdc(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "ctdc"), *args], env=_env(folder), capture_output=True, text=True,
                          check=check, timeout=3600)


def setup(folder: Path, cases: int) -> None:
    if (folder / "ready").exists():
        print(f"reusing {folder}")
        return
    ctdc(folder, "init")
    ctdc(folder, "org", "create", "open-roads", "--name", "Open Roads (fictional)")
    ctdc(folder, "simulate", "--seed", "18", "--cases", str(cases), "--out", str(folder / "sim"))
    ctdc(folder, "ingest", str(folder / "sim" / "open-roads.csv"), "--org", "open-roads", "--preset", "kobo-htcds",
         "--approve")
    ctdc(folder, "release", "build", "--publish")
    (folder / "ready").write_text("")


def urls() -> list[str]:
    """Pages and API calls a visitor makes; aggregate questions over the portal's dimensions."""
    dims = ["registration_year", "gender", "age_band", "citizenship", "country_of_exploitation", "exploitation_types"]
    api = [f"/api/v1/aggregates?{urlencode({'by': d})}" for d in dims]
    api += [f"/api/v1/aggregates?{urlencode({'by': f'{a},{b}'})}" for a in dims for b in dims if a < b]
    return ["/", "/explore/", "/data/", "/api/v1/releases", "/api/v1/releases/victims/latest", *api]


class Builds(threading.Thread):
    """Release builds one after another until stopped; counts those that ended, and how."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.stop, self.outcomes = folder, threading.Event(), []

    def run(self) -> None:
        methods = ["k-anonymity", "dp-synthetic"]
        while not self.stop.is_set():
            method = methods[len(self.outcomes) % 2]
            extra = ["--epsilon", "1"] if method == "dp-synthetic" else []
            done = ctdc(self.folder, "release", "build", "--method", method, "--publish", *extra, check=False)
            # A failed build says why in its last line (the CLI's one-line error); kept so a run can be explained.
            why = (done.stderr.strip().splitlines() or [""])[-1][:500] if done.returncode else ""
            self.outcomes.append((method, done.returncode, why) if why else (method, done.returncode))


def _sockerr(r: dict) -> str:
    """wrk's socket errors by kind: connect, read (the server closed the connection), write, timeout (5 s)."""
    return ", ".join(f"{k} {r.get(k, 0):.0f}" for k in ("connect", "read", "write", "timeout"))


def processes(server: subprocess.Popen) -> dict[int, str]:
    """pid -> role of every process of `ctdc serve` (gunicorn arbiter, its workers, the task worker)."""
    out = {}
    for p in psutil.Process(server.pid).children(recursive=True):
        cmd = " ".join(p.cmdline())
        role = "task worker" if " worker" in cmd and "gunicorn" not in cmd else (
            "gunicorn worker" if p.parent() and "gunicorn" in " ".join(p.parent().cmdline()) else "gunicorn")
        out[p.pid] = role
    return out


def sample(pids: dict[int, str], rss: dict[int, list[int]]) -> None:
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):  # a gunicorn worker replaced meanwhile
            rss.setdefault(pid, []).append(psutil.Process(pid).memory_info().rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=6000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--soak-seconds", type=int, default=600)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8140)
    parser.add_argument("--keep", type=Path, help="data folder to set up once and reuse")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench-portal` installs Debian's wrk")
    folder = (args.keep or Path(tempfile.mkdtemp(prefix="ctdc-bench-load-"))).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    setup(folder, args.cases)
    print(f"set up in {time.perf_counter() - t0:.0f} s")
    log = (folder / "serve.log").open("w")
    server = subprocess.Popen([str(BIN / "ctdc"), "serve", "--port", str(args.port), "--workers", str(args.workers)],
                              env=_env(folder), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://{HOST}:{args.port}"
    figures: dict = {"cases": args.cases, "connections": args.connections, "workers": args.workers}
    try:
        wait_up(base + "/api/v1/releases")
        paths = urls()
        builds = Builds(folder)
        builds.start()
        r = run_wrk(base, paths, args.seconds, args.connections, threads=2)
        builds.stop.set()
        builds.join()
        figures["load"] = {**r, "builds": builds.outcomes}
        print(f"load while building: {r['requests']:,.0f} requests in {r['seconds']:.0f} s ({r['rps']:,.0f}/s), "
              f"non-2xx {r['non2xx']:.0f}, socket errors {r['sockerr']:.0f} ({_sockerr(r)}), p50 {r['p50']:.1f} ms, "
              f"p95 {r['p95']:.1f} ms, p99 {r['p99']:.1f} ms; builds finished: {builds.outcomes}")
        rss: dict[int, list[int]] = {}
        pids = processes(server)
        soak = {}
        if args.soak_seconds:
            stop = threading.Event()

            def sampler():
                while not stop.wait(2):
                    sample(pids, rss)

            sample(pids, rss)
            thread = threading.Thread(target=sampler, daemon=True)
            thread.start()
            soak = run_wrk(base, paths, args.soak_seconds, args.connections, threads=2)
            stop.set()
            thread.join()
            sample(pids, rss)
            figures["soak"] = {**soak, "rss_mb": {f"{pids[p]} {p}": [round(v[0] / 2**20), round(v[-1] / 2**20),
                                                                       round(max(v) / 2**20)] for p, v in rss.items()}}
            print(f"soak {args.soak_seconds} s: {soak['requests']:,.0f} requests, non-2xx {soak['non2xx']:.0f}, "
                  f"socket errors {soak['sockerr']:.0f} ({_sockerr(soak)}), p95 {soak['p95']:.1f} ms")
            for name, (first, last, peak) in figures["soak"]["rss_mb"].items():
                print(f"  {name:24} RSS start {first} MB, end {last} MB, peak {peak} MB")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=120)
        log.close()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    bad = figures["load"]["non2xx"] + figures["load"]["sockerr"] + (soak.get("non2xx", 0) + soak.get("sockerr", 0))
    figures["errors"] = bad
    # A build that fails under load is a failure of the run, with its reason, not a figure to read past.
    failed = [b for b in figures["load"]["builds"] if b[1] != 0]
    figures["failed_builds"] = len(failed)
    for build in failed:
        print(f"build failed: {build}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    sys.exit(1 if bad or failed else 0)


if __name__ == "__main__":
    main()
