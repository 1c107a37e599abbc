"""Government response (issue 17) end to end on the real database (SQLite or PostgreSQL): GLOTIP-layout files
through the CLI and the web upload, approval, a release published as it is, and the country profile's section."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from frictionless import validate

from ctdc.fixtures import glotip
from ctdc.web.cases.models import GovernmentResponse
from ctdc.web.portal.selectors import portal_cache_clear
from ctdc.web.releases.models import Release
from ctdc.web.submissions.models import Problem, QuarantinedRow, Submission
from ctdc.web.submissions.services import submission_approve
from tests.web.intake import make_people, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
DATA = Path(__file__).resolve().parents[1] / "data"
XLSX, CSV = DATA / "unodc-glotip-quirks.xlsx", DATA / "unodc-glotip-quirks.csv"
QUARANTINED, DUPLICATES = 6, 1


@pytest.fixture
def people():
    return make_people()


def _ingest(run_cli, path: Path, *extra: str) -> dict:
    result = run_cli("ingest", str(path), "--dataset", "government_response", "--preset", "unodc-glotip",
                     "--org", "unodc", "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_cli_reads_the_glotip_workbook_and_reports_every_quirk(run_cli):
    run_cli("org", "create", "unodc", "--name", "UNODC (public data)")
    out = _ingest(run_cli, XLSX)
    rows = len(glotip.rows())
    assert (out["rows_read"], out["quarantined"], out["duplicates"]) == (rows, QUARANTINED, DUPLICATES)
    assert out["rows_read"] == out["accepted"] + out["quarantined"] + out["duplicates"]
    assert set(out["errors_by_rule"]) == {
        "censored-value", "thousands-separator", "category-read-as", "encoding-damage", "own-nationals",
        "subtotal-category", "unmapped-category", "implausible-value", "conflicting-values", "duplicate-row",
        "unknown-country", "not-a-country"}
    assert out["errors_by_rule"]["censored-value"] == len(glotip.QUIRKS["censored"])
    assert {n["code"] for n in out["notes"]} == {"title-rows", "release-date", "wrong-sheet-dimension",
                                                 "formula-without-value"}
    submission = Submission.objects.get(pk=out["submission"])
    assert submission.dataset == "government_response" and submission.status == "validated"
    assert QuarantinedRow.objects.filter(submission=submission).count() == QUARANTINED
    # The report keeps the category text as published (a non-personal dataset may echo it).
    assert Problem.objects.filter(submission=submission, code="category-read-as", value="VENEZOLANA").exists()
    text = run_cli("ingest", str(XLSX), "--dataset", "government_response", "--preset", "unodc-glotip",
                   "--org", "unodc").output
    assert "this exact file was submitted before" in text


def test_a_web_upload_of_the_csv_conversion_is_read_with_the_same_mapping(client, people):
    from ctdc.web.accounts.services import organisation_create

    org, _ = organisation_create(slug="unodc", name="UNODC (public data)", kind="case_management")
    client.force_login(people["steward"])
    with CSV.open("rb") as fh:
        response = client.post("/intake/submissions/new/", {"organisation": org.pk, "dataset": "government_response",
                                                            "mapping": "preset:unodc-glotip", "file": fh})
    assert response.status_code == 302, response.content[:500]
    run_worker()
    submission = Submission.objects.get()
    assert submission.status == "validated", submission.error
    assert (submission.rows_read, submission.quarantined, submission.duplicates) == (
        len(glotip.rows()), QUARANTINED, DUPLICATES)
    page = client.get(f"/intake/submissions/{submission.pk}/")
    assert page.status_code == 200 and b"no-release-date" in page.content
    report = client.get(f"/intake/submissions/{submission.pk}/report/?code=encoding-damage")
    assert report.status_code == 200 and "Espa\ufffda" in report.content.decode()
    submission_approve(submission=submission)
    assert GovernmentResponse.objects.count() == submission.accepted
    censored = GovernmentResponse.objects.filter(value_censored=True)
    assert censored.exists() and set(censored.values_list("value", "value_lower", "value_upper")) == {(None, 1, 4)}


def test_the_release_publishes_the_figures_as_they_are_and_the_country_profile_shows_them(run_cli, client, tmp_path):
    run_cli("org", "create", "unodc", "--name", "UNODC (public data)")
    out = _ingest(run_cli, XLSX, "--approve")
    refused = run_cli("release", "build", "--dataset", "government_response", "--method", "k-anonymity")
    assert refused.exit_code == 1 and "as-published" in refused.output
    built = run_cli("release", "build", "--dataset", "government_response", "--publish", "--json")
    assert built.exit_code == 0, built.output
    meta = json.loads(built.stdout)
    assert (meta["method"], meta["records"], meta["status"]) == ("as-published", out["accepted"], "published")
    folder = Path(settings.CTDC_RELEASES_DIR) / meta["path"]
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    cli = subprocess.run([sys.executable, "-m", "frictionless", "validate", "datapackage.json"], cwd=folder,
                         capture_output=True, text=True)
    assert cli.returncode == 0, cli.stdout[-2000:]
    assert run_cli("release", "verify", meta["version"], "--dataset", "government_response").exit_code == 0
    data = (folder / "data.csv").read_text(encoding="utf-8")
    assert "MX,2021,unodc_glotip,persons_convicted,total,Total,,,,total,total,,1,4,true,2025-04-14" in data
    assert "6120192" not in data and "Q6.1" not in data  # the implausible figure stayed in quarantine
    assert Release.objects.get(dataset="government_response").checks_passed
    # The release's public page and its "latest" link, as for any release.
    page = client.get(f"/data/government_response/{meta['version']}/")
    assert page.status_code == 200 and "Published figures (CSV)" in page.content.decode()
    assert client.get("/data/government_response/latest/").status_code == 302
    catalogue = client.get("/data/").content.decode()
    # /data/ explains this release method beside the others and links its latest release.
    use = catalogue[catalogue.index('id="use-as-published"'):]
    use = use[:use.index("</div>")]
    assert "Figures released as published" in use and "Limits:" in use and "nothing is rounded" in use
    assert f'href="/data/government_response/{meta["version"]}/"' in use
    assert f"Government response, release {meta['version']}" in catalogue

    portal_cache_clear()
    page = client.get("/countries/MX/").content.decode()
    assert 'id="government-response"' in page and 'id="government-totals"' in page
    assert "1,192" in page and "32,022" in page and "1–4" in page and "VENEZOLANA" in page
    assert "released 2025-04-14" in page
    # Albania reports nothing, but its nationals were detected in Mexico.
    albania = client.get("/countries/AL/").content.decode()
    assert 'id="government-elsewhere"' in albania and 'href="/countries/MX/"' in albania
    assert 'id="government-response"' not in client.get("/countries/JP/").content.decode()
    assert client.get("/countries/XX1/").status_code in (200, 404)
