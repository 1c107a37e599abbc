"""Benchmark: how fast `ctdc simulate` writes the three contributor files.

    .venv/bin/python benchmarks/simulate.py [--cases 1000000]

Prints cases/s and the size of each file. Recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from ctdc.fixtures.population import simulate_cases
from ctdc.fixtures.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    simulate_cases(args.cases, args.seed)
    t_pop = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        manifest = simulate(Path(tmp), cases=args.cases, seed=args.seed)
        seconds = time.perf_counter() - t0
        sizes = {f["file"]: (Path(tmp) / f["file"]).stat().st_size for f in manifest["files"]}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"population only: {args.cases:,} cases in {t_pop:.1f} s ({args.cases / t_pop:,.0f} cases/s)")
    print(f"three files:     {args.cases:,} cases in {seconds:.1f} s ({args.cases / seconds:,.0f} cases/s), "
          f"peak RSS {peak_mb:,.0f} MB")
    for f in manifest["files"]:
        print(f"  {f['file']:<24} {f['rows']:>9,} rows  {sizes[f['file']] / 1e6:7.1f} MB")


if __name__ == "__main__":
    main()
