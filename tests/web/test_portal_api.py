"""`GET /api/v1/aggregates` on a real published release: the counts are the release's, never below its threshold,
never of a combination longer than its reporting length; the OpenAPI schema documents it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ctdc.web.portal.figures import DIMENSIONS, MULTI, YEAR
from ctdc.web.releases.models import Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(run_cli, simulated) -> Release:
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build", "--method", "k-anonymity", "--publish").exit_code == 0
    return Release.objects.get()


def _published(release: Release) -> dict[frozenset, int]:
    data = (Path(settings.CTDC_RELEASES_DIR) / release.path / "aggregates.csv").read_bytes()
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    return {frozenset(c.split(";")) if c else frozenset(): int(n)
            for c, n in zip(frame["combination"].fill_null(""), frame["count"], strict=True)}


def test_nothing_published_is_a_404_in_the_api_error_shape(client):
    r = client.get("/api/v1/aggregates?by=gender")
    assert r.status_code == 404 and r.json()["code"] == "not-found"


def test_the_api_returns_the_release_counts_with_its_version(client, release):
    published = _published(release)
    body = client.get("/api/v1/aggregates?dataset=victims&by=gender").json()
    assert body["version"] == release.version and body["threshold"] == 20 and body["max_length"] == 3
    assert body["citation"].startswith("ctdc contributors") and release.version in body["citation"]
    shown = {r["values"]["gender"]: r["count"] for r in body["rows"]}
    for gender, count in shown.items():
        raw = published.get(frozenset({f"gender:{gender}"}), 0)
        assert count == (raw if raw >= 20 else None)
    assert body["total"]["count"] == published[frozenset()]
    fr = client.get("/api/v1/aggregates?by=gender&lang=fr").json()
    assert {r["labels"]["gender"] for r in fr["rows"]} >= {"Femme", "Homme"}


def test_too_many_filters_and_unknown_dimensions_are_clear_400s(client, release):
    r = client.get("/api/v1/aggregates?by=gender&age_band=adult&citizenship=UA&country_of_exploitation=US")
    assert r.status_code == 400 and r.json()["code"] == "invalid-figure-query"
    assert "at most 3 values" in r.json()["message"]
    r = client.get("/api/v1/aggregates?by=shoe_size")
    assert r.status_code == 400 and "shoe_size" in r.json()["message"]
    assert client.get("/api/v1/aggregates?by=gender&year_from=abc").status_code == 422


def test_the_openapi_schema_documents_the_aggregates_endpoint(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    op = schema["paths"]["/api/v1/aggregates"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"dataset", "by", "gender", "year_from", "year_to", "citizenship"} <= names
    assert "threshold" in op["description"]


def test_no_api_answer_holds_a_small_count_or_a_long_combination(client, release):
    """Over generated questions: every count in every answer is >= T and is the release's own count."""
    published = _published(release)
    domains = {}
    for combo in published:
        if len(combo) == 1:
            col, val = next(iter(combo)).split(":", 1)
            domains.setdefault(col.split("__")[0], []).append(val if "__" not in col else col.split("__")[1])
    t, length = 20, 3

    @hsettings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(by=st.lists(st.sampled_from(DIMENSIONS), min_size=1, max_size=2, unique=True),
           filters=st.dictionaries(st.sampled_from([d for d in DIMENSIONS if d != YEAR]), st.integers(0, 30),
                                   max_size=3))
    def check(by, filters):
        chosen = {d: sorted(domains.get(d, ["x"]))[i % len(domains.get(d, ["x"]))] for d, i in filters.items()}
        query = "&".join([f"by={','.join(by)}", *(f"{d}={v}" for d, v in chosen.items())])
        r = client.get(f"/api/v1/aggregates?{query}")
        used = len(by) + len(chosen) - sum(1 for d in by if d in chosen and d not in MULTI)
        if used > length:
            assert r.status_code == 400
            return
        body = r.json()
        assert r.status_code == 200, body
        for row in [body["total"], *body["rows"]]:
            assert row["count"] is None or row["count"] >= t
            assert row["suppressed"] == (row["count"] is None)
            pairs = {f"{d}__{v}:1" if d in MULTI else f"{d}:{v}" for d, v in [*chosen.items(), *row["values"].items()]}
            if len({p.split(":")[0] for p in pairs}) < len(pairs):  # "male among females": no one
                assert row["count"] is None
                continue
            assert len(pairs) <= length
            if row["count"] is not None:
                assert row["count"] == published[frozenset(pairs)]

    check()


def test_a_repeated_question_is_answered_from_the_cache_with_the_same_bytes_and_counted(client, release, run_cli):
    from ctdc.web.portal import usage
    from ctdc.web.portal.models import UsageCount

    url = "/api/v1/aggregates?by=gender&citizenship=UA"
    first, second = client.get(url), client.get(url)  # the second never reaches the API framework
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert second["Content-Type"] == "application/json" and second["X-Content-Type-Options"] == "nosniff"
    usage.flush(dict(usage._pending))
    usage._pending.clear()
    assert UsageCount.objects.get(kind=UsageCount.Kind.API, name="/api/v1/aggregates").count >= 2
    # A withdrawn release is never answered from the cache.
    assert run_cli("release", "withdraw", release.version, "--reason", "test").exit_code == 0
    assert client.get(url).status_code == 404



def test_a_newly_published_release_is_indexed_once_however_many_threads_ask_at_once(settings, monkeypatch):
    """Issue 18: under load every thread of a worker read the new release's aggregates at once (seconds each on 2
    cores), and requests queued behind them timed out. One thread reads it; the others wait for that index."""
    import threading
    import time

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from ctdc.web.portal import selectors
    from ctdc.web.portal.figures import AggregateIndex
    from ctdc.web.releases.store import release_storage

    # A published release holding only the file the portal reads (a real build takes ~25 s to set up).
    release_storage().save("victims/2026.01.1/aggregates.csv", ContentFile(
        b'combination,length,count,protection\n"",0,596,k-anonymity k=11\ngender:female,1,300,k-anonymity k=11\n'))
    Release.objects.create(dataset="victims", version="2026.01.1", method="k-anonymity", params={"k": 11},
                           path="victims/2026.01.1", record_count=596, input_count=600, standard_version="0.2",
                           published_at=timezone.now(), files=[{"name": "aggregates.csv"}])
    settings.CTDC_PORTAL_RELEASE_TTL = 60.0  # the threads read the latest release from the cache, not the database
    selectors.portal_cache_clear()
    selectors._latest_release("victims")
    real, reads = AggregateIndex.from_csv, []

    def counted(*args, **kwargs):  # the real reader, slowed so that every thread arrives while it reads
        reads.append(1)
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(AggregateIndex, "from_csv", counted)
    start, got = threading.Barrier(8), []

    def ask():
        start.wait()
        got.append(selectors.portal_release("victims").index)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reads) == 1 and len(got) == 8 and all(index is got[0] for index in got)
    assert got[0].version == "2026.01.1" and selectors._building == {}
    selectors.portal_cache_clear()
