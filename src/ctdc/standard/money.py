"""Amounts of money in one currency and year: US dollars of the base year (issue 17, item 5, recruitment fees).

The tables are data files shipped with the package, in `normalisation/` (made by `sources/build_money.py`):

    exchange_rates.csv  year,currency,usd_per_unit,fixing_days   ECB reference rates, annual means, 1999-2025
    deflator.csv        year,cpi_u,factor_to_<base>              BLS CPI-U annual averages, 1950 onwards
    sources.yml         producer, title, URL, data date, licence and method of each table, and the base year

An amount is converted as amount x usd_per_unit(currency, year) x factor(year). A currency the ECB did not quote
that year, or a year without an annual CPI average, is not convertible: `convert` says why and the caller reports
it (intake: `unconvertible-amount`), never a guessed rate and never a dropped row.

>>> convert(100, "USD", 2025)
Conversion(amount=100.0, reason=None)
>>> convert(100, "EUR", 2025).amount
113.0
>>> convert(100, "XOF", 2020).reason
'the ECB published no reference rate for XOF in 2020'
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

FOLDER = "normalisation"


@dataclass(frozen=True)
class Conversion:
    amount: float | None       # in base-year US dollars, rounded to the cent; None when not convertible
    reason: str | None = None  # why not, in words a data steward can act on


@cache
def sources() -> dict:
    """The tables' metadata (`normalisation/sources.yml`): base currency and year, each table's source."""
    text = resources.files("ctdc.standard").joinpath(FOLDER, "sources.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def base_year() -> int:
    return int(sources()["base_year"])


def base_label() -> str:
    """'USD of 2025': the unit every converted amount is in."""
    return f"{sources()['base_currency']} of {base_year()}"


def _rows(name: str) -> list[dict]:
    with resources.files("ctdc.standard").joinpath(FOLDER, name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def exchange_rates() -> dict[tuple[int, str], float]:
    """(year, ISO 4217 code) -> US dollars per unit, the year's mean of the ECB's daily reference rates."""
    return {(int(r["year"]), r["currency"]): float(r["usd_per_unit"]) for r in _rows("exchange_rates.csv")}


@cache
def deflator() -> dict[int, float]:
    """Year -> factor turning that year's US dollars into base-year US dollars (CPI-U ratio)."""
    column = f"factor_to_{base_year()}"
    return {int(r["year"]): float(r[column]) for r in _rows("deflator.csv")}


@cache
def convertible_pairs() -> frozenset[str]:
    """Every 'CUR YEAR' that `convert` accepts (US dollars in every year with a deflator), for vectorised checks.

    >>> "EUR 2020" in convertible_pairs(), "USD 1960" in convertible_pairs(), "XOF 2020" in convertible_pairs()
    (True, True, False)
    """
    years = deflator()
    pairs = {f"{c} {y}" for (y, c) in exchange_rates() if y in years}
    return frozenset(pairs | {f"USD {y}" for y in years})


def convert(amount: float, currency: str, year: int | None) -> Conversion:
    """`amount` of `currency` paid in `year`, in base-year US dollars, or the reason it cannot be converted.

    >>> convert(1000, "PHP", 2024).amount > 0, convert(5, "USD", None).reason
    (True, 'no year is given, so no exchange rate or deflator applies')
    """
    if year is None:
        return Conversion(None, "no year is given, so no exchange rate or deflator applies")
    currency = (currency or "").upper()
    factor = deflator().get(int(year))
    if factor is None:
        return Conversion(None, f"no annual US consumer price index for {year} (known: "
                                f"{min(deflator())}-{max(deflator())})")
    rate = 1.0 if currency == "USD" else exchange_rates().get((int(year), currency))
    if rate is None:
        return Conversion(None, f"the ECB published no reference rate for {currency} in {year}")
    return Conversion(round(amount * rate * factor, 2))
