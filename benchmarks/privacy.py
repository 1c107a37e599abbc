"""Privacy engine benchmark: ctdc.privacy side by side with pac-synth (and MST from smartnoise-synth).

Run:  python benchmarks/privacy.py [--rows 4000,20000,250000] [--dataset ctdc-public|victims|fixtures] [--skip-pacsynth]
                                   [--mst-python var/mst-venv/bin/python] [--repeat 3] [--steps a,b]

`make bench-peers` installs pac-synth (the `bench` extra) and builds the MST interpreter in var/mst-venv.

Each step runs in a fresh spawned process so its peak resident memory (ru_maxrss, which includes the ~150 MB
of the interpreter and imports) is its own. Wall time covers the step only (not data generation or imports).
Accuracy: mean absolute error in records over every cell of every 1-, 2- and 3-way contingency table, blank a
value of every column (`ctdc.privacy.evaluate.blank_marginal_mae`; synthetic counts scaled to the input's
size), of each synthetic table against the input; and, on the public CTDC layout, the share of rows whose
whole flag group is blank (input vs output), a missingness pattern longer than three columns.
One delta, 1/(n ln n) of the simulated table's size, is given to every tool of a run; ours encodes the
public CTDC layout with its public domain (`ctdc_public_categories`: 249 countries, declared years, flags
0/1), the peers infer theirs from the data. `--rows 4000,20000,250000` runs several sizes in one go;
pac-synth only up to `--pacsynth-max-rows` (20,000).

Peers are a `bench` extra (`pip install -e '.[bench]'` gives pac-synth). MST needs torch and jax and pins
opendp 0.14 / pandas 2, which would break this project's environment, so it runs in its own interpreter when
`--mst-python` points at one with `smartnoise-synth` installed.

Simulated data only (`ctdc.privacy.simulated`), never real cases.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EPSILON = 4.0
LENGTH = 3


def _load(path: str):
    import polars as pl

    return pl.read_parquet(path)


def step_aggregates(path: str, out: str, length: int, params: dict) -> dict:
    from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
    from ctdc.privacy.table import encode_table

    df = _load(path)
    t0 = time.perf_counter()
    table = encode_table(df)
    counts = count_combinations(table, length)
    published = protect_k_rounding(counts, k=11, resolution=10)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "combinations": counts.n_combinations(), "published": published.n_combinations()}


def _encode_public(df, params: dict):
    """Our tools encode with the public domain when the dataset has one (values outside it become blank)."""
    from ctdc.privacy.table import encode_table

    return encode_table(df, categories=params.get("categories"))


def step_sds_synthesis(path: str, out: str, length: int, params: dict) -> dict:
    """The previous DP synthesizer: SDS-style noisy combination counts, then the chain sampler."""
    from ctdc.privacy.budget import Budget
    from ctdc.privacy.dp import DPSettings, make_dp_aggregates
    from ctdc.privacy.synthesis import synthesize

    df = _load(path)
    t0 = time.perf_counter()
    table = _encode_public(df, params)
    agg = make_dp_aggregates(table, DPSettings(budget=Budget.dp(EPSILON, delta=params["delta"]), length=length))
    t_agg = time.perf_counter() - t0
    codes = synthesize(agg, seed=1)
    wall = time.perf_counter() - t0
    table.with_codes(codes).decode().write_parquet(out)
    p = agg.protection
    return {
        "wall_s": wall,
        "dp_aggregates_s": t_agg,
        "rows": int(codes.shape[0]),
        "epsilon_spent": p["epsilon_spent"],
        "delta": p["delta"],
        "candidates": p["candidates_by_length"],
        "released": {str(size): agg.n_combinations(size) for size in range(1, length + 1)},
    }


def step_dp_synthesis(path: str, out: str, length: int, params: dict) -> dict:
    """Ours: noisy marginals (blank a value) selected and fitted as a junction tree, rows sampled from it."""
    from ctdc.privacy.budget import Budget
    from ctdc.privacy.marginal_model import MarginalSettings, fit_marginal_model

    df = _load(path)
    t0 = time.perf_counter()
    table = _encode_public(df, params)
    budget = Budget.dp(EPSILON, delta=params["delta"])
    model = fit_marginal_model(table, MarginalSettings(budget=budget, length=length))
    t_fit = time.perf_counter() - t0
    codes = model.sample(seed=1)
    wall = time.perf_counter() - t0
    table.with_codes(codes).decode().write_parquet(out)
    p = model.protection
    return {
        "wall_s": wall,
        "fit_s": t_fit,
        "rows": int(codes.shape[0]),
        "epsilon_spent": p["epsilon_spent"],
        "delta": p["delta"],
        "cliques": p["model"]["cliques"],
    }


def step_k_synthesis(path: str, out: str, length: int, params: dict) -> dict:
    from ctdc.privacy.aggregates import count_combinations, protect_k_rounding
    from ctdc.privacy.synthesis import synthesize
    from ctdc.privacy.table import encode_table

    df = _load(path)
    t0 = time.perf_counter()
    table = encode_table(df)
    support = protect_k_rounding(count_combinations(table, length, min_count=11), k=11, resolution=1)
    codes = synthesize(support, n=table.n, seed=1, enforce_support=True)
    wall = time.perf_counter() - t0
    table.with_codes(codes).decode().write_parquet(out)
    return {"wall_s": wall, "rows": int(codes.shape[0])}


def step_pacsynth(path: str, out: str, length: int, params: dict) -> dict:
    import pacsynth
    import polars as pl

    df = _load(path)
    n = df.height
    pdf = df.to_pandas()
    t0 = time.perf_counter()
    # Every column may hold "0" as a real value (0/1 flags), so all are sensitive zeros (see stack notes).
    dataset = pacsynth.Dataset.from_data_frame(pdf, sensitive_zeros=list(pdf.columns))
    params = (
        pacsynth.DpAggregateSeededParametersBuilder()
        .reporting_length(length)
        .epsilon(EPSILON)
        .delta(params["delta"])
        .build()
    )
    synth = pacsynth.DpAggregateSeededSynthesizer(params)
    synth.fit(dataset)
    t_fit = time.perf_counter() - t0
    raw = synth.sample(n)  # without a target the row count is off (stack notes)
    wall = time.perf_counter() - t0
    header, rows = raw[0], raw[1:]
    syn = pl.DataFrame(rows, schema=header, orient="row").with_columns(pl.all().replace("", None))
    syn.select(df.columns).write_parquet(out)
    return {"wall_s": wall, "fit_s": t_fit, "rows": len(rows)}


def step_k_anonymization(path: str, out: str, length: int, params: dict) -> dict:
    from ctdc.privacy.hierarchy import Hierarchy, age_band_hierarchy, year_hierarchy
    from ctdc.privacy.kanon import make_k_anonymous, suppress_only
    from ctdc.privacy.simulated import COUNTRY_SUBREGION, SUBREGION_REGION

    df = _load(path)
    if "ageBroad" in df.columns:  # public CTDC layout
        band = {c.replace("-", "--"): v for c, v in age_band_hierarchy().levels[0].items()}
        qi = ["gender", "ageBroad", "citizenship", "CountryOfExploitation", "yearOfRegistration"]
        hs = [Hierarchy("ageBroad", [band]), year_hierarchy(2002, 2021, 5, "yearOfRegistration")]
        countries = ["citizenship", "CountryOfExploitation"]
    else:
        qi = ["gender", "age_band", "citizenship", "country_of_exploitation", "registration_year"]
        hs = [age_band_hierarchy("age_band"), year_hierarchy(2010, 2022, 5, "registration_year")]
        countries = ["citizenship", "country_of_exploitation"]
    hs += [
        Hierarchy(c, [COUNTRY_SUBREGION, SUBREGION_REGION], names=[c, "subregion", "region"])
        for c in countries
    ]
    t0 = time.perf_counter()
    res = make_k_anonymous(df, qi, k=11, hierarchies=hs)
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        **{k: v for k, v in res.as_dict().items() if k != "quasi_identifiers"},
        "suppression_only_records_retained": suppress_only(df, qi, k=11).height,
    }


STEPS = {
    "k_anonymization": (step_k_anonymization, 0),
    "aggregates_L3": (step_aggregates, 3),
    "aggregates_L4": (step_aggregates, 4),
    "dp_synthesis": (step_dp_synthesis, LENGTH),
    "sds_synthesis": (step_sds_synthesis, LENGTH),
    "k_synthesis": (step_k_synthesis, LENGTH),
    "pacsynth": (step_pacsynth, LENGTH),
}


def _child(name: str, path: str, out: str, params: dict, queue: mp.Queue) -> None:
    fn, length = STEPS[name]
    try:
        result = fn(path, out, length, params)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(result)
    except Exception as exc:  # report the failure as data; the benchmark goes on
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_step(name: str, path: str, out: str, params: dict) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, path, out, params, queue))
    proc.start()
    while True:  # a child killed by a signal or the OOM killer puts nothing: report that instead of hanging
        try:
            result = queue.get(timeout=1.0)
            break
        except Exception:
            if not proc.is_alive():
                return {"error": f"the step's process ended with exit code {proc.exitcode} and no result"}
    proc.join()
    return result


MST_SCRIPT = r"""
import json, math, resource, sys, time
import polars as pl
from snsynth import Synthesizer
src, out, delta = sys.argv[1], sys.argv[2], float(sys.argv[3])
df = pl.read_parquet(src)
n = df.height
pdf = df.fill_null("<missing>").to_pandas()
t0 = time.perf_counter()
synth = Synthesizer.create("mst", epsilon=4.0, delta=delta)
synth.fit(pdf, categorical_columns=list(pdf.columns), preprocessor_eps=0.0)
syn = synth.sample(n)
wall = time.perf_counter() - t0
res = pl.from_pandas(syn.astype(str)).with_columns(pl.all().replace("<missing>", None))
res.select(df.columns).write_parquet(out)
print(json.dumps({"wall_s": wall, "rows": len(syn),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_mst(python: str, path: str, out: str, delta: float) -> dict:
    proc = subprocess.run([python, "-c", MST_SCRIPT, path, out, repr(delta)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def accuracy(path: str, synthetic_path: str) -> dict[str, float]:
    """MAE in records over every cell of every 1..L-way table, blank a value (`blank_marginal_mae`).

    The domain scored is the input's values, a blank cell and an "outside" cell per column: values a tool
    invents (outside the input's values) are counted there, so the same cells are scored for every tool.
    """
    import numpy as np
    import polars as pl

    from ctdc.privacy.evaluate import blank_marginal_mae
    from ctdc.privacy.table import MISSING, encode_table

    original = _load(path)
    synthetic = pl.read_parquet(synthetic_path).select(pl.all().cast(pl.String))
    t = encode_table(original)
    categories = dict(zip(t.columns, t.categories, strict=True))
    s = encode_table(synthetic, categories=categories)
    present = synthetic.select(
        (pl.col(c).str.strip_chars().fill_null("") != "").alias(c) for c in t.columns
    ).to_numpy()
    codes = np.where((s.codes == MISSING) & present, -2, s.codes)
    mae = blank_marginal_mae(t.codes, codes, t.cardinalities, LENGTH)
    return {str(k): v for k, v in mae.items()}


def blank_patterns(path: str, synthetic_path: str) -> dict[str, list[float]] | None:
    """Missingness beyond three columns: the share of rows whose whole flag group is blank (not recorded),
    input then synthetic, for each flag group of the public CTDC layout of three flags or more."""
    import polars as pl

    from ctdc.privacy.simulated import _FLAG_GROUPS

    original, synthetic = _load(path), pl.read_parquet(synthetic_path)
    out = {}
    for group in _FLAG_GROUPS:
        if len(group) < 3 or not set(group) <= set(original.columns):
            continue
        def share(d: pl.DataFrame, group=group) -> float:
            return d.select(pl.all_horizontal(pl.col(c).is_null() for c in group).mean()).item()
        out[f"{group[0]}+{len(group) - 1}"] = [round(share(original), 4), round(share(synthetic), 4)]
    return out or None


def fixtures_table(n: int, seed: int):
    """The project simulator's cases (`ctdc.fixtures.population`) as a release would see them.

    Direct identifiers and exact age are dropped; each multi-coded column (`a;b`) becomes one 0/1 column per
    code, and the 16 most frequent codes are kept next to the 9 coded columns: 25 categorical columns.
    """
    import polars as pl

    from ctdc.fixtures.population import simulate_cases

    df = simulate_cases(n, seed=seed)
    drop = ["person_id", "first_name", "last_name", "birth_date", "registration_date", "full_name", "phone",
            "narrative", "age"]  # fmt: skip
    df = df.drop([c for c in drop if c in df.columns]).with_columns(pl.all().cast(pl.String))
    multi = ["exploitation_types", "labour_sectors", "sexual_exploitation_types", "means_of_control",
             "recruiter_relations"]  # fmt: skip
    flags = []
    for col in multi:
        codes = sorted({c for v in df.get_column(col).drop_nulls().to_list() for c in v.split(";") if c})
        for code in codes:
            flags.append(
                pl.when(pl.col(col).is_null())
                .then(None)
                .otherwise(pl.col(col).str.split(";").list.contains(code).cast(pl.Int8).cast(pl.String))
                .alias(f"{col}__{code}")
            )
    df = df.with_columns(flags).drop(multi)
    flag_cols = [c for c in df.columns if "__" in c]
    share = {c: (df.get_column(c) == "1").mean() for c in flag_cols}
    keep = sorted(flag_cols, key=lambda c: -share[c])[:16]
    return df.select([c for c in df.columns if "__" not in c] + keep)


# Steps whose result changes from run to run (DP noise, sampling): worth repeating to compare accuracy.
# pac-synth runs once: it takes 15 minutes at 20,000 rows here.
REPEATABLE = {"dp_synthesis", "sds_synthesis", "k_synthesis", "mst"}


def _mean_of(rs: list[dict]) -> dict:
    """One result standing for several runs: numbers averaged, the rest from the first run."""
    ok = [r for r in rs if "error" not in r]
    if not ok:
        return rs[0]
    out = dict(ok[0])
    for key in ("wall_s", "peak_rss_mb"):
        if key in out:
            out[key] = sum(r[key] for r in ok) / len(ok)
    if "marginal_mae" in out:
        out["marginal_mae"] = {k: sum(r["marginal_mae"][k] for r in ok) / len(ok) for k in out["marginal_mae"]}
    out["runs"] = len(ok)
    return out


def _dataset(name: str, rows: int):
    from ctdc.privacy.simulated import ctdc_public_categories, simulate_ctdc_public, simulate_victims

    if name == "victims":
        return simulate_victims(rows, seed=2026), None
    if name == "ctdc-public":
        df = simulate_ctdc_public(rows, 2026, flags="mixed")
        return df, ctdc_public_categories(df.columns)
    return fixtures_table(rows, seed=2026), None


def _print_table(results: dict[str, dict], runs: dict[str, list[dict]], repeat: int) -> None:
    print("\n| step | wall time (s) | peak RSS (MB) | MAE 1-way | MAE 2-way | MAE 3-way |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | error: {r['error']} | | | | |")
            continue
        mae = r.get("marginal_mae", {})
        cells = " | ".join(f"{mae[k]:.2f}" if k in mae else "" for k in ("1", "2", "3"))
        print(f"| {name} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | {cells} |")
    groups = [(name, r["all_blank_groups"]) for name, r in results.items() if r.get("all_blank_groups")]
    if groups:
        print("\nShare of rows with a whole flag group blank (input -> output; first run):")
        for name, g in groups:
            print(f"  {name}: " + ", ".join(f"{k} {a:.3f} -> {b:.3f}" for k, (a, b) in g.items()))
    if repeat > 1:
        print(f"\nMAE over {repeat} runs (mean, min-max):")
        for name, rs in runs.items():
            maes = [r["marginal_mae"] for r in rs if "marginal_mae" in r]
            if len(maes) > 1:
                spread = ", ".join(
                    f"{k}-way {sum(m[k] for m in maes) / len(maes):.2f} ({min(m[k] for m in maes):.2f}-"
                    f"{max(m[k] for m in maes):.2f})" for k in ("1", "2", "3"))
                print(f"  {name}: {spread}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="250000", help="One size or several, comma-separated (4000,20000).")
    parser.add_argument("--dataset", choices=["victims", "ctdc-public", "fixtures"], default="ctdc-public")
    parser.add_argument("--skip-pacsynth", action="store_true")
    parser.add_argument("--pacsynth-max-rows", type=int, default=20_000,
                        help="pac-synth runs only up to this size (at 250,000 rows it needs over 21 GB).")
    parser.add_argument("--mst-python", default=None)
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--json", dest="json_out", default=None, help="Also write the results here.")
    parser.add_argument("--repeat", type=int, default=1,
                        help="Run the synthesis steps (and MST) this many times; the table shows means, and the "
                             "spread of the MAE over the runs is printed below it. DP noise differs every run.")
    args = parser.parse_args()
    wanted = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(wanted) - set(STEPS))
    if unknown:  # MST is not a step: it runs whenever --mst-python is given
        parser.error(f"unknown steps {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    sizes = [int(r) for r in args.rows.split(",") if r]
    everything: dict[str, dict] = {}
    for rows in sizes:
        work = Path(tempfile.mkdtemp(prefix="ctdc-bench-"))
        src = str(work / "input.parquet")
        df, categories = _dataset(args.dataset, rows)
        df.write_parquet(src)
        n = df.height
        # One delta for every tool of the run: 1/(n ln n) of the simulated table's size (a benchmark parameter;
        # the peers derive theirs that way). Releases derive delta from a public bound (ctdc.privacy.budget).
        params = {"delta": 1.0 / (n * math.log(n)), "categories": categories}
        domain = "public code lists" if categories else "the data's values (treated as public)"
        print(
            f"\n# {args.dataset}: {n} rows x {df.width} columns; epsilon={EPSILON}, delta={params['delta']:.3g}"
            f" (1/(n ln n)), L={LENGTH}; our domain: {domain}; MAE in records, blank a value",
            flush=True,
        )
        print(f"# python {sys.version.split()[0]}, {mp.cpu_count()} cores", flush=True)
        results: dict[str, dict] = {}
        runs: dict[str, list[dict]] = {}

        def measure(name: str, run, src=src, work=work, results=results, runs=runs) -> None:
            times = args.repeat if name in REPEATABLE else 1
            for _ in range(times):
                out = str(work / f"{name}.parquet")
                r = run(out)
                if Path(out).exists():
                    r["marginal_mae"] = accuracy(src, out)
                    r["all_blank_groups"] = blank_patterns(src, out)
                    Path(out).unlink()
                print(f"{name:15s} {json.dumps(r)}", flush=True)
                runs.setdefault(name, []).append(r)
            results[name] = _mean_of(runs[name])

        for name in wanted:
            if name == "pacsynth" and (args.skip_pacsynth or n > args.pacsynth_max_rows):
                continue
            measure(name, lambda out, name=name, params=params, src=src: run_step(name, src, out, params))
        if args.mst_python:
            measure("mst", lambda out, src=src, params=params: run_mst(args.mst_python, src, out, params["delta"]))
        _print_table(results, runs, args.repeat)
        everything[str(n)] = {"mean": results, "runs": runs}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(everything, indent=2))


if __name__ == "__main__":
    main()
