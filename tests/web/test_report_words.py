"""The per-row problems of a validation report speak the reader's language (issue 14, item 6).

Every code of the registry (`ctdc.ingest.problems`) has a message, a title, and every fixed phrase of what a rule
expected has words, in French and in Spanish, saying what the registry's English says; the report page shows a
French or Spanish reader the rows' problems in their language, while report.json stays English.
"""

from __future__ import annotations

import html
import json
import re
import string

import pytest
from django.utils import translation

from ctdc.ingest import problems as P
from ctdc.ingest.mapping import load_mapping
from ctdc.web.submissions.report_words import MESSAGES, NOTE_MESSAGES, PHRASES, TITLES, expected_for_people
from tests.conftest import DATA


def _as_percent(template: str) -> str:
    """The registry's `{name}` template with Django's `%(name)s` placeholders."""
    return "".join(text.replace("%", "%%") + (f"%({name})s" if name else "")
                   for text, name, _spec, _conv in string.Formatter().parse(template))


def test_every_registry_code_has_words_that_say_what_the_registry_says():
    assert set(MESSAGES) == set(P.PROBLEMS) == set(TITLES)
    with translation.override("en"):
        for code, t in P.PROBLEMS.items():
            assert str(MESSAGES[code]) == _as_percent(t.message), code
            assert str(TITLES[code]) == t.title, code
        assert set(PHRASES) == set(P.EXPECTED)
        assert all(str(words) == phrase for phrase, words in PHRASES.items())
        # The file-level notes too: every note code has words saying what the registry's English note says.
        assert set(NOTE_MESSAGES) == set(P.NOTES)
        for code, template in P.NOTES.items():
            assert str(NOTE_MESSAGES[code]) == _as_percent(template), code


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_every_registry_code_and_phrase_is_translated(lang):
    strings = [*MESSAGES.values(), *TITLES.values(), *PHRASES.values(), *NOTE_MESSAGES.values()]
    with translation.override("en"):
        english = [str(s) for s in strings]
    with translation.override(lang):
        translated = [str(s) for s in strings]
    untranslated = [e for e, t in zip(english, translated, strict=True) if e == t]
    assert untranslated == [], lang
    # The translation keeps every placeholder of the English (a missing one would fail at render time).
    for e, t in zip(english, translated, strict=True):
        assert sorted(re.findall(r"%\((\w+)\)s", e)) == sorted(re.findall(r"%\((\w+)\)s", t)), (lang, e)


@pytest.mark.parametrize(("expected", "fr", "es"), [
    ("0 to 110 years", "0 à 110 ans", "0 a 110 años"),
    ("1900 to 2026", "1900 à 2026", "1900 a 2026"),
    ("0 to any", "0 ou plus", "0 o más"),
    ("one of female, male", "l'une des valeurs female, male", "uno de female, male"),
    (P.WHOLE_NUMBER, "un nombre entier", "un número entero"),
    ("0-8 and 9-17 are minors", "0-8 et 9-17 sont des mineurs", "0-8 y 9-17 son menores"),
    ("'<5' = 1 to 4", "'<5' = 1 à 4", "'<5' = 1 a 4"),
    ("victims", "victimes", "víctimas"),
    ("DD/MM/YYYY", "DD/MM/YYYY", "DD/MM/YYYY"),  # data: kept as it is
])
def test_what_a_rule_expected_is_said_in_the_reader_words(expected, fr, es):
    for lang, words in (("fr", fr), ("es", es)):
        with translation.override(lang):
            assert expected_for_people(expected) == words


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "date", "country", "duplicate"), [
    ("fr", "La valeur (non affichée : elle pourrait identifier quelqu'un) n'est pas une date valide. Attendu : "
           "AAAA-MM-JJ ou JJ/MM/AAAA.", "'Atlantis' n'est pas un pays que nous reconnaissons.",
     "Cet identifiant d'enregistrement figure déjà à la ligne 2 du fichier"),
    ("es", "El valor (no se muestra: podría identificar a alguien) no es una fecha válida. Se esperaba "
           "AAAA-MM-DD o DD/MM/AAAA.", "'Atlantis' no es un país que reconozcamos.",
     "Este identificador de registro ya apareció en la fila 2 del archivo"),
])
def test_the_report_page_shows_each_row_problem_in_the_reader_language(client, lang, date, country, duplicate):
    from ctdc.web.accounts.models import Membership
    from ctdc.web.submissions.services import submission_ingest
    from tests.web.intake import make_people

    people = make_people()
    org = Membership.objects.get(user=people["lakeside-helpline"]).organisation
    s = submission_ingest(organisation=org, path=DATA / "problems.csv",
                          spec=load_mapping(DATA / "small.mapping.yml")).submission
    assert s.problems.filter(expected__isnull=True).count() == 0
    client.force_login(people["steward"])
    client.cookies["django_language"] = lang
    page = html.unescape(client.get(f"/intake/submissions/{s.pk}/report/").content.decode())
    for words in (date, country, duplicate):
        assert words in page, words
    assert "is not a valid date" not in page
    # report.json is the machine-readable report: English, as the pipeline wrote it.
    body = json.loads(client.get(f"/intake/submissions/{s.pk}/report.json").content)
    assert "The value (not shown: it could identify someone) is not a valid date. Expected YYYY-MM-DD or " \
           "DD/MM/YYYY." in [e["message"] for e in body["errors"]]
    assert all("expected" not in e for e in body["errors"])


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "region", "linked"), [
    ("fr", "Les lieux sont donnés en régions de l'ONU", "aucun enregistrement de « auteurs » n'a été créé pour elles"),
    ("es", "Los lugares se dan como regiones de la ONU", "no se creó ningún registro de «autores» para ellas"),
])
def test_the_submission_page_shows_the_file_notes_in_the_reader_language(client, lang, region, linked):
    from ctdc.ingest.mapping import load_preset
    from ctdc.web.accounts.models import Membership
    from ctdc.web.submissions.services import submission_ingest
    from tests.web.intake import make_people

    people = make_people()
    org = Membership.objects.get(user=people["lakeside-helpline"]).organisation
    s = submission_ingest(organisation=org, path=DATA / "ctdc-vp-quirks.csv", spec=load_preset("ctdc-vp")).submission
    assert {n["code"] for n in s.stats["notes"]} == {"region-only", "no-linked-record"}
    client.force_login(people["steward"])
    client.cookies["django_language"] = lang
    page = html.unescape(client.get(f"/intake/submissions/{s.pk}/").content.decode())
    notes = page[page.find("file-notes"):][:1500]
    assert region in notes and linked in notes, notes
    assert "Places are given as UN regions" not in page
    # The stored note, what the CLI prints and report.json carry, stays English.
    assert any(n["message"].startswith("Places are given as UN regions") for n in s.stats["notes"])
