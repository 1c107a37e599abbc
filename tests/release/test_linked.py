"""Linked releases (perpetrators through their links to victims, routes from journey events): the victim-level
contribution bound holds in every release method (issue 17, items 3 and 4). Property tests over generated
repositories of victims with 0 to 8 links or 0 to 5 journey events each; Hypothesis runs derandomized, so the
examples are the same on every run."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdc.errors import KAnonymityNotMet
from ctdc.privacy.budget import Budget
from ctdc.privacy.ledger import PrivacyLedger
from ctdc.release.build import build_release
from ctdc.release.linked import LEDGER_DATASET, bound_links, release_dataset
from ctdc.release.methods import FLAG_SEP, METHODS, MethodParams
from ctdc.standard import load_standard

BOUND = 2
K = 2
STD = load_standard()
CODES = {
    "gender": ["female", "male"],
    "perpetrator_age_band": list(STD.codelist("perpetrator_age_band").codes),
    "citizenship_region": list(STD.codelist("ctdc_region").codes),
    "exploitation_region": ["europe", "asia"],
    "role_groups": ["exploiter", "recruiter_broker", "exploiter;transaction_process"],
    "relation_to_victim": ["family", "friend", "intimate_partner;other"],
    "victim_paid_perpetrator": [True, False, None],
}


@st.composite
def repositories(draw) -> pl.DataFrame:
    """A link table as the release snapshot gives it: victim key, random perpetrator key, released columns."""
    rows = []
    n = draw(st.integers(min_value=8, max_value=40))
    for v in range(n):
        links = draw(st.integers(min_value=1 if v == 0 else 0, max_value=8))
        for _ in range(links):
            row = {"victim_id": f"v{v:03d}", "perpetrator_id": draw(st.text("0123456789abcdef", min_size=8,
                                                                           max_size=8))}
            for column, values in CODES.items():
                row[column] = draw(st.sampled_from([*values, None] if column != "victim_paid_perpetrator"
                                                   else values))
            rows.append(row)
    schema = {"victim_id": pl.String, "perpetrator_id": pl.String, **{c: pl.String for c in CODES},
              "victim_paid_perpetrator": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row")


PROPERTY = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(repositories())
def test_no_victim_contributes_more_than_the_bound_and_the_choice_depends_on_that_victim_alone(frame):
    bounded = bound_links(frame, bound=BOUND)
    assert (bounded.group_by("victim_id").len()["len"] <= BOUND).all()
    # Neighbours: removing one victim removes exactly that victim's rows and changes no other victim's.
    for victim in frame["victim_id"].unique().sort().head(3).to_list():
        without = bound_links(frame.filter(pl.col("victim_id") != victim), bound=BOUND)
        assert without.sort(pl.all()).equals(bounded.filter(pl.col("victim_id") != victim).sort(pl.all()))


def _victims_holding(bounded: pl.DataFrame, column: str, value: str) -> int:
    """Distinct victims of the (bounded) input with `value` in `column` (one code of a multi-valued column)."""
    text = bounded[column].cast(pl.String)
    return bounded.filter(text.str.split(";").list.contains(value).fill_null(False))["victim_id"].n_unique()


def _one_way(micro: pl.DataFrame, ds) -> set[tuple[str, str]]:
    out = set()
    for column in micro.columns:
        multi = ds.field(column).type == "codes"
        for value in micro[column].drop_nulls().unique().to_list():
            for part in (value.split(";") if multi else [value]):
                if part != "*":
                    out.add((column, part))
    return out


def _build(frame: pl.DataFrame, method: str, tmp: Path, ledger=None):
    params = MethodParams(k=K, budget=Budget.dp(4.0), length=2, seed=3, ledger=ledger, purpose="test")
    return build_release(frame, root=tmp, dataset="perpetrators", version="2026.12.1", method=method,
                         params=params, bound=BOUND)


@pytest.mark.parametrize("method", sorted(METHODS))
@PROPERTY
@given(frame=repositories())
def test_every_release_method_protects_one_victim_with_all_their_links(tmp_path_factory, method, frame):
    tmp = tmp_path_factory.mktemp(method)
    ledger = PrivacyLedger(total=Budget(50.0, 1e-3))
    try:
        built = _build(frame, method, tmp, ledger=ledger)
    except KAnonymityNotMet:
        # Too few links for k victims per class even with everything suppressed: refused, nothing written.
        assert method == "k-anonymity" and not (tmp / "perpetrators" / "2026.12.1").exists()
        return
    ds = release_dataset(BOUND)
    bounded = bound_links(frame, bound=BOUND)
    micro = pl.read_parquet(built.path / "microdata.parquet")
    report = json.loads((built.path / "report.json").read_text())
    linked = report["engine"]["guarantee"]["linked"]
    assert (linked["contribution_bound"], linked["k_victims"], linked["k_rows"]) == (BOUND, K, K * BOUND)
    assert built.metadata["params"]["contribution_bound"] == BOUND
    assert built.metadata["privacy_unit"] == f"one victim with all their links (at most {BOUND} link rows)"
    if method == "k-anonymity":
        # Real rows (generalized): each class of the quasi-identifiers holds >= k x B rows of an input where a victim
        # has at most B, so >= k victims.
        qi = [c for c in ds.quasi_identifiers if c in micro.columns]
        if micro.height:
            assert micro.group_by(qi).len()["len"].min() >= K * BOUND
        assert micro.height <= bounded.height
    elif method == "k-synthetic":
        # Every value a synthetic row shows is held by at least k victims of the input.
        for column, value in _one_way(micro, ds):
            assert _victims_holding(bounded, column, value) >= K, (column, value)
    else:
        # The sensitivity accounts for B rows per victim: the engine ran at rho / B^2 and the ledger was charged
        # B^2 x what it spent, to the victims' budget, never more than the release's budget.
        guarantee = report["engine"]["guarantee"]
        assert guarantee["rho"] == pytest.approx(Budget.dp(4.0).rho / BOUND**2)
        assert linked["rho_spent_per_victim"] == pytest.approx(guarantee["rho_spent"] * BOUND**2)
        assert linked["rho_spent_per_victim"] <= Budget.dp(4.0).rho * (1 + 1e-9)
        [entry] = ledger.store.entries()
        assert entry.dataset == LEDGER_DATASET and entry.rho == pytest.approx(linked["rho_spent_per_victim"])
    # Nothing in the folder names a victim or a perpetrator key.
    text = (built.path / "microdata.csv").read_text()
    assert "victim_id" not in text and "perpetrator_id" not in text
    assert not any(FLAG_SEP in c for c in micro.columns)
    assert set(micro.columns) <= set(ds.field_names)


COUNTRIES = ["NG", "NE", "IT", "UA", "PL", None]


@st.composite
def journeys(draw) -> pl.DataFrame:
    """Journey events as the repository holds them: 0 to 5 events per victim, in any order, some without a country
    or a month."""
    rows = []
    for v in range(draw(st.integers(min_value=8, max_value=30))):
        for seq in range(draw(st.integers(min_value=1 if v == 0 else 0, max_value=5))):
            rows.append({"victim_id": f"v{v:03d}", "sequence": seq + 1,
                         "event_type": draw(st.sampled_from(["recruitment", "transit", "exploitation"])),
                         "country": draw(st.sampled_from(COUNTRIES)),
                         "event_year": draw(st.integers(min_value=2015, max_value=2024)),
                         "event_month": draw(st.sampled_from([None, 1, 6, 12]))})
    schema = {"victim_id": pl.String, "sequence": pl.Int64, "event_type": pl.String, "country": pl.String,
              "event_year": pl.Int64, "event_month": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


@PROPERTY
@given(journeys())
def test_a_victim_has_at_most_one_route_and_it_depends_on_their_own_events_alone(events):
    from ctdc.release.routes import routes_from_events

    routes = routes_from_events(events)
    assert routes["victim_id"].is_unique().all()
    assert set(routes["victim_id"]) <= set(events["victim_id"])
    for victim in events["victim_id"].unique().sort().head(3).to_list():
        without = routes_from_events(events.filter(pl.col("victim_id") != victim))
        assert without.equals(routes.filter(pl.col("victim_id") != victim))


@pytest.mark.parametrize("method", sorted(METHODS))
@PROPERTY
@given(events=journeys())
def test_every_release_method_protects_one_victim_with_their_whole_journey(tmp_path_factory, method, events):
    from ctdc.release.routes import routes_from_events

    tmp = tmp_path_factory.mktemp(method)
    ledger = PrivacyLedger(total=Budget(50.0, 1e-3))
    routes = routes_from_events(events)
    params = MethodParams(k=K, budget=Budget.dp(4.0), length=2, seed=3, ledger=ledger, purpose="test")
    try:
        built = build_release(routes, root=tmp, dataset="journey_events", version="2026.12.1", method=method,
                              params=params)
    except KAnonymityNotMet:
        assert method == "k-anonymity" and not (tmp / "journey_events" / "2026.12.1").exists()
        return
    report = json.loads((built.path / "report.json").read_text())
    linked = report["engine"]["guarantee"]["linked"]
    assert (linked["contribution_bound"], linked["k_victims"], linked["k_rows"]) == (1, K, K)
    micro = pl.read_parquet(built.path / "microdata.parquet")
    if method == "k-anonymity":
        qi = [c for c in release_dataset(1, "journey_events").quasi_identifiers if c in micro.columns]
        if micro.height:
            assert micro.group_by(qi).len()["len"].min() >= K
    elif method == "dp-synthetic":
        guarantee = report["engine"]["guarantee"]
        assert guarantee["rho"] == pytest.approx(Budget.dp(4.0).rho)
        [entry] = ledger.store.entries()
        assert entry.dataset == LEDGER_DATASET and entry.rho == pytest.approx(linked["rho_spent_per_victim"])
    summary = json.loads((built.path / "summary.json").read_text())
    assert all(c["count"] >= K for c in summary["corridors"])
    assert "victim_id" not in (built.path / "microdata.csv").read_text()
