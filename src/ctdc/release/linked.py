"""Releases of linked tables: perpetrators through their links to victims, and journeys as one route per victim,
protected at the victim level.

NOTE: pure Python on polars; never import Django here (tests/test_core_is_pure.py enforces it).

The release table of `perpetrators` has one row per (victim, perpetrator) link: the perpetrator's attributes, the
link's, and the region where the victim was exploited. The privacy unit is **one victim with all their links**:
neighbouring repositories differ by one victim, every link of theirs included. Every release method of
`ctdc.release.methods` protects one *row*, so a victim with many links would weigh more than one. Hence:

1. **Contribution bound** (public, `DEFAULT_BOUND` = 3, documented in docs/privacy.md): each victim contributes at
   most B link rows (`bound_links`). Which B is a function of that victim's own links only (smallest random
   perpetrator key first), so adding or removing a victim changes that victim's rows and no other.
2. **DP** (`dp-synthetic`): a mechanism that is rho-zCDP for one row is (B^2 rho)-zCDP for B rows (group privacy
   of zCDP, Bun and Steinke 2016, Prop. 27). The engine runs at rho / B^2, and the ledger is charged the
   victim-level cost B^2 x the rho the engine spent, in the ledger of the victims (`LEDGER_DATASET`): the same
   people as every victims release, so their losses add up in one place.
3. **k-based methods** (`k-anonymity`, `k-synthetic`): each class (combination) must hold at least k *victims*;
   with at most B rows per victim, at least k x B rows guarantee it. The methods run at k x B.

The report says all of it (`guarantee.linked`), and the release checks run at k x B as well.

`journey_events` is released the same way with B = 1: its release table (`ctdc.release.routes`) has one route
per victim (origin, first transit and destination country, the journey's duration band, period, exploitation
types), so a victim is one row and the victims' ledger is charged what the engine spent.

>>> frame = pl.DataFrame({"victim_id": ["a", "a", "a", "a", "b"], "perpetrator_id": ["4", "2", "3", "1", "9"]})
>>> bound_links(frame, bound=3).sort("victim_id", "perpetrator_id")["perpetrator_id"].to_list()
['1', '2', '3', '9']
>>> p = row_params(MethodParams(k=5, budget=Budget.dp(4.0)), bound=3)
>>> p.k, round(p.budget.rho * 9, 6) == round(Budget.dp(4.0).rho, 6), p.ledger is None
(15, True, True)
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import polars as pl

from ctdc.errors import InvalidPrivacyParameter
from ctdc.privacy.accounting import epsilon_of
from ctdc.privacy.budget import Budget
from ctdc.release.methods import MethodParams, MethodResult, get_method
from ctdc.standard import Dataset, load_standard

DEFAULT_BOUND = 3  # links one victim contributes at most (public: part of every linked release's report)
LEDGER_DATASET = "victims"  # the privacy unit is a victim: linked releases spend the victims' budget
LINKED_DATASETS = ("perpetrators", "journey_events")
# Rows one victim contributes at most, by linked dataset (public): a route is one row per victim.
BOUNDS = {"perpetrators": DEFAULT_BOUND, "journey_events": 1}
# Random key that chooses which of a victim's rows are kept (`bound_links`), by linked dataset.
ORDER = {"perpetrators": "perpetrator_id", "journey_events": "victim_id"}
# Release column -> (dataset, field) of the standard it is drawn from.
COLUMNS = {
    "gender": ("perpetrators", "gender"),
    "perpetrator_age_band": ("perpetrators", "age_band"),
    "citizenship_region": ("perpetrators", "citizenship_region"),
    "role_groups": ("perpetrators", "role_groups"),
    "relation_to_victim": ("victim_perpetrator_links", "relation_to_victim"),
    "victim_paid_perpetrator": ("victim_perpetrator_links", "victim_paid_perpetrator"),
    "exploitation_region": ("victims", "exploitation_region"),
}


def is_linked(dataset: str) -> bool:
    """True for a dataset released through its links to victims (privacy unit: one victim)."""
    return dataset in LINKED_DATASETS


def release_dataset(bound: int = DEFAULT_BOUND, dataset: str = "perpetrators") -> Dataset:
    """The release table's columns as a `Dataset` of the standard's own fields (code lists, roles, labels)."""
    if dataset == "journey_events":
        from ctdc.release.routes import route_dataset

        return route_dataset()
    std = load_standard()
    fields = tuple(replace(std.dataset(ds).field(name), name=column) for column, (ds, name) in COLUMNS.items())
    base = std.dataset("perpetrators")
    return dataclasses.replace(
        base, fields=fields,
        description="One row per link between a victim and a perpetrator: the perpetrator's gender, age band, "
                    "region of citizenship and roles, how the victim knew them, whether the victim paid them, and "
                    "where the victim was exploited.",
        privacy_unit=f"one victim with all their links (at most {bound} link rows)")


def bound_links(frame: pl.DataFrame, *, bound: int = DEFAULT_BOUND, victim: str = "victim_id",
                order: str = "perpetrator_id") -> pl.DataFrame:
    """At most `bound` rows per `victim`: those with the smallest `order` (a random key), so the choice depends
    on that victim's own links only. Row order of the result follows the victims' keys."""
    if bound < 1:
        raise InvalidPrivacyParameter("The contribution bound must be at least 1 link per victim.",
                                      {"bound": bound})
    return frame.sort(victim, order).group_by(victim, maintain_order=True).head(bound)


def row_params(params: MethodParams, *, bound: int) -> MethodParams:
    """Row-level parameters that give the victim-level guarantee: k x B, rho / B^2, no ledger (the caller
    charges the victim-level cost, `victim_budget`)."""
    b = params.budget
    rho = None if b.rho is None else b.rho / bound**2
    row_budget = Budget(epsilon=b.epsilon if rho is None else epsilon_of(rho, b.delta), delta=b.delta, rho=rho,
                        delta_rule=b.delta_rule)
    return replace(params, k=params.k * bound, budget=row_budget, ledger=None)


def victim_budget(row_rho_spent: float, delta: float, *, bound: int) -> Budget:
    """What a row-level run that spent `row_rho_spent` costs one victim contributing at most `bound` rows."""
    rho = row_rho_spent * bound**2
    return Budget(epsilon=epsilon_of(rho, delta), delta=delta, rho=rho)


def run_linked(method: str, table: pl.DataFrame, params: MethodParams, ds: Dataset, *,
               bound: int = DEFAULT_BOUND) -> MethodResult:
    """Run release `method` on a link table already bounded to `bound` rows per victim (`bound_links`; the
    victim key dropped), with the victim-level guarantee of the module docstring. With `params.ledger`, a DP
    run is charged to `LEDGER_DATASET` at the victim-level cost before anything is returned."""
    inner = row_params(params, bound=bound)
    result = get_method(method)(table, inner, ds)
    linked = {"privacy_unit": ds.privacy_unit, "contribution_bound": bound,
              "k_victims": params.k, "k_rows": inner.k}
    steward = dict(result.steward_report)
    if inner.budget.rho is not None and method == "dp-synthetic":
        protection = result.report["guarantee"]
        spent = victim_budget(float(protection["rho_spent"]), params.budget.delta, bound=bound)
        linked.update(rho_per_row=inner.budget.rho, rho_spent_per_victim=spent.rho,
                      epsilon_spent_per_victim=spent.epsilon,
                      sensitivity="one victim changes at most B rows: group privacy, rho x B^2")
        if params.ledger is not None:
            entry = params.ledger.charge(dataset=LEDGER_DATASET, purpose=params.purpose, budget=spent)
            steward["ledger_entry"] = dataclasses.asdict(entry)
    report = dict(result.report)
    report["guarantee"] = {**report["guarantee"], "privacy_unit": ds.privacy_unit, "linked": linked}
    return MethodResult(result.microdata, result.aggregates, report, steward)
