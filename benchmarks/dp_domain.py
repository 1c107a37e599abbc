"""What public domains cost the DP aggregates: `make_dp_aggregates` at L = 3 with the domain read off the data
(the engine before issue 13) and with the public domain (the standard's code lists: 250 countries per country
column), on the same table.

Run:  python benchmarks/dp_domain.py [--rows 250000] [--table victims|release] [--length 3] [--repeat 2]

- `victims`: `simulate_victims` (25 columns). Its country columns get the ISO 3166-1 list; its other columns
  keep their observed values (they are not in the standard's vocabulary), so only the countries grow.
- `release`: the victims release table as `dp-synthetic` protects it (`simulate_cases`, multi-valued fields
  spread into flags, 61 columns), with `release_domain`: every code list of the standard, years 2000-2030.

Each configuration runs `--repeat` times in this process after one warm-up call (OpenDP's conversions and the
quantile scale are cached per process); wall time of `make_dp_aggregates` only. Simulated data only.
"""

from __future__ import annotations

import argparse
import time


def _tables(kind: str, rows: int):
    from ctdc.privacy.domain import ColumnDomain, Domain
    from ctdc.privacy.table import encode_table
    from ctdc.standard import load_standard

    std = load_standard()
    if kind == "victims":
        from ctdc.privacy.simulated import simulate_victims

        df = simulate_victims(rows, seed=1)
        observed = encode_table(df)
        cols = dict(zip(observed.columns, observed.domain.columns.values(), strict=True))
        for c in ("citizenship", "country_of_exploitation"):
            cols[c] = ColumnDomain(std.codelists["country"].codes, "code list 'country'")
        return observed, encode_table(df, domain=Domain(cols))
    from ctdc.fixtures.population import simulate_cases
    from ctdc.release.build import released_columns
    from ctdc.release.methods import MethodParams, as_text, release_domain, to_flags

    ds = std.dataset("victims")
    frame = simulate_cases(rows, seed=1)
    flags = to_flags(as_text(frame.select(released_columns(frame, ds))), ds)
    return encode_table(flags), encode_table(flags, domain=release_domain(flags.columns, ds, MethodParams()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=250_000)
    ap.add_argument("--table", choices=["victims", "release"], default="victims")
    ap.add_argument("--length", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from ctdc.privacy.budget import Budget
    from ctdc.privacy.dp import DPSettings, make_dp_aggregates

    observed, public = _tables(args.table, args.rows)
    settings = DPSettings(budget=Budget.dp(4.0), length=args.length)
    make_dp_aggregates(observed.with_codes(observed.codes[:1000]), settings)  # warm-up: caches, imports
    print(f"# {args.table}: {observed.n} rows x {observed.p} columns; epsilon 4, delta {settings.budget.delta:.3g},"
          f" L = {args.length}")
    print("| domain | domain values | candidates by length | released by length | wall time (s) |")
    print("|---|---:|---|---|---|")
    for name, table in (("observed (before issue 13)", observed), ("public (standard)", public)):
        times, agg = [], None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            agg = make_dp_aggregates(table, settings)
            times.append(time.perf_counter() - t0)
        cands = agg.protection["candidates_by_length"]
        released = {str(s): agg.n_combinations(s) for s in range(1, args.length + 1)}
        print(f"| {name} | {int(table.cardinalities.sum())} | {cands} | {released} |"
              f" {', '.join(f'{t:.1f}' for t in times)} |")


if __name__ == "__main__":
    main()
