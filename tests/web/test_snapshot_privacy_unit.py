"""The release snapshot holds one row per person (issue 13, finding 4): the privacy unit of every release.

Before, it took every stored record: a victim registered by two organisations was two rows, so a release's
guarantee "per victim" was in fact per record, and one person could weigh twice in every count.
"""

from __future__ import annotations

import polars as pl
import pytest

from ctdc.web.cases.models import Victim
from ctdc.web.releases.selectors import release_snapshot
from ctdc.web.submissions.models import DuplicateFlag
from ctdc.web.submissions.services import duplicate_flag_decide
from tests.conftest import DATA
from tests.web.intake import make_people

pytestmark = pytest.mark.django_db

HEADER = "id,registered,name,born,gender,citizenship,exploited_in,exploitation,notes\n"
# One person as three organisations typed her, someone else, and a record with no birth date (no identity hash).
ANA = {"lakeside-helpline": "L-1,2021-06-01,Ana Testa,1990-05-06,F,PH,SA,forced_labour,\n",
       "harbour-light": "H-1,2020-02-02,TESTA Ana,1990-05-06,F,Philippines,AE,sexual_exploitation,\n",
       "open-roads": "O-1,2022-03-03,ana  testa,1990-05-06,,PHL,,,\n"}
BEA = "L-2,2021-07-01,Bea Prova,2001-01-01,F,PH,SA,forced_labour,\n"
NO_DATE = "L-3,2021-07-01,Cai Essai,,M,PH,SA,forced_labour,\n"


@pytest.fixture
def ingest(run_cli, tmp_path):
    make_people()

    def run(org: str, rows: str) -> None:
        path = tmp_path / f"{org}-{len(list(tmp_path.iterdir()))}.csv"
        path.write_text(HEADER + rows)
        result = run_cli("ingest", str(path), "--org", org, "--mapping", str(DATA / "small.mapping.yml"),
                         "--approve", "--json")
        assert result.exit_code == 0, result.output

    return run


def test_one_person_registered_by_three_organisations_is_one_row(ingest):
    ingest("lakeside-helpline", ANA["lakeside-helpline"] + BEA + NO_DATE)
    before, facts_before = release_snapshot()
    ingest("harbour-light", ANA["harbour-light"])
    ingest("open-roads", ANA["open-roads"])
    assert Victim.objects.count() == 5 and DuplicateFlag.objects.count() == 3
    frame, facts = release_snapshot()
    assert frame.height == 3
    # The neighbouring relation is add/remove one person with all their records: other organisations adding
    # records of a person already held change nothing, not even which of her records the release carries.
    assert frame.equals(before) and facts == facts_before == {"records_by_contributor_type": {"hotline": 3}}
    assert frame.filter(pl.col("registration_year") == 2021).height == 3


def test_a_dismissed_pair_is_two_people_and_a_confirmed_pair_one(ingest):
    ingest("lakeside-helpline", ANA["lakeside-helpline"])
    ingest("harbour-light", ANA["harbour-light"])
    flag = DuplicateFlag.objects.get()
    assert release_snapshot()[0].height == 1  # awaiting review: counted once
    duplicate_flag_decide(flag=flag, status=DuplicateFlag.Status.DISMISSED, note="different mothers' names")
    frame, facts = release_snapshot()
    assert frame.height == 2 and facts["records_by_contributor_type"] == {"case_management": 1, "hotline": 1}
    duplicate_flag_decide(flag=flag, status=DuplicateFlag.Status.CONFIRMED)
    assert release_snapshot()[0].height == 1


def test_a_dismissal_does_not_split_a_person_a_third_record_links(ingest):
    for org in ("lakeside-helpline", "harbour-light", "open-roads"):
        ingest(org, ANA[org])
    first = DuplicateFlag.objects.order_by("record_id", "other_id").first()
    duplicate_flag_decide(flag=first, status=DuplicateFlag.Status.DISMISSED)
    # The third record still matches both, unreviewed: it may be either of them, so the three stay one person.
    assert release_snapshot()[0].height == 1
    for flag in DuplicateFlag.objects.all():
        duplicate_flag_decide(flag=flag, status=DuplicateFlag.Status.DISMISSED)
    assert release_snapshot()[0].height == 3


def test_the_same_person_twice_in_one_organisation_is_one_row(ingest):
    ingest("lakeside-helpline", ANA["lakeside-helpline"] + ANA["lakeside-helpline"].replace("L-1", "L-9") + NO_DATE
           + NO_DATE.replace("L-3", "L-4"))
    assert Victim.objects.count() == 4
    # Same name, birth date and citizenship under two case numbers: one person. No birth date: no hash, each alone.
    assert release_snapshot()[0].height == 3
