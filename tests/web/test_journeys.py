"""Simulated perpetrators, links and journey events in the standard's own layout, end to end on the real database
(SQLite or PostgreSQL): simulated files -> ingest -> approve -> release of routes and perpetrators (issue 17,
items 1, 4 and 8)."""

import json
from pathlib import Path

import polars as pl
import pytest

from ctdc.web.cases.models import JourneyEvent, Perpetrator, Victim, VictimPerpetratorLink
from tests.web.intake import simulated_hotline

pytestmark = pytest.mark.django_db(transaction=True)
ORG = "lakeside-helpline"


@pytest.fixture
def repository(run_cli, tmp_path):
    """The hotline's simulated victims, then its perpetrators, links and journeys, each approved in turn."""
    out, entry = simulated_hotline(run_cli, tmp_path / "simulated", cases=900, seed=5)
    results = {}
    for kind, dataset in (("perpetrators", "perpetrators"), ("links", "victim_perpetrator_links"),
                          ("journeys", "journey_events")):
        # No --preset: the standard's own layout is detected from its header.
        r = run_cli("ingest", str(out / entry[kind]["file"]), "--org", ORG, "--dataset", dataset, "--approve",
                    "--json")
        assert r.exit_code == 0, r.output
        results[kind] = json.loads(r.stdout)
    return out, entry, results


def test_simulated_linked_files_are_detected_ingested_and_approved_with_nothing_lost(repository):
    _out, entry, results = repository
    for kind, preset in (("perpetrators", "ctdc-perpetrators"), ("links", "ctdc-links"),
                         ("journeys", "ctdc-journeys")):
        r = results[kind]
        assert r["mapping"] == preset and r["status"] == "approved"
        assert r["rows_read"] == entry[kind]["rows"] == r["accepted"] + r["quarantined"] + r["duplicates"]
    assert Perpetrator.objects.count() == results["perpetrators"]["accepted"]
    assert VictimPerpetratorLink.objects.count() == results["links"]["accepted"]
    assert JourneyEvent.objects.count() == results["journeys"]["accepted"]
    # Events and links of the victims whose rows the hotline file got wrong (quarantined) are reported, not
    # dropped: their case is not in the repository.
    assert results["journeys"]["errors_by_rule"].get("unknown-reference", 0) == results["journeys"]["quarantined"] > 0
    assert results["links"]["errors_by_rule"].get("unknown-reference", 0) == results["links"]["quarantined"]
    # Each event belongs to a victim of the organisation; exact dates never reach the table.
    assert not JourneyEvent.objects.exclude(victim__organisation__slug=ORG).exists()
    assert JourneyEvent.objects.filter(event_type="recruitment").count() == Victim.objects.filter(
        journey_events__isnull=False).distinct().count()


@pytest.mark.parametrize("method", ["k-anonymity", "k-synthetic", "dp-synthetic"])
def test_the_routes_release_is_one_row_per_victim_built_by_every_method_and_validates(repository, run_cli, method):
    from django.conf import settings
    from frictionless import validate

    from ctdc.web.releases.selectors import release_snapshot

    frame, facts = release_snapshot(dataset="journey_events")
    assert frame.height == frame["victim_id"].n_unique() == facts["victims_with_routes"]
    built = run_cli("release", "build", "--dataset", "journey_events", "--method", method, "--k", "3", "--json")
    if built.exit_code != 0:  # a clean refusal (too few victims for k per class), never a crash
        assert method == "k-anonymity" and "k=" in built.output, built.output
        return
    meta = json.loads(built.stdout)
    folder = Path(settings.CTDC_RELEASES_DIR) / meta["path"]
    assert run_cli("release", "verify", meta["version"], "--dataset", "journey_events").exit_code == 0
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["params"]["contribution_bound"] == 1
    assert metadata["privacy_unit"] == "one victim with their whole journey (one route row)"
    micro = pl.read_csv(folder / "microdata.csv", infer_schema=False)
    assert micro.columns == ["origin_country", "transit_country", "destination_country", "journey_duration",
                             "period", "exploitation_types"]
    summary = json.loads((folder / "summary.json").read_text())
    # Corridors: counts of the released rows only, each at least k; none with a suppressed end.
    assert summary["corridors"] and all(c["count"] >= 3 for c in summary["corridors"])
    assert all("*" not in (c["origin"], c["destination"]) for c in summary["corridors"])
    if method == "dp-synthetic":
        from ctdc.web.releases.ledger import repository_ledger

        # Charged to the victims' budget: the route is theirs.
        assert [e.dataset for e in repository_ledger().store.entries()] == ["victims"]


def test_simulated_perpetrators_are_released_and_shown_with_their_own_age_bands(repository, run_cli, client):
    from ctdc.standard import load_standard
    from ctdc.web.portal.selectors import portal_cache_clear

    # A perpetrator's age band comes from the perpetrator bands, not the victims' (0-8, 9-17 ...).
    bands = set(load_standard().codelist("perpetrator_age_band").codes)
    stored = set(Perpetrator.objects.exclude(age_band=None).values_list("age_band", flat=True))
    assert stored and stored <= bands
    built = run_cli("release", "build", "--dataset", "perpetrators", "--method", "k-synthetic", "--k", "3",
                    "--publish")
    assert built.exit_code == 0, built.output
    portal_cache_clear()
    page = client.get("/perpetrators/").content.decode()
    assert "at most 3 links" in page and "30 to 38" in page
