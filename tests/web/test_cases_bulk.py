"""The bulk writer of approved records (`ctdc.web.cases.bulk`): what an approval does to records an organisation
sent before, on SQLite (insert, then update of the rows the insert skipped) and PostgreSQL (one upsert).
"""

from __future__ import annotations

import polars as pl
import pytest

from ctdc.web.accounts.services import organisation_create
from ctdc.web.cases.bulk import victims_upsert
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.services import _VICTIM_FIELDS

pytestmark = pytest.mark.django_db


def _records(ids: list[str], gender: list[str | None], citizenship: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({"record_id": ids, "source_row": list(range(2, 2 + len(ids))),
                         "identity_hash": [None] * len(ids), "registration_year": [2020] * len(ids),
                         "gender": gender, "citizenship": citizenship},
                        schema_overrides={"identity_hash": pl.String})


def _approve(org, name: str, records: pl.DataFrame) -> Submission:
    sub = Submission.objects.create(organisation=org, dataset="victims", filename=name, sha256=name * 64,
                                    size=1)
    written = victims_upsert(records=records, organisation_id=org.pk, submission_id=sub.pk, mapping_version=name,
                             fields=_VICTIM_FIELDS)
    assert written == records.height
    return sub


def test_a_record_sent_again_is_updated_in_place_and_keeps_its_random_key():
    org, _ = organisation_create(slug="open-roads", name="Open Roads")
    other, _ = organisation_create(slug="safe-harbour", name="Safe Harbour")
    _approve(org, "a", _records(["h1", "h2", "h3"], ["female", "male", None], ["FR", "DE", "IT"]))
    _approve(other, "b", _records(["h1"], ["male"], ["ES"]))  # the same hash at another organisation: its own
    keys = dict(Victim.objects.filter(organisation=org).values_list("record_id", "victim_id"))

    # h2 again with its gender changed and its citizenship now blank; h4 is new; h1 and h3 are not sent.
    second = _approve(org, "c", _records(["h2", "h4"], ["female", "male"], [None, "PT"]))

    rows = {v.record_id: v for v in Victim.objects.filter(organisation=org)}
    assert sorted(rows) == ["h1", "h2", "h3", "h4"]
    assert (rows["h2"].gender, rows["h2"].citizenship, rows["h2"].submission_id) == ("female", None, second.pk)
    assert (rows["h2"].mapping_version, rows["h2"].source_row) == ("c", 2)
    assert rows["h2"].victim_id == keys["h2"] and rows["h4"].victim_id not in keys.values()
    assert (rows["h1"].gender, rows["h1"].citizenship, rows["h1"].mapping_version) == ("female", "FR", "a")
    assert Victim.objects.get(organisation=other).citizenship == "ES"
    assert Victim.objects.values("victim_id").distinct().count() == Victim.objects.count() == 5
