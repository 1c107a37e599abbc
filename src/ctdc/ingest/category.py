"""Read free text that may name a country (a citizenship or repatriation category) without ever guessing.

Published aggregates break figures down by citizenship in the words of national questionnaires: `Albania`,
`Albanians`, `Albanie`, `VENEZOLANA`, `brésilien`, `(Oman)`, `Mumbai, India`, `Nationals`, `Africa`, `TOTAL`,
`Espa�a`. `resolve_category` reads one such text and says what it is and how it was read:

    how            status          meaning
    name           country         a country's name in English, French or Spanish (or a listed variant: UK, UAE)
    demonym        country         a demonym, singular or plural, masculine or feminine (demonyms.csv)
    decorated      country         a name inside parentheses or after a comma (`Domestic (Myanmar)`, `Mumbai, India`)
    encoding       country         text with U+FFFD (a lost encoding) matching one country's spelling, each U+FFFD
                                   standing for at most one letter
    listed         country         the source's own list of spellings (`<preset>.values.json`: typos, abbreviations)
    nationals      own_nationals   `Nationals`, `own country`...: the reporting country's own citizens
    subtotal       subtotal        `TOTAL`, `TOTAL POR AÑO`: a subtotal leaked into the categories
    unmapped       unmapped        anything else: regions, groups, placeholders, numbers, typos nobody listed, and
                                   any text that could be two countries (`Dominican`, `Congolese`)

A category is a country only when exactly one country fits; two fits or none leave it unmapped, and the text is
kept as published either way. Two-letter codes are never read from free text (`N/A` is not Namibia).

`demonyms.csv` (beside this module) lists each country's demonym in English, French and Spanish in its base form
(masculine singular; alternatives separated by `|`); the plural and feminine forms are derived by the regular
rules of each language (`_inflect`). A form that two countries share is dropped, never resolved.

>>> [resolve_category(t, "MX")[:2] for t in ["Albanians", "VENEZOLANA", "brésilien", "Nationals", "TOTAL POR AÑO"]]
[('AL', 'country'), ('VE', 'country'), ('BR', 'country'), ('MX', 'own_nationals'), (None, 'subtotal')]
>>> [resolve_category(t, "MX")[2] for t in ["Mumbai, India", "Espa\\ufffda", "Africa", "N/A", "Dominican"]]
['decorated', 'encoding', 'unmapped', 'unmapped', 'unmapped']
"""

from __future__ import annotations

import csv
import gettext
import re
from functools import cache
from importlib import resources

import pycountry

from ctdc.ingest.countries import _VARIANTS, normalise_key
from ctdc.standard import load_standard

_DAMAGE = "\ufffd"
# Texts meaning "the reporting country's own citizens".
_NATIONALS = {"nationals", "national", "owncountry", "owncountrynationals", "domestic", "nationaux", "nacionales",
              "citizens", "owncitizens", "domesticvictims"}


def _inflect(form: str, lang: str) -> set[str]:
    """Plural and feminine forms of a base demonym, by the language's regular rules (folded)."""
    f = normalise_key(form)
    out = {f}
    if lang == "en":
        out.add(f + "s")
    elif lang == "fr":
        stem = f
        if f.endswith(("ien", "een")):
            fem = f + "ne"
        elif f.endswith("e"):
            fem = f
        else:
            fem = f + "e"
        out |= {fem, fem + "s", stem if stem.endswith("s") else stem + "s"}
    elif lang == "es":
        if f.endswith("o"):
            out |= {f[:-1] + "a", f + "s", f[:-1] + "as"}
        elif f.endswith(("es", "an", "on", "ol")):
            out |= {f + "a", f + "es", f + "as"}
        elif f.endswith(("i", "u")):
            out |= {f + "es", f + "s"}
        else:
            out.add(f + "s")
    return out


@cache
def _alpha_3() -> dict[str, str]:
    """ISO alpha-3 -> alpha-2, for the standard's countries."""
    return {e.extra["alpha_3"]: e.code for e in load_standard().codelist("country").entries}


@cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(folded name -> alpha-2, folded demonym -> alpha-2), ambiguous forms removed."""
    names: dict[str, set[str]] = {}
    translators = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in ("fr", "es")]
    # The countries are the standard's (`country` code list); pycountry adds other spellings of each.
    for entry in load_standard().codelist("country").entries:
        c = pycountry.countries.get(alpha_2=entry.code)
        spelled = {entry.label, *(getattr(c, a) for a in ("name", "official_name", "common_name")
                                   if c is not None and hasattr(c, a))}
        for tr in translators:
            spelled |= {tr.gettext(n) for n in list(spelled)}
        # "Bolivia, Plurinational State of": the part before the comma is a name too.
        spelled |= {n.split(",")[0] for n in list(spelled)}
        for n in spelled:
            names.setdefault(normalise_key(n), set()).add(entry.code)
    for variant, code in _VARIANTS.items():
        names.setdefault(normalise_key(variant), set()).add(code)
    demonyms: dict[str, set[str]] = {}
    text = resources.files("ctdc.ingest").joinpath("demonyms.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        for lang in ("en", "fr", "es"):
            for form in row[lang].split("|"):
                for inflected in _inflect(form, lang):
                    demonyms.setdefault(inflected, set()).add(row["alpha_2"])
    unique = lambda table: {k: next(iter(v)) for k, v in table.items() if len(v) == 1 and k}  # noqa: E731
    return unique(names), unique(demonyms)


def _damaged_key(text: str) -> str:
    """Fold like `normalise_key`, but keep each U+FFFD as '?'."""
    return normalise_key(text.replace(_DAMAGE, "QQDAMAGEQQ")).replace("qqdamageqq", "?")


def _by_damaged(text: str) -> str | None:
    """The one country whose spelling the damaged text matches, each U+FFFD standing for at most one letter."""
    key = _damaged_key(text)
    if key.replace("?", "") == "":
        return None
    pattern = re.compile("^" + "".join("[a-z0-9]?" if ch == "?" else re.escape(ch) for ch in key) + "$")
    names, demonyms = _tables()
    found = {code for table in (names, demonyms) for spelled, code in table.items() if pattern.match(spelled)}
    return found.pop() if len(found) == 1 else None


def _plain(text: str, listed: dict[str, str | None]) -> tuple[str | None, str] | None:
    """(code, how) for a text that is a listed spelling, a name or a demonym as a whole; None otherwise."""
    key = normalise_key(text)
    if not key:
        return None
    if key in listed:
        return listed[key], "listed"
    names, demonyms = _tables()
    if key in names:
        return names[key], "name"
    if key in demonyms:
        return demonyms[key], "demonym"
    # Three capital letters alone are an ISO alpha-3 code (never two: `NA`, `IN` and `NO` are words too).
    if re.fullmatch(r"[A-Z]{3}", text.strip()) and (code := _alpha_3().get(text.strip())):
        return code, "name"
    return None


def resolve_category(text: str | None, reporting: str | None,
                     listed: dict[str, str | None] | None = None) -> tuple[str | None, str, str]:
    """(alpha-2 or None, status, how) for one category text; see the module docstring.

    `reporting` is the reporting country's alpha-2 (what `Nationals` means); `listed` maps folded spellings to a
    code (or None: "known not to be a country") and wins over every rule.
    """
    listed = listed or {}
    if text is None or not text.strip():
        return None, "unmapped", "unmapped"
    key = normalise_key(text)
    if key in listed:
        code = listed[key]
        return code, ("country" if code else "unmapped"), "listed" if code else "unmapped"
    if key.startswith("total"):
        return None, "subtotal", "subtotal"
    if key in _NATIONALS:
        return (reporting, "own_nationals", "nationals") if reporting else (None, "unmapped", "unmapped")
    if _DAMAGE in text:
        code = _by_damaged(text)
        return (code, "country", "encoding") if code else (None, "unmapped", "unmapped")
    hit = _plain(text, listed)
    if hit:
        return hit[0], "country", hit[1]
    # Decorated: the text inside parentheses, the text around them, each comma-separated part. Exactly one
    # country among them, or none is taken.
    parts = re.findall(r"\(([^)]*)\)", text) + [re.sub(r"\([^)]*\)", " ", text)] + text.split(",")
    found = {h[0] for p in parts if p.strip() and p.strip() != text.strip() and (h := _plain(p, listed))}
    if len(found) == 1:
        code = found.pop()
        if normalise_key(code or "") and code in load_standard().codelist("country"):
            return code, "country", "decorated"
    if any(normalise_key(p) in _NATIONALS for p in parts) and reporting and not found:
        return reporting, "own_nationals", "nationals"
    return None, "unmapped", "unmapped"
