"""Simulated recruitment fees in the standard's own layout, end to end on the real database (SQLite or
PostgreSQL): simulated files -> ingest -> approve (issue 17, items 1, 5 and 8)."""

import json

import pytest
from django.db.models import F

from ctdc.web.cases.models import RecruitmentFee, Victim
from tests.web.intake import simulated_hotline

pytestmark = pytest.mark.django_db(transaction=True)
ORG = "lakeside-helpline"


@pytest.fixture
def fees(run_cli, tmp_path):
    """The hotline's simulated victims, then its fees file, approved."""
    out, linked = simulated_hotline(run_cli, tmp_path / "simulated", cases=900, seed=5)
    entry = linked["fees"]
    # No --preset: the standard's own layout is detected from its header.
    r = run_cli("ingest", str(out / entry["file"]), "--org", ORG, "--dataset", "recruitment_fees", "--approve",
                "--json")
    assert r.exit_code == 0, r.output
    return out, entry, json.loads(r.stdout)


def test_simulated_fees_are_detected_ingested_and_approved_with_nothing_lost(fees):
    out, entry, result = fees
    assert result["mapping"] == "ctdc-fees" and result["status"] == "approved"
    assert result["rows_read"] == entry["rows"] == result["accepted"] + result["quarantined"] + result["duplicates"]
    assert RecruitmentFee.objects.count() == result["accepted"] > 0
    # Fees of victims whose rows the hotline file got wrong (quarantined) are reported, not dropped.
    assert result["errors_by_rule"].get("unknown-reference", 0) == result["quarantined"]
    assert not RecruitmentFee.objects.exclude(victim__organisation__slug=ORG).exists()
    # Only victims who crossed a border paid fees, on their own corridor.
    assert not RecruitmentFee.objects.filter(origin_country=F("destination_country")).exists()




def test_a_fee_in_a_currency_no_shipped_rate_covers_is_kept_and_reported_as_unconvertible(fees):
    from ctdc.standard.money import convert
    from ctdc.web.submissions.models import Problem

    _out, _entry, result = fees
    unconvertible = [f for f in RecruitmentFee.objects.all() if convert(f.amount, f.currency, f.fee_year).amount is None]
    assert unconvertible, "the simulator writes some fees in currencies the ECB does not quote"
    problems = Problem.objects.filter(code="unconvertible-amount")
    assert problems.count() >= len(unconvertible)
    # A warning: the row is stored with its amount as given.
    assert all(p.severity == "warning" for p in problems)
    assert {f.currency for f in unconvertible} <= {"NGN", "NPR", "BDT", "VND", "KHR", "UAH", "ETB", "GHS"}


def test_a_fee_for_a_case_not_in_the_repository_is_reported_as_an_unknown_reference(run_cli, tmp_path):
    run_cli("org", "create", ORG, "--name", "Lakeside", "--kind", "hotline")
    path = tmp_path / "fees.csv"
    path.write_text("fee_id,victim_id,amount,currency,fee_year,paid_to\nF1,HL-0000001,1200,USD,2020,recruiter\n")
    r = run_cli("ingest", str(path), "--org", ORG, "--dataset", "recruitment_fees", "--json")
    result = json.loads(r.stdout)
    assert result["mapping"] == "ctdc-fees"
    assert result["errors_by_rule"] == {"unknown-reference": 1} and result["quarantined"] == 1
    assert not Victim.objects.exists() and not RecruitmentFee.objects.exists()


@pytest.mark.parametrize("method", ["k-anonymity", "dp-synthetic"])
def test_the_fees_release_is_protected_statistics_per_corridor_and_sector_and_validates(fees, run_cli, method):
    from django.conf import settings
    from frictionless import validate

    from ctdc.web.releases.ledger import repository_ledger
    from ctdc.web.releases.selectors import release_snapshot

    frame, facts = release_snapshot(dataset="recruitment_fees")
    # One row per victim with fees: the privacy unit.
    assert frame.height == frame["victim_id"].n_unique() == facts["victims_with_fees"] > 0
    built = run_cli("release", "build", "--dataset", "recruitment_fees", "--method", method, "--k", "5",
                    "--epsilon", "8", "--json")
    assert built.exit_code == 0, built.output
    meta = json.loads(built.stdout)
    folder = settings.CTDC_RELEASES_DIR / meta["path"]
    assert run_cli("release", "verify", meta["version"], "--dataset", "recruitment_fees").exit_code == 0
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["params"]["contribution_bound"] == 1
    assert metadata["normalisation"]["base_year"] == 2025
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["unit"] == "USD of 2025"
    # 900 simulated cases give corridors of at most ~16 victims: above k (threshold); the DP bar (k + z sigma,
    # about 13 at epsilon 8) may hide them all, so their recovery is tested on a larger table
    # (tests/release/test_fees.py).
    assert summary["corridors"] or method == "dp-synthetic"
    assert all(c["victims"] >= 5 for c in summary["corridors"] + summary["corridor_sectors"])
    entries = [e.dataset for e in repository_ledger().store.entries()]
    # A DP release spends the victims' budget: the fees are theirs; a threshold release spends nothing.
    assert entries == (["victims"] if method == "dp-synthetic" else [])


def test_a_web_upload_of_the_fees_file_is_read_by_the_same_preset_and_approved(run_cli, client, tmp_path):
    from ctdc.web.accounts.models import Organisation
    from ctdc.web.submissions.models import Submission
    from ctdc.web.submissions.services import submission_approve
    from tests.web.intake import make_people, run_worker

    out, linked = simulated_hotline(run_cli, tmp_path / "simulated", cases=300, seed=5)
    entry = linked["fees"]
    client.force_login(make_people()["steward"])
    with (out / entry["file"]).open("rb") as fh:
        response = client.post("/intake/submissions/new/", {"organisation": Organisation.objects.get(slug=ORG).pk,
                                                            "dataset": "recruitment_fees",
                                                            "mapping": "preset:ctdc-fees", "file": fh})
    assert response.status_code == 302, response.content[:500]
    run_worker()
    submission = Submission.objects.get(dataset="recruitment_fees")
    assert submission.status == "validated", submission.error
    assert submission.rows_read == entry["rows"] == submission.accepted + submission.quarantined
    submission_approve(submission=submission)
    assert RecruitmentFee.objects.count() == submission.accepted > 0
