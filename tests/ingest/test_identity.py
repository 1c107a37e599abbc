"""The keyed identity hash across scripts, and the record-id hash (issue 13, findings 4 and 8).

Before, the hash dropped every non-ASCII character: a Cyrillic, Arabic, Greek or Chinese name hashed to nothing
and the same person registered by two organisations was never flagged. Names here come from Faker's locales.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import polars as pl
import pytest
from anyascii import anyascii
from faker import Faker

from ctdc.ingest.identity import fold_names, identity_hash, record_id_hash
from ctdc.ingest.mapping import parse_mapping
from ctdc.ingest.pipeline import ingest_file

KEY = b"test-identity-key"
BORN = dt.date(1990, 1, 2)
# locale -> script; CJK names are written family name first and without a space.
LOCALES = {"ru_RU": "Cyrillic", "uk_UA": "Cyrillic", "ar_AA": "Arabic", "fa_IR": "Arabic", "el_GR": "Greek",
           "he_IL": "Hebrew", "hi_IN": "Devanagari", "zh_CN": "Han", "ja_JP": "Han", "ko_KR": "Hangul",
           "pl_PL": "Latin", "fr_FR": "Latin", "de_DE": "Latin", "vi_VN": "Latin"}
CJK = {"Han", "Hangul"}


def _hash(names: list[str], born=BORN, citizenship="XX") -> list[str | None]:
    n = len(names)
    return identity_hash(pl.Series(names, dtype=pl.String), pl.Series([born] * n),
                         pl.Series([citizenship] * n), KEY).to_list()


def _people(locale: str, n: int = 150) -> list[tuple[str, str]]:
    fake = Faker(locale)
    fake.seed_instance(13)
    people = {(fake.first_name(), fake.last_name()) for _ in range(n)}
    return sorted(people)


def _latin(name: str, script: str) -> str:
    """How another organisation might type the name in Latin letters: transliterated, upper case (a CJK name
    syllable by syllable, as pinyin or revised romanisation often splits it)."""
    name = unicodedata.normalize("NFC", name)
    if script in CJK:
        name = "".join(f" {c} " if unicodedata.name(c, "").startswith(("CJK", "HANGUL")) else c for c in name)
    if script == "Arabic":  # typed from the usual unvocalised spelling
        name = re.sub("[\u064B-\u065F\u0670]", "", name)
    return anyascii(name).upper()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_name_in_any_script_hashes_and_matches_its_other_spellings(locale):
    script = LOCALES[locale]
    people = _people(locale)
    sep = "" if script in CJK else " "
    written = [f"{last}{sep}{first}" if script in CJK else f"{first} {last}" for first, last in people]
    hashes = _hash(written)
    assert None not in hashes, f"{script} names must hash, not fold to nothing"
    variants = {
        "family name last, spaced": [f"{first} {last}" for first, last in people],
        "upper case, extra spaces": [f"  {last.upper()}   {first.upper()} " for first, last in people],
        "transliterated to Latin": [_latin(w, script) for w in written],
    }
    for what, names in variants.items():
        assert _hash(names) == hashes, f"{locale}: {what}"


@pytest.mark.parametrize("locale", LOCALES)
def test_different_names_do_not_match(locale):
    people = _people(locale)
    written = [f"{first} {last}" for first, last in people]
    hashes = _hash(written)
    folded = {tuple(sorted(f.split())) for f in fold_names(pl.Series(written)).to_list()}
    # Distinct folded names give distinct hashes; transliteration rarely folds two names alike (it drops tones).
    assert len(set(hashes)) == len(folded) >= 0.9 * len(people)
    # One letter changed, another birth date or another citizenship: another identity.
    first, last = people[0]
    assert _hash([f"{first} {last}x"]) != _hash([f"{first} {last}"])
    assert _hash([f"{first} {last}"], born=dt.date(1990, 1, 3)) != _hash([f"{first} {last}"])
    assert _hash([f"{first} {last}"], citizenship="YY") != _hash([f"{first} {last}"])


def test_hand_written_transliterations_and_marks_fold_alike():
    cases = [("Мария Иванова", "IVANOVA Mariya"), ("محمد عبد الله", "مُحَمَّد عَبْد الله"),
             ("Γιώργος Παπαδόπουλος", "ΠΑΠΑΔΟΠΟΥΛΟΣ ΓΙΩΡΓΟΣ"), ("王小明", "王 小明"), ("王小明", "Wang Xiao Ming"),
             ("Łukasz Zięcik", "LUKASZ ZIECIK"), ("José Núñez", "nunez jose"),
             ("Андрей Йовчев", unicodedata.normalize("NFD", "Андрей Йовчев")), ("Andrey Yovchev", "Андрей Йовчев"), ("Jürgen Groß", "Gross Jurgen")]
    for a, b in cases:
        assert _hash([a]) == _hash([b]) != [None], (a, b)
    assert _hash(["Мария Иванова"]) != _hash(["Мария Петрова"])
    assert _hash(["王小明"]) != _hash(["王大明"])


def test_the_pipeline_flags_a_cyrillic_name_and_its_latin_spelling_as_one_identity(tmp_path):
    spec = parse_mapping(
        "record_id: id\ncolumns:\n  registered: {field: registration_date}\n  name: {field: full_name}\n"
        "  born: {field: birth_date}\n  citizenship: {field: citizenship}\n")
    path = tmp_path / "cases.csv"
    path.write_text("id,registered,name,born,citizenship\n"
                    "1,2021-01-01,Мария Иванова,1990-01-02,UA\n2,2021-01-01,IVANOVA MARIYA,1990-01-02,Ukraine\n"
                    "3,2021-01-01,Мария Петрова,1990-01-02,UA\n", encoding="utf-8")
    hashes = ingest_file(path, spec, identity_key=KEY).records["identity_hash"].to_list()
    assert None not in hashes and hashes[0] == hashes[1] != hashes[2]


def test_record_id_hashes_are_keyed_per_organisation():
    ids = pl.Series(["A-1", "A-1", "A-2", None])
    mine = record_id_hash(ids, KEY, "org:1").to_list()
    assert mine[0] == mine[1] != mine[2] and mine[3] is None and len(mine[0]) == 64
    assert record_id_hash(ids, KEY, "org:2").to_list()[0] != mine[0]
    assert record_id_hash(ids, b"another-key", "org:1").to_list()[0] != mine[0]
