"""A blank is a missing value, not an error: records without a registration year, age or gender go into the
central repository with the field missing, and the report counts the blanks (issue 14, item 4)."""

from __future__ import annotations

import json

import pytest

from ctdc.web.accounts.services import organisation_create
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.selectors import quality_for
from tests.ingest.test_ctdc_public import _public_file_with_blanks

pytestmark = pytest.mark.django_db


def test_a_public_file_with_blank_years_ages_and_genders_is_approved_whole(run_cli, tmp_path):
    organisation, _ = organisation_create(slug="open-roads", name="Open Roads", kind="case_management")
    frame = _public_file_with_blanks(tmp_path / "public.csv")
    result = run_cli("ingest", str(tmp_path / "public.csv"), "--org", "open-roads", "--preset", "ctdc-public",
                     "--approve", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["rows_read"], out["accepted"], out["quarantined"], out["status"]) == (400, 400, 0, "approved")
    assert out["blanks_by_column"]["yearOfRegistration"] == 58 and out["blanks_by_column"]["ageBroad"] == 80
    stored = Victim.objects.filter(organisation=organisation)
    assert stored.count() == 400
    assert stored.filter(registration_year__isnull=True).count() == 58
    assert stored.filter(age_band__isnull=True).count() == 80
    assert stored.filter(gender__isnull=True).count() == out["blanks_by_column"]["gender"] > 0
    assert Submission.objects.get().stats["blanks_by_column"]["gender"] == out["blanks_by_column"]["gender"]
    # The steward's completeness page lists the records without a year as their own row, last.
    quality = quality_for(organisation=organisation)
    assert quality["without_year"] == 58 and quality["years"][-1]["year"] is None
    assert quality["first_year"] == frame["registration_year"].min()


def test_the_text_output_names_the_blank_cells(run_cli, tmp_path):
    organisation_create(slug="open-roads", name="Open Roads", kind="case_management")
    _public_file_with_blanks(tmp_path / "public.csv")
    result = run_cli("ingest", str(tmp_path / "public.csv"), "--org", "open-roads", "--preset", "ctdc-public")
    assert result.exit_code == 0, result.output
    assert "400 accepted, 0 quarantined" in result.output
    assert "Blank cells (accepted as missing): " in result.output and "yearOfRegistration 58" in result.output
