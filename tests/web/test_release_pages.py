"""The release report as people read it (`ctdc.web.releases.readable`): verdicts worded for a published release,
values as text or tables, never JSON or a Python repr (issue 15, item 10). The pages themselves are checked in a
browser on real releases of every method (tests/web/test_release_browser.py)."""

import re

import pytest
from django.utils import translation

from ctdc.web.releases.readable import readable_check, readable_section

RAW = re.compile(r"[{}\[\]]|': |\bTrue\b|\bFalse\b|\bNone\b")


def test_an_advisory_check_not_met_is_explained_and_never_called_failed():
    check = {"id": "unique-record-copies", "title": "t", "passed": False, "blocking": False, "detail": "3 rows"}
    shown = readable_check(check, published=True)
    assert shown["css"] == "advisory" and "fail" not in shown["verdict"].lower()
    assert "does not decide publication" in shown["verdict"] and shown["means"]
    blocking = readable_check({**check, "blocking": True}, published=False)
    assert blocking["css"] == "fail"  # a draft's blocking failure is what stops it: the steward sees it as such


def test_nested_report_values_read_as_text_and_tables_in_the_readers_language():
    section = {"records": 19855, "share_at_risk": 0.1138, "delta": 7.2e-08, "quasi_identifiers": ["gender", "citizenship"],
               "levels": {"registration_year": "suppressed", "age_band": "majority_status", "gender": "gender"},
               "class_sizes": [{"sizes": "1", "classes": 31, "records": 31}], "record_risk": {"mean": 0.057, "max": 1.0},
               "model": {"record_count": 2970.8, "cliques": [["gender", "age_band"]]}, "extra": {}}
    with translation.override("fr"):
        out = readable_section("risk_output", section)
    texts = [f["text"] for i in out["items"] if "facts" in i for f in i["facts"] if "text" in f]
    tables = [c for i in out["items"] if "table" in i for row in i["table"]["rows"] for c in row]
    assert "19\u202f855" in texts or "19\xa0855" in texts
    assert "11,4 %" in texts and "Genre, Nationalité" in texts
    assert "supprimé" in tables and any(c.startswith("remplacé par") for c in tables)
    assert out["technical"]  # the fitted model is folded under the technical details
    for text in texts + tables:
        assert not RAW.search(text), text


@pytest.mark.django_db
def test_latest_is_a_404_when_nothing_is_published(client):
    assert client.get("/data/victims/latest/").status_code == 404
    assert client.get("/data/terms/").status_code == 200
    assert "<strong>Never try to identify anyone.</strong>" in client.get("/data/terms/").content.decode()
