"""Benchmark: end-to-end release builds (protect, check, package, fsync, rename) of every dataset for many victims.

    .venv/bin/python benchmarks/release.py [--cases 250000] [--method dp-synthetic] [--datasets all]

The input is the simulator's population (`ctdc.fixtures.population.simulate_cases`) with its direct identifiers
dropped, i.e. what the central repository's snapshot holds, and the same victims' perpetrators, links and journey
events and fees (`ctdc.fixtures.linked`: about 1.5 links and 2.5 events per victim), turned into the release tables the
repository's snapshot gives (`ctdc.web.releases.selectors`: the link table with the perpetrators' attributes and
the victim's region of exploitation; one route per victim, `ctdc.release.routes`; one total of fees per victim,
`ctdc.release.fees`). The government-response
figures of the same victims are read through the intake pipeline (preset unodc-glotip) and released as published.
The database SELECTs and the input preparation are not timed. Prints, per dataset, the time (wall and CPU: the
machine is shared, and the CPU seconds say what the work costs whatever else runs) of each stage, the
release's rows and checks, then the total time of all releases and the process's peak RSS. Recorded in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from ctdc.fixtures.linked import simulate_linked
from ctdc.fixtures.population import simulate_cases
from ctdc.ingest.derive import age_band
from ctdc.release.build import build_release, verify_release
from ctdc.release.fees import build_fee_release, victim_fee_table
from ctdc.release.methods import METHODS, MethodParams
from ctdc.release.routes import routes_from_events
from ctdc.standard import load_standard

IDENTIFIERS = ("person_id", "first_name", "last_name", "full_name", "birth_date", "registration_date", "phone",
               "narrative")
DATASETS = ("victims", "perpetrators", "journey_events", "recruitment_fees", "government_response")


def _regions(countries: pl.Series) -> pl.Series:
    from ctdc.ingest.stages.derive import citizenship_regions as regions

    return regions(countries)


def _role_groups(roles: pl.Series) -> pl.Series:
    """Each `;`-joined role list's CTDC role groups, as intake derives them (code list attribute `ctdc_group`)."""
    std = load_standard()
    src, dst = std.codelist("perpetrator_role"), std.codelist("perpetrator_role_group")
    rank = {c: i for i, c in enumerate(dst.codes)}
    table = {}
    for value in roles.drop_nulls().unique().to_list():
        groups = {src.entry(c).extra.get("ctdc_group") for c in value.split(";") if c in src}
        table[value] = ";".join(sorted((g for g in groups if g in rank), key=rank.__getitem__)) or None
    return roles.replace_strict(table, default=None, return_dtype=pl.String)


def inputs(cases: int, seed: int) -> dict[str, pl.DataFrame]:
    """The release table of each dataset, as the repository's snapshot would give it."""
    people = simulate_cases(cases, seed)
    keys = people["person_id"].cast(pl.String)
    linked = simulate_linked(people, keys, seed=seed)
    victims = people.drop(*IDENTIFIERS)
    perps = linked["perpetrators"]
    perps = perps.with_columns(
        age_band(pl.col("age"), codelist="perpetrator_age_band").alias("perpetrator_age_band"),
        _regions(perps["citizenship"]).alias("citizenship_region"),
        _role_groups(perps["roles"]).alias("role_groups"))
    exploited = people.select(keys.alias("victim_id"),
                              _regions(people["country_of_exploitation"]).alias("exploitation_region"))
    links = (linked["links"].join(perps, on="perpetrator_id", how="left", suffix="_perpetrator")
             .join(exploited, on="victim_id", how="left")
             .select("victim_id", "perpetrator_id", "gender", "perpetrator_age_band", "citizenship_region",
                     "role_groups", pl.coalesce("relation_to_victim", "relation_to_victim_perpetrator")
                     .alias("relation_to_victim"), "victim_paid_perpetrator", "exploitation_region"))
    routes = routes_from_events(linked["journeys"],
                                people.select(keys.alias("victim_id"), "exploitation_types"))
    fees = victim_fee_table(linked["fees"], people.select(keys.alias("victim_id"), "labour_sectors"))
    return {"victims": victims, "perpetrators": links, "journey_events": routes, "recruitment_fees": fees,
            "government_response": _figures(people, seed),
            "_counts": pl.DataFrame({"links": [linked["links"].height], "events": [linked["journeys"].height],
                                     "fees": [linked["fees"].height],
                                     "perpetrators": [perps.height]})}


def _figures(people: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The simulated authorities' GLOTIP figures of these victims, through the intake pipeline."""
    from ctdc.fixtures.glotip import csv_text
    from ctdc.fixtures.government import government_response_rows
    from ctdc.ingest.mapping import load_preset
    from ctdc.ingest.pipeline import ingest_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "government-response.csv"
        path.write_text(csv_text(government_response_rows(people, seed)), encoding="utf-8")
        result = ingest_file(path, load_preset("unodc-glotip"), identity_key=b"benchmark-key-32-bytes-long....",
                             organisation="bench")
    stored = [f.name for f in load_standard().dataset("government_response").stored_fields]
    return result.records.select([c for c in stored if c in result.records.columns])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=250_000)
    parser.add_argument("--method", choices=sorted(METHODS), default="dp-synthetic")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default="all",
                        help=f"comma-separated, of {', '.join(DATASETS)}; 'all' (default) for every one")
    args = parser.parse_args()
    load = os.getloadavg()
    wanted = DATASETS if args.datasets == "all" else tuple(args.datasets.split(","))
    t_in = time.perf_counter()
    tables = inputs(args.cases, args.seed)
    counts = tables.pop("_counts").row(0, named=True)
    print(f"peak RSS after preparing the input: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"input: {args.cases:,} victims, {counts['links']:,} links ({counts['links'] / args.cases:.2f} per "
          f"victim) to {counts['perpetrators']:,} perpetrators, {counts['events']:,} journey events "
          f"({counts['events'] / args.cases:.2f} per victim), {counts['fees']:,} fees of "
          f"{tables['recruitment_fees'].height:,} victims, {tables['government_response'].height:,} government "
          f"figures; prepared in {time.perf_counter() - t_in:.1f} s (not timed below)")
    total = total_cpu = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in wanted:
            frame = tables[dataset]
            stages: list[tuple[float, int, str]] = []
            t0, cpu0 = time.perf_counter(), time.process_time()

            def progress(pct: int, msg: str, t0: float = t0, stages: list = stages) -> None:
                stages.append((time.perf_counter() - t0, pct, msg))

            if dataset == "government_response":
                from ctdc.release.published import build_published_release

                built = build_published_release(frame, root=Path(tmp), dataset=dataset, version="2026.12.1",
                                                progress=progress)
                method = "as-published"
            elif dataset == "recruitment_fees":  # statistics per corridor and sector, one row per victim
                built = build_fee_release(frame, root=Path(tmp), version="2026.12.1", method=args.method,
                                          params=MethodParams(seed=args.seed), progress=progress)
                method = args.method
            else:
                built = build_release(frame, root=Path(tmp), dataset=dataset, version="2026.12.1",
                                      method=args.method, params=MethodParams(seed=args.seed), progress=progress)
                method = args.method
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            total += seconds
            total_cpu += cpu
            size = sum(p.stat().st_size for p in built.path.iterdir())
            problems = verify_release(built.path)
            print(f"\n{dataset} ({method}): {frame.height:,} input rows -> {built.metadata['records']:,} rows in "
                  f"{seconds:.1f} s ({cpu:.1f} CPU s), package {size / 1e6:.1f} MB, verify: {problems or 'intact'}")
            previous = 0.0
            for at, pct, msg in stages:
                print(f"  {at:7.1f} s (+{at - previous:6.1f}) {pct:3d}% {msg}")
                previous = at
            # A check that does not block (the k-based ones on DP rows, whose guarantee is the DP one) is shown
            # as `not met (informational)`.
            print("  checks: " + (", ".join(f"{c.id}={'pass' if c.passed else 'BLOCKS' if c.blocks else 'not met (informational)'}"
                                            for c in built.checks) or "none (statistics or published aggregates)")
                  + f"; publishable: {built.checks_passed}")
            print(f"  peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
            del built, frame
            tables.pop(dataset)
            gc.collect()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nall releases: {total:.1f} s ({total_cpu:.1f} CPU s on {os.cpu_count()} cores; load average before: "
          f"{load[0]:.1f}), peak RSS {peak_mb:,.0f} MB (whole process, input preparation included)")


if __name__ == "__main__":
    main()
