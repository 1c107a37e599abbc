"""Protected fee statistics per corridor and sector (issue 17, item 5): one victim is one row, cells below k never
appear, DP quartiles come from OpenDP and the spend is what the budget allows."""

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.budget import Budget
from ctdc.release.fees import CAP, fee_statistics, victim_fee_table


def _fees(n_victims: int, corridor=("PH", "SA"), fees_each: int = 3, amount: float = 500.0) -> pl.DataFrame:
    rows = [{"victim_id": f"v{i}", "fee_id": f"{i}-{j}", "amount": amount * (1 + i % 7), "currency": "USD",
             "fee_year": 2025, "origin_country": corridor[0], "destination_country": corridor[1]}
            for i in range(n_victims) for j in range(fees_each)]
    return pl.DataFrame(rows)


def test_a_victim_with_many_fees_is_one_row_with_their_total_clamped_at_the_cap():
    fees = pl.concat([_fees(1, fees_each=50, amount=1000.0), _fees(1, corridor=("IN", "AE"), fees_each=1)
                      .with_columns(pl.lit("v9").alias("victim_id"))])
    table = victim_fee_table(fees, pl.DataFrame({"victim_id": ["v0"], "labour_sectors": ["construction"]}))
    assert table.height == table["victim_id"].n_unique() == 2
    assert table.filter(pl.col("victim_id") == "v0")["total_usd"].item() == 50_000.0
    stats = fee_statistics(table.with_columns(pl.lit("x").alias("sector")), method="threshold", k=2)
    assert stats["groupings"]["corridor"] == []  # one victim per corridor: below k


def test_threshold_cells_have_at_least_k_victims_and_quartiles_only_with_k_amounts():
    fees = pl.concat([_fees(12), _fees(3, corridor=("NP", "QA")).with_columns(
        pl.concat_str([pl.lit("n"), pl.col("victim_id")]).alias("victim_id"))])
    table = victim_fee_table(fees, pl.DataFrame({"victim_id": [], "labour_sectors": []},
                                                schema={"victim_id": pl.String, "labour_sectors": pl.String}))
    stats = fee_statistics(table, method="threshold", k=5)
    cells = stats["groupings"]["corridor"]
    assert [(c["origin"], c["destination"], c["victims"]) for c in cells] == [("PH", "SA", 12)]
    assert cells[0]["p25"] <= cells[0]["median"] <= cells[0]["p75"] <= CAP
    assert stats["unit"] == "USD of 2025" and stats["spent"] is None


def test_dp_statistics_spend_the_budget_given_and_hide_a_corridor_of_one_victim():
    budget = Budget.dp(2.0, 1e-6)
    fees = pl.concat([_fees(400), _fees(1, corridor=("NP", "QA")).with_columns(pl.lit("lone").alias("victim_id"))])
    table = victim_fee_table(fees, pl.DataFrame({"victim_id": ["lone"], "labour_sectors": ["agriculture"]}))
    stats = fee_statistics(table, method="dp", k=5, budget=budget)
    corridors = {(c["origin"], c["destination"]): c for c in stats["groupings"]["corridor"]}
    assert ("NP", "QA") not in corridors  # a single victim never crosses the bar (probability <= delta)
    big = corridors[("PH", "SA")]
    assert abs(big["victims"] - 400) < 60
    # Totals are 1500 x (1..7): the DP median lands near the true 6000 on the 100-dollar grid.
    assert 3000 <= big["median"] <= 9000 and big["p25"] <= big["median"] <= big["p75"]
    spent = stats["spent"]
    assert spent.rho == budget.rho and spent.epsilon <= budget.epsilon + 1e-9 and spent.delta == 2 * budget.delta


def test_dp_states_no_quartiles_for_a_corridor_whose_victims_have_no_convertible_total():
    """300 victims who paid in a currency the shipped rates do not quote: the corridor is published (its count is
    well above the bar), its quartiles are not (the private quantile of nothing would still print a median)."""
    unquoted = _fees(300, corridor=("NG", "IT")).with_columns(pl.lit("XOF").alias("currency"),
                                                              ("w" + pl.col("victim_id")).alias("victim_id"))
    table = victim_fee_table(pl.concat([_fees(300), unquoted]),
                             pl.DataFrame({"victim_id": ["v0"], "labour_sectors": ["agriculture"]}))
    assert table.filter(pl.col("origin") == "NG")["total_usd"].null_count() == 300
    # epsilon 50: the count's noise sd is 0.46, so the empty corridor's count of totals (0) reaching k = 5 is a
    # 10-sigma event, and the test never depends on chance.
    stats = fee_statistics(table, method="dp", k=5, budget=Budget.dp(50.0, 1e-6))
    corridors = {(c["origin"], c["destination"]): c for c in stats["groupings"]["corridor"]}
    assert abs(corridors[("NG", "IT")]["victims"] - 300) < 30
    assert (corridors[("NG", "IT")]["p25"], corridors[("NG", "IT")]["median"], corridors[("NG", "IT")]["p75"]) == \
        (None, None, None)
    assert corridors[("PH", "SA")]["median"] is not None


def test_dp_needs_a_dp_budget_and_k_must_protect_someone():
    table = victim_fee_table(_fees(3), pl.DataFrame(schema={"victim_id": pl.String, "labour_sectors": pl.String}))
    with pytest.raises(InvalidPrivacyParameter):
        fee_statistics(table, method="dp", k=5)
    with pytest.raises(InvalidPrivacyParameter):
        fee_statistics(table, method="threshold", k=1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.floats(0, 1e6), st.sampled_from(["USD", "EUR", "XOF"]),
                          st.integers(1990, 2026), st.sampled_from(["PH", "NP"]), st.sampled_from(["SA", "QA"])),
                min_size=1, max_size=40))
def test_whatever_the_fees_each_victim_is_one_row_in_one_cell_of_each_grouping(fees):
    frame = pl.DataFrame([{"victim_id": f"v{v}", "fee_id": f"f{i}", "amount": a, "currency": c, "fee_year": y,
                           "origin_country": o, "destination_country": d}
                          for i, (v, a, c, y, o, d) in enumerate(fees)])
    table = victim_fee_table(frame, pl.DataFrame(schema={"victim_id": pl.String, "labour_sectors": pl.String}))
    assert table.height == table["victim_id"].n_unique() == frame["victim_id"].n_unique()
    # The contribution bound: at most one count in each grouping moves when a victim is added or removed.
    stats = fee_statistics(table, method="threshold", k=2)
    for cells in stats["groupings"].values():
        assert sum(c["victims"] for c in cells) <= table.height
