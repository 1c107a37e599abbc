"""The CLI and the web store uploads and choose mappings through the same services (issue 14, item 6): the same
file is the same submission whichever way it came, and a mapping choice means the same mapping to both."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ctdc.checksums import sha256_file
from ctdc.ingest.mapping import load_mapping, load_preset
from ctdc.web.accounts.models import Membership
from ctdc.web.submissions.services import mapping_resolve, mapping_save, submission_ingest, submission_upload
from tests.conftest import DATA
from tests.web.intake import make_people

pytestmark = pytest.mark.django_db


def _org():
    people = make_people()
    return Membership.objects.get(user=people["lakeside-helpline"]).organisation


def test_a_file_sent_from_the_cli_then_uploaded_on_the_web_is_one_submission():
    org = _org()
    spec = load_mapping(DATA / "small.mapping.yml")
    first = submission_ingest(organisation=org, path=DATA / "problems.csv", spec=spec)
    again = submission_upload(organisation=org, dataset="victims", mapping_choice="detect",
                              upload=SimpleUploadedFile("other-name.csv", (DATA / "problems.csv").read_bytes()))
    assert first.created and not again.created
    assert again.submission.pk == first.submission.pk
    assert first.submission.sha256 == sha256_file(DATA / "problems.csv")


def test_a_mapping_choice_means_the_same_mapping_to_the_cli_and_the_web_task():
    org = _org()
    text = (DATA / "small.mapping.yml").read_text()
    saved, _ = mapping_save(organisation=org, name="hotline", text=text)
    path = DATA / "ctdc-public-synthetic.csv"
    by_saved, version = mapping_resolve(organisation=org, path=path, choice="mapping:hotline")
    assert (by_saved.version_hash, version) == (saved.version_hash, saved)
    assert mapping_resolve(organisation=org, path=path, choice="preset:htcds")[0].text == load_preset("htcds").text
    assert mapping_resolve(organisation=org, path=path, choice="detect")[0].name == "ctdc-public"
    # A mapping file given to the CLI, saved on the way: read as the saved version.
    spec, kept = mapping_resolve(organisation=org, path=path, text=text, source="small.mapping.yml",
                                 save_as="from-cli")
    assert kept.name == "from-cli" and spec.version_hash == by_saved.version_hash
