"""Perpetrators and victim-perpetrator links end to end on the real database (SQLite or PostgreSQL): the public CTDC
victim-perpetrator layout (preset ctdc-vp) through the CLI and the web upload, approval into the repository."""

import json
from pathlib import Path

import pytest

from ctdc.fixtures import ctdc_vp
from ctdc.web.cases.models import Perpetrator, Victim, VictimPerpetratorLink
from ctdc.web.submissions.models import Problem, QuarantinedRow, Submission
from ctdc.web.submissions.services import submission_approve
from tests.web.intake import make_people, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
DATA = Path(__file__).resolve().parents[1] / "data"
VP = DATA / "ctdc-vp-quirks.csv"
HELD = len(ctdc_vp.QUIRKS["held-back"])
ACCEPTED = len(ctdc_vp.ROWS) - HELD
WITH_PERPETRATOR = ACCEPTED - len(ctdc_vp.QUIRKS["no-perpetrator"])
QUIRK_CODES = {"censored-value", "condensed-values", "exact-copy-row", "unknown-code", "not-a-number"}


def test_the_cli_reads_the_victim_perpetrator_layout_reports_every_quirk_and_approves_all_three_tables(run_cli):
    run_cli("org", "create", "ctdc-public", "--name", "CTDC public data")
    # No --preset: the layout is detected from its header.
    result = run_cli("ingest", str(VP), "--org", "ctdc-public", "--json", "--approve")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mapping"] == "ctdc-vp"
    assert (out["rows_read"], out["accepted"], out["quarantined"], out["duplicates"]) == (
        len(ctdc_vp.ROWS), ACCEPTED, HELD, 0)
    assert set(out["errors_by_rule"]) == QUIRK_CODES
    assert {n["code"] for n in out["notes"]} == {"region-only", "no-linked-record"}
    submission = Submission.objects.get(pk=out["submission"])
    assert submission.stats["linked_records"] == {"perpetrators": WITH_PERPETRATOR,
                                                  "victim_perpetrator_links": WITH_PERPETRATOR}
    assert QuarantinedRow.objects.filter(submission=submission).count() == HELD
    assert Victim.objects.count() == ACCEPTED
    assert Perpetrator.objects.count() == VictimPerpetratorLink.objects.count() == WITH_PERPETRATOR
    # Each link joins the victim and the perpetrator its own row made.
    for link in VictimPerpetratorLink.objects.select_related("victim", "perpetrator"):
        assert link.victim.source_row == link.perpetrator.source_row == link.source_row
    joined = Perpetrator.objects.get(source_row=12)
    assert (joined.condensed, joined.genders, joined.gender) == (True, "female;male", None)
    binned = Victim.objects.get(source_row=2)
    assert (binned.registration_year, binned.registration_year_lower, binned.registration_year_upper) == (
        None, 2005, 2013)
    assert Victim.objects.get(source_row=4).citizenship_region == "americas_oceania"
    # Nothing the steward sees echoes a record id or a row id as a value.
    assert not Problem.objects.filter(submission=submission, value__startswith="row-").exists()


def test_a_web_upload_of_the_layout_reports_the_same_and_approval_writes_victims_perpetrators_and_links(client):
    people = make_people()
    from ctdc.web.accounts.models import Organisation

    org = Organisation.objects.get(slug="open-roads")
    client.force_login(people["steward"])
    with VP.open("rb") as fh:
        response = client.post("/intake/submissions/new/", {"organisation": org.pk, "dataset": "victims",
                                                            "mapping": "preset:ctdc-vp", "file": fh})
    assert response.status_code == 302, response.content[:500]
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "validated", submission.error
    assert (submission.rows_read, submission.accepted, submission.quarantined) == (len(ctdc_vp.ROWS), ACCEPTED, HELD)
    assert set(submission.stats["errors_by_rule"]) == QUIRK_CODES
    page = client.get(f"/intake/submissions/{submission.pk}/")
    assert page.status_code == 200 and b"region-only" in page.content
    report = client.get(f"/intake/submissions/{submission.pk}/report/?code=condensed-values").content.decode()
    assert "Female;Male" in report and "never guessed" in report
    written = submission_approve(submission=submission)
    assert written == ACCEPTED + 2 * WITH_PERPETRATOR
    assert Perpetrator.objects.filter(organisation=org, condensed=True).count() == WITH_PERPETRATOR
    assert VictimPerpetratorLink.objects.filter(victim__organisation=org).count() == WITH_PERPETRATOR


@pytest.mark.parametrize("method", ["k-anonymity", "k-synthetic", "dp-synthetic"])
def test_the_perpetrators_release_is_built_by_every_method_verifies_and_validates(run_cli, client, method):
    from django.conf import settings
    from frictionless import validate

    from ctdc.web.releases.selectors import release_snapshot

    run_cli("org", "create", "ctdc-public", "--name", "CTDC public data")
    assert run_cli("ingest", str(VP), "--org", "ctdc-public", "--approve").exit_code == 0
    frame, facts = release_snapshot(dataset="perpetrators")
    assert frame.height == facts["links"] == WITH_PERPETRATOR
    assert set(frame["citizenship_region"].drop_nulls()) <= {"africa", "asia", "europe", "americas_oceania"}
    built = run_cli("release", "build", "--dataset", "perpetrators", "--method", method, "--k", "2", "--json")
    # A refusal is a clean outcome (too few links for k victims per class): never a crash, never a folder.
    if built.exit_code != 0:
        assert method == "k-anonymity" and "k=" in built.output, built.output
        return
    meta = json.loads(built.stdout)
    folder = Path(settings.CTDC_RELEASES_DIR) / meta["path"]
    assert run_cli("release", "verify", meta["version"], "--dataset", "perpetrators").exit_code == 0
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert not (folder / "ctdc-public.csv").exists()
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["params"]["contribution_bound"] == 3
    header = (folder / "microdata.csv").read_text().splitlines()[0].split(",")
    published = run_cli("release", "publish", meta["version"], "--dataset", "perpetrators")
    assert published.exit_code == 0, published.output  # every disclosure check passed at k x B
    page = client.get(f"/data/perpetrators/{meta['version']}/")
    assert page.status_code == 200 and "contribution_bound" in page.content.decode()
    assert header == ["gender", "perpetrator_age_band", "citizenship_region", "role_groups", "relation_to_victim",
                      "victim_paid_perpetrator", "exploitation_region"]
