import json

import pytest

pytestmark = pytest.mark.django_db


def test_every_api_error_has_the_same_shape(client):
    missing = client.get("/api/v1/releases/victims/latest")
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "message", "extra"} and missing.json()["code"] == "not-found"
    invalid = client.get("/api/v1/releases?dataset=" + "x" * 3, HTTP_ACCEPT="application/json")
    assert invalid.status_code == 200


def test_the_latest_release_is_served_after_a_build(run_cli, simulated, client):
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    body = client.get("/api/v1/releases/victims/latest").json()
    assert body["dataset"] == "victims" and body["summary"]["cases"] > 0
    listed = client.get("/api/v1/releases").json()
    assert [r["version"] for r in listed] == [body["version"]]


def test_the_api_docs_load_nothing_from_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    assert "/api/v1/releases/{dataset}/latest" in schema["paths"]
