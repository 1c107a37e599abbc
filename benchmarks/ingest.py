"""Benchmark: intake of 1,000,000 simulated rows (CSV and XLSX), side by side with peers on the same file.

    .venv/bin/python benchmarks/ingest.py [--rows 1000000] [--skip-xlsx] [--skip-peers]

Each measurement runs in its own process so its peak memory (max RSS) is its own. Rows/s for ctdc is the whole
pipeline: parse + map + normalise + validate + keyed identity hash + drop identifiers + split accepted /
quarantined / duplicates. Peers: `frictionless validate` (structure and type checks only) and `pandas.read_csv`
(parse only). Files are cached in var/bench/. Recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from ctdc.fixtures.formats import hotline_frame, kobo_frame, ngo_frame
from ctdc.fixtures.population import simulate_cases
from ctdc.fixtures.simulate import HOTLINE_MAPPING, _write_ngo

BENCH = Path("var/bench")


def make_files(rows: int, xlsx: bool) -> dict[str, Path]:
    BENCH.mkdir(parents=True, exist_ok=True)
    paths = {"hotline-csv": BENCH / f"hotline-{rows}.csv", "kobo-csv": BENCH / f"kobo-{rows}.csv"}
    if xlsx:
        paths["htcds-xlsx"] = BENCH / f"ngo-{rows}.xlsx"
    (BENCH / "hotline.mapping.yml").write_text(HOTLINE_MAPPING)
    if all(p.exists() for p in paths.values()):
        return paths
    cases = simulate_cases(rows, seed=42)
    rng = np.random.default_rng(42)
    if not paths["hotline-csv"].exists():
        text = hotline_frame(cases, rng).write_csv(separator=";", null_value="")
        paths["hotline-csv"].write_bytes(text.encode("latin-1"))
    if not paths["kobo-csv"].exists():
        paths["kobo-csv"].write_bytes(kobo_frame(cases, rng).write_csv(null_value="").encode())
    if xlsx and not paths["htcds-xlsx"].exists():
        import polars as pl

        dates = ("cas_IncomingReferralDate", "prs_Birthdate")
        frame = ngo_frame(cases, rng, ["A Worker", "B Worker"]).with_columns(
            *[pl.col(d).alias(d + "__d") for d in dates], *[pl.col(d).cast(pl.String) for d in dates])
        _write_ngo(paths["htcds-xlsx"], frame)
    return paths


RUNNER = textwrap.dedent("""
    import json, sys, time
    kind, path = sys.argv[1], sys.argv[2]
    t = time.perf_counter()
    if kind == "ctdc":
        from ctdc.ingest.mapping import load_mapping, load_preset
        from ctdc.ingest.pipeline import ingest_file
        spec = {"hotline": lambda: load_mapping("var/bench/hotline.mapping.yml"), "kobo": lambda: load_preset("kobo-htcds"),
                "ngo": lambda: load_preset("htcds")}[sys.argv[3]]()
        rows = ingest_file(path, spec, identity_key=b"bench-key").report.stats["rows_read"]
    elif kind == "pandas":
        import pandas as pd
        rows = len(pd.read_csv(path, dtype=str, sep=None if sys.argv[3] == "hotline" else ",", engine="python" if sys.argv[3] == "hotline" else "c", encoding="latin-1" if sys.argv[3] == "hotline" else "utf-8"))
    elif kind == "frictionless":
        from frictionless import Resource, Dialect, formats
        control = formats.CsvControl(delimiter=";") if sys.argv[3] == "hotline" else formats.CsvControl()
        res = Resource(path, encoding="latin-1" if sys.argv[3] == "hotline" else "utf-8", control=control)
        report = res.validate()
        rows = report.tasks[0].stats["rows"]
    seconds = time.perf_counter() - t
    # VmHWM, not ru_maxrss: after fork+exec, ru_maxrss still carries the parent's peak on Linux.
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": hwm / 1024}))
""")


def measure(kind: str, path: Path, flavour: str) -> dict:
    out = subprocess.run([sys.executable, "-c", RUNNER, kind, str(path), flavour], capture_output=True, text=True)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    paths = make_files(args.rows, not args.skip_xlsx)
    runs = [("ctdc", "hotline-csv", "hotline"), ("ctdc", "kobo-csv", "kobo")]
    if not args.skip_xlsx:
        runs.append(("ctdc", "htcds-xlsx", "ngo"))
    if not args.skip_peers:
        runs += [("pandas", "hotline-csv", "hotline"), ("pandas", "kobo-csv", "kobo"),
                 ("frictionless", "hotline-csv", "hotline"), ("frictionless", "kobo-csv", "kobo")]
    print(f"{'tool':<13} {'file':<12} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    for kind, name, flavour in runs:
        r = measure(kind, paths[name], flavour)
        if "error" in r:
            print(f"{kind:<13} {name:<12} error: {r['error']}")
            continue
        print(f"{kind:<13} {name:<12} {r['rows']:>10,} {r['seconds']:>8.1f} {r['rows'] / r['seconds']:>10,.0f} "
              f"{r['peak_mb']:>8,.0f}")


if __name__ == "__main__":
    main()
