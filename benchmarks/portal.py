"""Benchmark: the public portal and aggregates API under load, served by gunicorn from a 250,000-victim release.

    make bench-portal            # installs wrk (Debian) and runs this with the defaults
    .venv/bin/python benchmarks/portal.py [--cases 250000] [--method dp-synthetic] [--seconds 30]
                                          [--connections 32] [--workers 2] [--keep var/bench-portal]

Builds (or, with --keep and an existing folder, reuses) a data folder holding one published release of `--cases`
simulated victims (the release core's `build_release`, registered as a published `Release` row in that folder's
SQLite database), starts gunicorn on 127.0.0.1 only, warms every URL of each mix up, then runs wrk (bounded:
`--connections` connections for `--seconds` seconds per mix) against three mixes:

- `api`: 300 different `GET /api/v1/aggregates?...` questions (one or two `by` dimensions, up to L-1 filters, some
  year ranges), drawn with a fixed seed from the release's own values;
- `explore`: 60 different `/explore/?...` pages (full HTML: nine charts and their tables);
- `home`: `/`.

Prints requests/s, p50/p95/p99 latency and non-2xx responses for each. Targets (issue 15): API >= 1,500 req/s with
p95 <= 20 ms, /explore/ p95 <= 100 ms, / p95 <= 50 ms. Recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")
HOST = "127.0.0.1"  # loopback only: this benchmark never sends traffic anywhere else
LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  local e = summary.errors
  io.write(string.format("RESULT requests=%%d seconds=%%.3f p50=%%.3f p95=%%.3f p99=%%.3f non2xx=%%d sockerr=%%d "
    .. "connect=%%d read=%%d write=%%d timeout=%%d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, non2xx, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write,
    e.timeout))
end
"""


def setup(folder: Path, cases: int, method: str) -> None:
    """A data folder with a migrated SQLite database and one published release of `cases` victims."""
    os.environ["CTDC_DATA_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctdc.web.config.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from ctdc.fixtures.population import simulate_cases
    from ctdc.release.build import build_release
    from ctdc.release.methods import MethodParams
    from ctdc.web.releases.models import Release

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if Release.objects.filter(status=Release.Status.PUBLISHED).exists():
        print(f"reusing the published release in {folder}")
        return
    t0 = time.perf_counter()
    frame = simulate_cases(cases, 0).drop(*IDENTIFIERS)
    root = Path(settings.CTDC_RELEASES_DIR)
    built = build_release(frame, root=root, dataset="victims", version="2026.12.1", method=method,
                          params=MethodParams(seed=0))
    files = [{"name": f.name, "bytes": f.stat().st_size} for f in sorted(built.path.iterdir())]
    Release.objects.create(
        dataset="victims", version=built.version, status=Release.Status.PUBLISHED, method=method,
        params=built.metadata["params"], path=str(built.path.relative_to(root)), summary=built.summary,
        record_count=built.metadata["records"], input_count=frame.height,
        standard_version=built.metadata["standard_version"], checks=[c.as_dict() for c in built.checks],
        checks_passed=True, files=files, size_bytes=sum(f["bytes"] for f in files), published_at=datetime.now(UTC))
    print(f"built a {method} release of {cases:,} victims in {time.perf_counter() - t0:.0f} s")


def mixes(folder: Path, seed: int = 0) -> dict[str, list[str]]:
    """The URL mixes, drawn from the release's own values (so most questions have counts to show)."""
    from ctdc.web.portal.figures import DIMENSIONS, YEAR
    from ctdc.web.portal.selectors import portal_release

    pr = portal_release("victims")
    index = pr.index
    rng = random.Random(seed)
    years = index.years()
    filter_dims = [d for d in DIMENSIONS if d != YEAR]

    def filters(n: int) -> dict[str, str]:
        out = {}
        for dim in rng.sample(filter_dims, n):
            if index.domains[dim]:
                out[dim] = rng.choice(index.domains[dim][:12])
        return out

    api = []
    while len(api) < 300:
        by = rng.sample(DIMENSIONS, rng.choice([1, 1, 1, 2]))
        budget = index.length - len(by)
        params = {"by": ",".join(by), **filters(rng.randint(0, budget))}
        if years and len(params) - 1 < budget and rng.random() < 0.3:
            lo = rng.randint(years[0], years[1])
            params.update(year_from=lo, year_to=min(years[1], lo + rng.randint(0, 4)))
        api.append("/api/v1/aggregates?" + urlencode(params))
    explore = ["/explore/?" + urlencode(filters(rng.randint(0, index.max_filters))) for _ in range(60)]
    return {"api": api, "explore": explore, "home": ["/"]}


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer at {url}")


def run_wrk(base: str, paths: list[str], seconds: int, connections: int, threads: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        script = Path(tmp) / "mix.lua"
        script.write_text(LUA % listing)
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                              "--timeout", "5s", "-s", str(script), base], capture_output=True, text=True,
                             timeout=seconds + 60, check=True).stdout
    m = re.search(r"RESULT (.*)", out)
    values = dict(kv.split("=") for kv in m.group(1).split())
    r = {k: float(v) for k, v in values.items()}
    r["rps"] = r["requests"] / r["seconds"]
    return r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--method", default="dp-synthetic")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--port", type=int, default=8116)
    parser.add_argument("--keep", type=Path, help="data folder to build once and reuse")
    parser.add_argument("--mixes", default="api,explore,home")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make bench-portal` installs Debian's wrk and runs this benchmark")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ctdc-bench-portal-"))
    folder.mkdir(parents=True, exist_ok=True)
    setup(folder.resolve(), args.cases, args.method)
    urls = mixes(folder)
    env = {**os.environ, "CTDC_DATA_DIR": str(folder.resolve()), "CTDC_ALLOWED_HOSTS": HOST,
           "DJANGO_SETTINGS_MODULE": "ctdc.web.config.settings.base",
           # Plain HTTP on 127.0.0.1 with keys generated into the folder: a demo install (docs/security.md).
           "CTDC_DEMO": "true",
           # wrk is one client sending thousands of requests a second: the per-client API limit would measure
           # itself (429s), not the portal.
           "CTDC_API_RATE_PER_MINUTE": "0"}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen([gunicorn, "ctdc.web.config.wsgi:application", "--bind", f"{HOST}:{args.port}",
                               "--workers", str(args.workers), "--threads", str(args.threads),
                               "--no-control-socket", "--log-level", "warning"], env=env)
    base = f"http://{HOST}:{args.port}"
    try:
        wait_up(base + "/api/v1/releases")
        for name in args.mixes.split(","):
            # Warm-up: every URL a few times, so each worker has loaded the release and met every question.
            for _ in range(2 * args.workers):
                for path in urls[name]:
                    urllib.request.urlopen(base + path, timeout=30).read()
            r = run_wrk(base, urls[name], args.seconds, args.connections, threads=2)
            print(f"{name:8} {len(urls[name]):4d} URLs  {r['rps']:8,.0f} req/s  p50 {r['p50']:6.1f} ms  "
                  f"p95 {r['p95']:6.1f} ms  p99 {r['p99']:6.1f} ms  non-2xx {r['non2xx']:.0f}  "
                  f"socket errors {r['sockerr']:.0f}  ({r['requests']:,.0f} requests in {r['seconds']:.1f} s)")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
