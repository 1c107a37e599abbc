"""Benchmark: intake END TO END, as a user runs it, beside peers on the same files (issue 14).

    .venv/bin/python benchmarks/ingest.py [--rows 250000] [--db sqlite,postgresql] [--pg-url URL]
                                          [--files public,hotline,kobo,xlsx] [--skip-peers] [--skip-pipeline]

Beside the SQLite run, the bare `sqlite3` insert of the rows it stored into an empty copy of the same table
(`SQLITE_FLOOR`): CPU seconds that any approval into this schema costs on this machine.

What is timed, each in its own process (peak memory = that process's max RSS, from /usr/bin/time):
- `ctdc ingest FILE --org bench --approve` (the command a user runs): start-up, hashing, the encrypted raw copy,
  parse + map + normalise + validate + identity hash, the report and quarantine stored, then approval into the
  central repository (bulk COPY / executemany). On SQLite (a fresh data folder per run) and on PostgreSQL
  (`--pg-url`, a database this script EMPTIES first: `DROP SCHEMA public CASCADE`, then `ctdc init`).
- "pipeline": `ctdc.ingest.pipeline.ingest_file` alone, nothing stored (the figure issue 6 recorded).
- peers: `frictionless validate` (structure and type checks) and `pandas.read_csv` (parse only, all text).

Files (cached in var/bench/): the public CTDC k-anonymized layout (`;`, a notice cell, 63 columns, CRLF; written
by the release exporter from simulated cases) and the three simulator formats: hotline CSV (`;`, Latin-1), Kobo
CSV, HTCDS-style XLSX. Prints seconds, CPU seconds (user + system: the machine is shared, so wall time depends on
what else runs; CPU time much less), rows/s, peak MB, and the ratios the issue sets targets for. Recorded in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BENCH = Path("var/bench")
CTDC = str(Path(sys.executable).with_name("ctdc"))
# The 1,000,000-row Kobo file is 434 MB, over the 256 MB a contributor file may be by default; a steward taking in
# such a file sets CTDC_UPLOAD_MAX_MB, and so does every run here (`ctdc ingest` through its settings, the
# pipeline-only run through `UploadLimits` in PEER).
UPLOAD_MAX_MB = "1024"
# file kind -> (how ctdc reads it, pandas/frictionless options)
KINDS = {
    "public": (["--preset", "ctdc-public"], {"sep": ";", "encoding": "utf-8"}),
    "hotline": (["--mapping", str(BENCH / "hotline.mapping.yml")], {"sep": ";", "encoding": "latin-1"}),
    "kobo": (["--preset", "kobo-htcds"], {"sep": ",", "encoding": "utf-8"}),
    "xlsx": (["--preset", "htcds"], None),
}


def make_files(rows: int, kinds: list[str]) -> dict[str, Path]:
    """The benchmark files for `rows` simulated cases (written once, then reused)."""
    import numpy as np

    from ctdc.fixtures.formats import hotline_frame, kobo_frame, ngo_frame
    from ctdc.fixtures.population import simulate_cases
    from ctdc.fixtures.simulate import HOTLINE_MAPPING, _write_ngo
    from ctdc.release.ctdc_public import write_ctdc_public

    BENCH.mkdir(parents=True, exist_ok=True)
    (BENCH / "hotline.mapping.yml").write_text(HOTLINE_MAPPING)
    paths = {"public": BENCH / f"ctdc-public-{rows}.csv", "hotline": BENCH / f"hotline-{rows}.csv",
             "kobo": BENCH / f"kobo-{rows}.csv", "xlsx": BENCH / f"ngo-{rows}.xlsx"}
    paths = {k: v for k, v in paths.items() if k in kinds}
    if all(p.exists() for p in paths.values()):
        return paths
    cases = simulate_cases(rows, seed=42)
    rng = np.random.default_rng(42)
    if "public" in paths and not paths["public"].exists():
        write_ctdc_public(cases, paths["public"])
    if "hotline" in paths and not paths["hotline"].exists():
        text = hotline_frame(cases, rng).write_csv(separator=";", null_value="")
        paths["hotline"].write_bytes(text.encode("latin-1"))
    if "kobo" in paths and not paths["kobo"].exists():
        paths["kobo"].write_bytes(kobo_frame(cases, rng).write_csv(null_value="").encode())
    if "xlsx" in paths and not paths["xlsx"].exists():
        import polars as pl

        dates = ("cas_IncomingReferralDate", "prs_Birthdate")
        frame = ngo_frame(cases, rng, ["A Worker", "B Worker"]).with_columns(
            *[pl.col(d).alias(d + "__d") for d in dates], *[pl.col(d).cast(pl.String) for d in dates])
        _write_ngo(paths["xlsx"], frame)
    return paths


PEER = textwrap.dedent("""
    import json, os, sys
    kind, path, sep, encoding = sys.argv[1:5]
    if kind == "pandas":
        import pandas as pd
        rows = len(pd.read_csv(path, dtype=str, sep=sep, encoding=encoding))
    elif kind == "frictionless":
        from frictionless import Resource, formats
        report = Resource(path, encoding=encoding, control=formats.CsvControl(delimiter=sep)).validate()
        rows = report.tasks[0].stats["rows"]
    else:
        from ctdc.ingest.mapping import load_mapping, load_preset
        from ctdc.ingest.pipeline import ingest_file
        from ctdc.ingest.limits import MIB, UploadLimits
        how = sys.argv[5:]
        spec = load_preset(how[1]) if how[0] == "--preset" else load_mapping(how[1])
        limits = UploadLimits(max_bytes=int(os.environ["CTDC_UPLOAD_MAX_MB"]) * MIB)
        rows = ingest_file(path, spec, identity_key=b"bench-key", limits=limits).report.stats["rows_read"]
    print(json.dumps({"rows": rows}))
""")


# The floor under the SQLite figure: the rows `ctdc ingest --approve` stored, read back and inserted again with
# nothing but Python's sqlite3 into an empty copy of the same table (same indexes, constraints, pragmas and
# statement as the approval: ON CONFLICT DO NOTHING, the random key drawn by SQLite). CPU seconds of the insert
# and commit alone: what any approval into this schema costs on this machine, whatever the code around it.
SQLITE_FLOOR = textwrap.dedent("""
import os, sqlite3, sys, tempfile, time
src = sqlite3.connect(sys.argv[1])
fixed = ("id", "victim_id", "organisation_id", "submission_id", "mapping_version", "updated_at")
cols = [r[1] for r in src.execute("PRAGMA table_info(cases_victim)") if r[1] not in fixed]
rows = src.execute(f"SELECT {', '.join(cols)} FROM cases_victim ORDER BY id").fetchall()
ddl = [r[0] for r in src.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'cases_victim' AND sql IS NOT NULL")]
with tempfile.TemporaryDirectory() as tmp:
    db = sqlite3.connect(os.path.join(tmp, "floor.sqlite3"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for parent in ("accounts_organisation", "submissions_submission"):
        db.execute(f"CREATE TABLE {parent} (id integer PRIMARY KEY)")
        db.execute(f"INSERT INTO {parent} VALUES (1)")
    for statement in ddl:
        db.execute(statement)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA cache_size = -262144")
    sql = (f"INSERT INTO cases_victim ({', '.join(cols)}, organisation_id, submission_id, mapping_version, "
           f"updated_at, victim_id) VALUES ({', '.join('?' * len(cols))}, 1, 1, 'm', '2026-01-01 00:00:00', "
           "lower(hex(randomblob(16)))) ON CONFLICT (organisation_id, record_id) DO NOTHING")
    start = time.process_time()
    db.execute("BEGIN")
    for i in range(0, len(rows), 25000):
        db.executemany(sql, rows[i:i + 25000])
    db.execute("COMMIT")
    print(len(rows), time.process_time() - start)
""")


def sqlite_floor(data_dir: Path) -> dict:
    """CPU seconds of the bare sqlite3 insert of what the run stored (SQLITE_FLOOR)."""
    out = subprocess.run([sys.executable, "-c", SQLITE_FLOOR, str(data_dir / "ctdc.sqlite3")], capture_output=True,
                         text=True, check=True)
    rows, cpu = out.stdout.split()
    return {"rows": int(rows), "cpu": float(cpu)}


def _why_failed(stdout: str, stderr: str) -> str:
    """`ctdc ingest --json` says why in its JSON answer (stderr then holds only log lines); a Python run that
    raised, in the last line of its traceback that names an error."""
    try:
        return json.loads(stdout)["message"]
    except (ValueError, KeyError, TypeError):
        lines = stderr.strip().splitlines()
        return ([line for line in lines if "error" in line.lower()] or lines or ["failed"])[-1]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `cmd` under /usr/bin/time: wall seconds, CPU seconds, peak MB and its last stdout line."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-o", tf.name, "-f", "%U %S %M", *cmd], capture_output=True,
                             text=True, env=env)
        seconds = time.perf_counter() - start
        user, system, peak_kb = tf.read().split()[-3:]
    if out.returncode:
        return {"error": _why_failed(out.stdout, out.stderr)[:200]}
    return {"seconds": seconds, "cpu": float(user) + float(system), "peak_mb": int(peak_kb) / 1024,
            "stdout": out.stdout}


def end_to_end(db: str, path: Path, how: list[str], pg_url: str) -> dict:
    """`ctdc ingest --approve` on a database with nothing in it yet."""
    data_dir = Path(tempfile.mkdtemp(prefix="ctdc-bench-"))
    env = {**os.environ, "CTDC_DATA_DIR": str(data_dir), "CTDC_UPLOAD_MAX_MB": UPLOAD_MAX_MB}
    env.pop("DATABASE_URL", None)
    try:
        if db == "postgresql":
            import psycopg

            env["DATABASE_URL"] = pg_url
            with psycopg.connect(pg_url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        for setup in (["init"], ["org", "create", "bench", "--name", "Bench"],
                      ["org", "agreement", "bench", "--version", "bench", "--signed-by", "Benchmark"]):
            subprocess.run([CTDC, *setup], env=env, check=True, capture_output=True)
        r = timed([CTDC, "ingest", str(path), "--org", "bench", *how, "--approve", "--json"], env)
        if "error" not in r:
            out = json.loads(r["stdout"])
            assert out["status"] == "approved", out
            r["rows"] = out["rows_read"]
            r["stored"] = out["accepted"]
            if db == "sqlite":
                r["floor"] = sqlite_floor(data_dir)
        return r
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def peer(kind: str, path: Path, options: dict | None, how: list[str]) -> dict:
    if options is None and kind != "pipeline":
        return {"error": "CSV peers only"}
    opts = options or {"sep": "", "encoding": ""}
    r = timed([sys.executable, "-c", PEER, kind, str(path), opts["sep"], opts["encoding"], *how],
              {**os.environ, "CTDC_UPLOAD_MAX_MB": UPLOAD_MAX_MB})
    if "error" not in r:
        r["rows"] = json.loads(r["stdout"].strip().splitlines()[-1])["rows"]
    return r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/bench"),
                        help="PostgreSQL database to use; EMPTIED before every run")
    parser.add_argument("--files", default="public,hotline,kobo,xlsx")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    kinds = args.files.split(",")
    paths = make_files(args.rows, kinds)
    results: dict[tuple[str, str], dict] = {}
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"{'run':<24} {'file':<8} {'rows':>10} {'seconds':>8} {'cpu s':>7} {'rows/s':>9} {'peak MB':>8}")
    for kind in kinds:
        how, options = KINDS[kind]
        runs = [(f"ctdc e2e {db}", end_to_end, (db, paths[kind], how, args.pg_url)) for db in args.db.split(",")]
        if not args.skip_pipeline:
            runs.append(("ctdc pipeline only", peer, ("pipeline", paths[kind], options, how)))
        if not args.skip_peers and options is not None:
            runs += [(name, peer, (tool, paths[kind], options, how))
                     for name, tool in (("pandas.read_csv", "pandas"), ("frictionless", "frictionless"))]
        for name, run, run_args in runs:
            r = run(*run_args)
            results[(name, kind)] = r
            if "error" in r:
                print(f"{name:<24} {kind:<8} error: {r['error']}", flush=True)
                continue
            print(f"{name:<24} {kind:<8} {r['rows']:>10,} {r['seconds']:>8.1f} {r['cpu']:>7.1f} "
                  f"{r['rows'] / r['seconds']:>9,.0f} {r['peak_mb']:>8,.0f}", flush=True)
            if "floor" in r:
                fl = r["floor"]
                print(f"{'  sqlite3 insert alone':<24} {kind:<8} {fl['rows']:>10,} {'':>8} {fl['cpu']:>7.1f} "
                      f"{fl['rows'] / fl['cpu']:>9,.0f} {'':>8}  (rows per CPU second: the floor)", flush=True)
    print("\nratios, wall time: ctdc end to end / frictionless validate in rows/s (target >= 5), and ctdc end to end /"
          " pandas.read_csv in seconds (target <= 2)")
    for kind in kinds:
        f, p = results.get(("frictionless", kind), {}), results.get(("pandas.read_csv", kind), {})
        for db in args.db.split(","):
            e = results.get((f"ctdc e2e {db}", kind), {})
            if "seconds" in e and "seconds" in f and "seconds" in p:
                print(f"  {kind:<8} {db:<11} {f['seconds'] / e['seconds']:.2f} x frictionless's rate, "
                      f"{e['seconds'] / p['seconds']:.1f} x pandas' time")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
