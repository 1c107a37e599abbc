"""A contributor learns nothing about other organisations' records (issue 13, finding 3).

The attack: upload a one-row file with a guessed identity (name, birth date, citizenship) and read the own
submission's pages, downloads and CLI output for a sign that another organisation holds that person. The
experiment runs twice on the real database, once where another organisation has uploaded (and had approved) a
record with that identity and once where it holds a different person; everything the contributor can read must be
byte-identical once per-request noise (CSRF tokens, primary keys, clock) is removed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Submission
from tests.conftest import DATA
from tests.web.intake import make_people

pytestmark = pytest.mark.django_db

HEADER = "id,registered,name,born,gender,citizenship,exploited_in,exploitation,notes\n"
GUESS = "C-1,2021-06-01,Ana Testa,1990-05-06,F,PH,SA,forced_labour,\n"
HELD = {True: "H-7,2020-02-02,TESTA Ana,1990-05-06,F,Philippines,AE,forced_labour,\n",   # the same identity
        False: "H-7,2020-02-02,Zoe Altra,1975-02-03,F,Philippines,AE,forced_labour,\n"}  # someone else


def _noise_free(text: str, pk: int) -> str:
    """The page without what differs between two requests or two databases: CSRF token, clock, primary key."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="-"', text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?)?", "<time>", text)
    return re.sub(rf'(submissions/|[Ss]ubmission |submission-|"submission": |report |/">){pk}(?!\d)', r"\1<pk>",
                  text)


def _contributor_view(client, run_cli, tmp_path: Path, people, steward) -> list[str]:
    """Everything the contributor reads about its own one-row upload, before and after a steward approves it."""
    guess = tmp_path / "guess.csv"
    guess.write_text(HEADER + GUESS)
    cli = run_cli("ingest", str(guess), "--org", "lakeside-helpline", "--mapping", str(DATA / "small.mapping.yml"),
                  "--json")
    assert cli.exit_code == 0, cli.output
    submission = Submission.objects.get(organisation__slug="lakeside-helpline")
    pk = submission.pk
    pages = [f"/intake/submissions/{pk}/", f"/intake/submissions/{pk}/report/",
             f"/intake/submissions/{pk}/report.csv", f"/intake/submissions/{pk}/report.json",
             f"/intake/submissions/{pk}/quarantine.csv", f"/intake/submissions/{pk}/progress.json",
             "/intake/submissions/", "/intake/organisations/lakeside-helpline/quality/", "/intake/mappings/"]
    seen = [cli.stdout]
    for phase in ("validated", "approved"):
        if phase == "approved":
            client.force_login(steward)
            assert client.post(f"/intake/submissions/{pk}/approve/").status_code == 302
        client.force_login(people["lakeside-helpline"])
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            seen.append(f"{phase} {url}\n" + response.content.decode())
    return [_noise_free(s, pk) for s in seen]


def _world(client, run_cli, tmp_path: Path, people, *, holds_same_person: bool) -> list[str]:
    held = tmp_path / "harbour.csv"
    held.write_text(HEADER + HELD[holds_same_person])
    result = run_cli("ingest", str(held), "--org", "harbour-light", "--mapping", str(DATA / "small.mapping.yml"),
                     "--approve", "--json")
    assert result.exit_code == 0, result.output
    return _contributor_view(client, run_cli, tmp_path, people, people["steward"])


def _reset() -> None:
    Victim.objects.all().delete()  # cascades to the duplicate flags
    Submission.objects.all().delete()


def test_a_contributor_cannot_tell_whether_another_organisation_holds_a_guessed_identity(client, run_cli, tmp_path):
    people = make_people()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    matching = _world(client, run_cli, tmp_path / "a", people, holds_same_person=True)
    # The experiment is live: the identity did match, and the steward can see it.
    assert Victim.objects.exclude(identity_hash=None).values("identity_hash").distinct().count() == 1
    client.force_login(people["steward"])
    assert "Harbour Light" in client.get("/intake/duplicates/").content.decode()
    _reset()
    other = _world(client, run_cli, tmp_path / "b", people, holds_same_person=False)
    assert Victim.objects.exclude(identity_hash=None).values("identity_hash").distinct().count() == 2
    differ = [a.splitlines()[0] for a, b in zip(matching, other, strict=True) if a != b]
    assert differ == [], f"the contributor can tell, from: {differ}"
    assert '"accepted": 1,' in matching[0]


def test_a_steward_sees_the_match_before_approval_and_the_flag_after(client, run_cli, tmp_path):
    people = make_people()
    for name, org, row, approve in (("held.csv", "harbour-light", HELD[True], ["--approve"]),
                                    ("guess.csv", "lakeside-helpline", GUESS, [])):
        (tmp_path / name).write_text(HEADER + row)
        result = run_cli("ingest", str(tmp_path / name), "--org", org, "--mapping", str(DATA / "small.mapping.yml"),
                         *approve, "--json")
        assert result.exit_code == 0, result.output
    pk = Submission.objects.get(organisation__slug="lakeside-helpline").pk
    client.force_login(people["steward"])
    page = client.get(f"/intake/submissions/{pk}/").content.decode()
    assert '<span id="cross-org-matches">1 record(s) share an identity hash' in page
    client.post(f"/intake/submissions/{pk}/approve/")
    page = client.get(f"/intake/submissions/{pk}/").content.decode()
    assert "1 possible same person across organisations</a> found at approval" in page and "cross-org-matches" not in page
