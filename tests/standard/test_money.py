"""Recruitment fees become US dollars of the base year with the shipped ECB rates and BLS deflator (issue 17,
item 5); an amount that cannot be converted says why and is never given a guessed rate."""

import pytest

from ctdc.standard import money


def test_the_base_year_has_a_deflator_of_one_and_a_rate_for_every_currency_the_ecb_quoted_that_year():
    base = money.base_year()
    assert money.deflator()[base] == 1.0
    assert {c for (y, c) in money.exchange_rates() if y == base} >= {"EUR", "GBP", "INR", "PHP", "THB"}
    assert money.base_label() == f"USD of {base}"


def test_a_euro_amount_of_an_earlier_year_is_converted_at_that_years_rate_and_deflated():
    rate = money.exchange_rates()[(2015, "EUR")]
    factor = money.deflator()[2015]
    assert 1.0 < rate < 1.2 and factor > 1.2  # the euro averaged about 1.11 USD; prices rose by a third since
    assert money.convert(1000, "eur", 2015).amount == round(1000 * rate * factor, 2)


def test_us_dollars_before_the_ecb_series_are_only_deflated():
    assert money.convert(100, "USD", 1990).amount == round(100 * money.deflator()[1990], 2)


@pytest.mark.parametrize(("currency", "year", "why"), [
    ("XOF", 2020, "no reference rate for XOF in 2020"),       # a currency the ECB does not quote
    ("EUR", 1995, "no reference rate for EUR in 1995"),       # before the ECB series
    ("CYP", 2010, "no reference rate for CYP in 2010"),       # after it was replaced by the euro
    ("USD", 2026, "no annual US consumer price index for 2026"),  # the year is not over
    ("EUR", None, "no year is given"),
])
def test_an_amount_that_cannot_be_converted_gives_the_reason_and_no_amount(currency, year, why):
    result = money.convert(100, currency, year)
    assert result.amount is None and why in result.reason


def test_the_sources_state_producer_date_and_licence_of_each_table():
    meta = money.sources()
    for table in ("exchange_rates", "deflator"):
        assert {"producer", "title", "url", "data_date", "licence", "file"} <= set(meta[table])
