"""Usage monitoring keeps counts and nothing about the reader; stewards see and export them and keep "used in"."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from ctdc.web.accounts.services import steward_ensure
from ctdc.web.portal.models import ReleaseUse, UsageCount
from ctdc.web.releases.models import Release

pytestmark = pytest.mark.django_db
READER = {"HTTP_USER_AGENT": "Snoop/9.9 (fingerprint-me)", "HTTP_X_FORWARDED_FOR": "203.0.113.77",
          "REMOTE_ADDR": "198.51.100.23", "HTTP_REFERER": "https://example.org/secret-referrer"}


@pytest.fixture
def release(run_cli, simulated) -> Release:
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    return Release.objects.get()


def _counts() -> dict[tuple[str, str], int]:
    return {(u.kind, u.name): u.count for u in UsageCount.objects.all()}


def test_pages_downloads_and_api_calls_are_counted_per_day_without_the_reader(client, release):
    client.cookies["tracking"] = "cookie-value-42"
    for _ in range(2):
        page = client.get("/explore/?gender=female&citizenship=PH", **READER)
        assert page.status_code == 200 and "Set-Cookie" not in page.headers  # counting sets no cookie
    client.get("/", **READER)
    client.get("/countries/ua/", **READER)
    client.get("/api/v1/aggregates?by=gender&gender=female", **READER)
    client.get("/explore/download/citizenship.csv?gender=female", **READER)
    client.post("/data/terms/", {"accept": "yes"})
    file = client.get(f"/data/victims/{release.version}/files/aggregates.csv", **READER)
    assert file.status_code == 200
    client.get("/explore/?gender=nonsense-value", **READER)  # a 200 with a message: counted as the page
    client.get("/countries/QQ/", **READER)  # a 404: not counted
    counts = _counts()
    assert counts[("page", "/explore/")] == 3 and counts[("page", "/")] == 1
    assert counts[("page", "/countries/UA/")] == 1 and ("page", "/countries/QQ/") not in counts
    assert counts[("api", "/api/v1/aggregates")] == 1
    assert counts[("download", "chart citizenship.csv")] == 1
    assert counts[("download", f"victims {release.version} aggregates.csv")] == 1
    # An attacker who dumps the whole database finds no trace of the reader: no address, agent, referrer,
    # cookie or question (query string).
    dump = io.StringIO()
    call_command("dumpdata", "portal", stdout=dump)
    text = dump.getvalue()
    for trace in ("203.0.113", "198.51.100", "Snoop", "secret-referrer", "cookie-value-42", "citizenship=PH",
                  "gender=female"):
        assert trace not in text, trace
    assert {f.name for f in UsageCount._meta.get_fields()} == {"id", "day", "kind", "name", "count"}


def test_stewards_see_usage_export_it_and_keep_the_used_in_list(client, release):
    client.get("/explore/")
    client.get("/api/v1/aggregates?by=gender")
    assert client.get("/steward/usage/").status_code == 302  # sign in first
    get_user_model().objects.create_user("reader", password="a long enough password")
    client.login(username="reader", password="a long enough password")
    assert client.get("/steward/usage/").status_code == 403
    steward_ensure(username="chief", password="correct horse battery")
    client.login(username="chief", password="correct horse battery")
    page = client.get("/steward/usage/")
    assert page.status_code == 200
    per_day = json.loads(page.content.decode().split('id="data-usage" type="application/json">')[1].split("<")[0])
    assert {r["kind"] for r in per_day} >= {"page", "api"}
    csv_text = client.get("/steward/usage.csv").content.decode()
    assert csv_text.splitlines()[0] == "day,kind,name,count" and ",page,/explore/,1" in csv_text

    bad = client.post("/steward/usage/", {"release": f"victims {release.version}", "title": "Report",
                                          "authors": "A. Author", "link": "javascript:alert(1)",
                                          "date": "2026-03-01"})
    assert bad.status_code == 200 and "must be a web address" in bad.content.decode()
    ok = client.post("/steward/usage/", {"release": f"victims {release.version}", "title": "Trafficking corridors 2026",
                                         "authors": "Fictional Institute", "link": "https://example.org/report",
                                         "date": "2026-03-01"})
    assert ok.status_code == 302 and ReleaseUse.objects.count() == 1
    client.logout()
    report = client.get(f"/data/victims/{release.version}/").content.decode()
    assert "Trafficking corridors 2026" in report and "https://example.org/report" in report
