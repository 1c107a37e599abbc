"""Benchmark: end-to-end release build (protect, check, package, fsync, rename) for many approved victims.

    .venv/bin/python benchmarks/release.py [--cases 250000] [--method dp-synthetic]

The input is the simulator's population (`ctdc.fixtures.population.simulate_cases`) with its direct identifiers
dropped, i.e. what the central repository's snapshot holds; the database SELECT itself is not timed. Prints the
time of each stage, the total and the peak RSS. Recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from ctdc.fixtures.population import simulate_cases
from ctdc.release.build import build_release, verify_release
from ctdc.release.methods import METHODS, MethodParams

IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--method", choices=sorted(METHODS), default="dp-synthetic")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame = simulate_cases(args.cases, args.seed).drop(*IDENTIFIERS)
    stages: list[tuple[float, int, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        built = build_release(frame, root=Path(tmp), dataset="victims", version="2026.11.1", method=args.method,
                              params=MethodParams(seed=args.seed),
                              progress=lambda pct, msg: stages.append((time.perf_counter() - t0, pct, msg)))
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in built.path.iterdir())
        t1 = time.perf_counter()
        problems = verify_release(built.path)
        verify_s = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.method}: {args.cases:,} approved victims -> {built.metadata['records']:,} rows in {seconds:.1f} s, "
          f"peak RSS {peak_mb:,.0f} MB, package {size / 1e6:.1f} MB")
    previous = 0.0
    for at, pct, msg in stages:
        print(f"  {at:7.1f} s (+{at - previous:6.1f}) {pct:3d}% {msg}")
        previous = at
    results = ", ".join(f"{c.id}={'pass' if c.passed else 'FAIL'}" for c in built.checks)
    print(f"checks: {results}")
    print(f"verify: {verify_s:.1f} s, {problems or 'intact'}")


if __name__ == "__main__":
    main()
