"""CORS (issue 16, item 3): other sites' scripts may read the public, read-only API and nothing else.

Every API pattern of the URL conf (and a sample of pages) is requested with an `Origin` header, read and written,
signed out and signed in: only the GET/HEAD answers of a `public_api()` rule carry `Access-Control-Allow-Origin`,
and never with credentials. A new endpoint is in this list at once (the patterns come from the access-matrix test)."""

from __future__ import annotations

import pytest

from ctdc.web.security.access import rule_for
from tests.web.intake import make_people
from tests.web.security.test_access_matrix import PATTERNS, SAMPLES, _url

ORIGIN = "https://dashboards.example.org"
CORS_NAMES = {"api:api-root", "api:openapi-json", "api:releases", "api:latest", "api:release_detail",
              "api:aggregates"}


def test_only_the_public_read_only_api_endpoints_allow_other_origins():
    allowed = {p.view_name for p in PATTERNS if rule_for(p.view_name).cors}
    assert allowed == CORS_NAMES
    for name in allowed:  # public and read-only, no token
        rule = rule_for(name)
        assert rule.is_public and rule.methods == {"GET"} and not rule.tokens


# Pages never carry the header (the middleware looks at /api/ paths only, and the test above keeps every CORS rule an
# API one): a sample of them is requested here, every API pattern is. All patterns took 15-26 s on a loaded machine.
PAGES = {"home", "explore", "data-catalogue", "data-file", "login", "intake_home", "submission_new", "data-steward",
         "agreements", "admin:index"}


@pytest.mark.django_db
def test_no_answer_but_a_public_api_read_carries_cors_headers(client):
    steward = make_people()["steward"]
    wrong = []
    swept = [p for p in PATTERNS if p.view_name.startswith("api:") or p.view_name in PAGES]
    assert len([p for p in swept if not p.view_name.startswith("api:")]) == len(PAGES)
    for pattern in swept:
        url = _url(pattern, dict(SAMPLES))
        cors = rule_for(pattern.view_name).cors
        # (HEAD is answered as GET, PUT and DELETE as POST: three requests per pattern keep this fast)
        for signed_in, method in ((False, "GET"), (False, "POST"), (True, "GET")):
            if signed_in:
                client.force_login(steward)
            else:
                client.logout()
            response = client.generic(method, url, headers={"Origin": ORIGIN})
            expected = cors and method in ("GET", "HEAD")
            got = response.get("Access-Control-Allow-Origin")
            if (got == "*") != expected or (got not in (None, "*")):
                wrong.append(f"{method} {url} signed in {signed_in}: {response.status_code}, "
                             f"Access-Control-Allow-Origin {got!r}")
            if response.has_header("Access-Control-Allow-Credentials"):
                wrong.append(f"{method} {url}: allows credentials")
    assert wrong == []


@pytest.mark.django_db
def test_a_public_read_is_readable_from_another_origin_without_credentials(client):
    response = client.get("/api/v1/releases", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert response["Access-Control-Expose-Headers"] == "Content-Disposition, Retry-After"


@pytest.mark.django_db
def test_a_preflight_of_a_public_read_allows_get_and_simple_headers_only(client):
    response = client.options("/api/v1/aggregates", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
                                                             "Access-Control-Request-Headers": "accept-language"})
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "Authorization" not in response["Access-Control-Allow-Headers"]


@pytest.mark.django_db
def test_a_preflight_of_the_contributor_api_is_not_answered_with_cors_headers(client):
    response = client.options("/api/v1/submissions", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                              "Access-Control-Request-Headers": "authorization"})
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


@pytest.mark.django_db
def test_a_rate_limited_public_read_still_tells_the_other_origin_why(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.CTDC_API_RATE_PER_MINUTE = 1
    client.get("/api/v1/releases", headers={"Origin": ORIGIN})
    limited = client.get("/api/v1/releases", headers={"Origin": ORIGIN})
    assert limited.status_code == 429 and limited["Access-Control-Allow-Origin"] == "*"
