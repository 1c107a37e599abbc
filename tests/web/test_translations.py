"""Every interface string of a translated app has a French and a Spanish translation (issue 15, item 8).

Two checks with gettext's own tools: the catalogues hold no untranslated or fuzzy entry, and extracting the strings
of the app's current templates and code again (what `make messages` does, on a copy) adds none, so a string added
to a page without its translations fails here rather than showing in English on a French page.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "ctdc" / "web"
APPS = sorted(p.parent.name for p in WEB.glob("*/locale"))
LANGS = ("fr", "es")


def _incomplete(po: Path) -> list[str]:
    """The msgids of `po` that are untranslated or fuzzy (msgattrib prints them; the header is not one)."""
    out = []
    for option in ("--untranslated", "--only-fuzzy"):
        text = subprocess.run(["msgattrib", option, "--no-wrap", str(po)], capture_output=True, text=True,
                              check=True).stdout
        out += [f"{option[2:]}: {line[6:]}" for line in text.splitlines()
                if line.startswith("msgid ") and line != 'msgid ""']
    return out


def test_the_translated_apps_are_the_portal_the_data_pages_contribute_and_intake():
    assert {"portal", "releases", "contribute", "submissions", "accounts", "worker"} <= set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_every_catalogue_entry_is_translated_and_none_is_fuzzy(app):
    for lang in LANGS:
        po = WEB / app / "locale" / lang / "LC_MESSAGES" / "django.po"
        assert _incomplete(po) == [], (app, lang)


@pytest.mark.parametrize("app", APPS)
def test_extracting_the_strings_again_finds_none_missing_from_the_catalogues(app, tmp_path):
    copy = tmp_path / app
    shutil.copytree(WEB / app, copy, ignore=shutil.ignore_patterns("__pycache__", "vendor", "*.mo"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ctdc.web.config.settings.test"}
    # django-admin, not `python -m django`: with the copy as the working directory, its selectors.py would shadow
    # the standard library's.
    subprocess.run([str(Path(sys.executable).parent / "django-admin"), "makemessages", *(f"-l{lang}" for lang in LANGS),
                    "--no-location", "--no-obsolete"], cwd=copy, env=env, check=True, capture_output=True)
    for lang in LANGS:
        assert _incomplete(copy / "locale" / lang / "LC_MESSAGES" / "django.po") == [], (app, lang)


def test_the_check_finds_an_untranslated_and_a_fuzzy_entry(tmp_path):
    """The check above can fail: a catalogue with one entry of each kind is reported."""
    po = tmp_path / "django.po"
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  'msgid "Map"\nmsgstr ""\n\n#, fuzzy\nmsgid "Flows"\nmsgstr "Carte"\n\n'
                  'msgid "Data"\nmsgstr "Données"\n', encoding="utf-8")
    assert _incomplete(po) == ['untranslated: "Map"', 'only-fuzzy: "Flows"']


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "upload", "steward", "flash"), [
    ("fr", "Envoyer un fichier", "Construire et publier des publications", "Choisissez une correspondance"),
    ("es", "Subir un archivo", "Construir y publicar versiones", "Elija una correspondencia"),
])
def test_the_intake_and_steward_pages_and_their_messages_speak_the_chosen_language(client, lang, upload, steward,
                                                                                      flash):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ctdc.web.accounts.models import Membership
    from ctdc.web.submissions.services import submission_upload
    from tests.conftest import DATA
    from tests.web.intake import make_people

    people = make_people()
    client.cookies["django_language"] = lang
    client.force_login(people["steward"])
    org = Membership.objects.get(user=people["lakeside-helpline"]).organisation
    submission = submission_upload(organisation=org, dataset="victims", mapping_choice="detect",
                                   upload=SimpleUploadedFile("cases.csv", (DATA / "ngo-simple.csv").read_bytes()))
    assert upload in client.get("/intake/submissions/new/").content.decode()
    assert steward in client.get("/data/steward/").content.decode()
    page = client.post(f"/intake/submissions/{submission.submission.pk}/reprocess/", follow=True).content.decode()
    assert flash in page
