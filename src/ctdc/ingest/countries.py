"""Country normalisation: any common spelling of a country to its ISO 3166-1 alpha-2 code.

Accepted forms, for every country of the standard's `country` code list: alpha-2, alpha-3, numeric code, its
names in English, French and Spanish, official and common names (from pycountry's ISO 3166 translations), and a
short list of variants seen in case files (`_VARIANTS`). Matching ignores case, accents, punctuation and spacing.

>>> lookup = country_lookup()
>>> [lookup[normalise_key(s)] for s in ["Philippines", "PHL", "ph", "Côte d'Ivoire", "Allemagne", "Alemania", "UK"]]
['PH', 'PH', 'PH', 'CI', 'DE', 'DE', 'GB']
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache

import pycountry

from ctdc.standard import load_standard

# Variants that are neither ISO names nor their translations but common in case files.
_VARIANTS: dict[str, str] = {
    "UK": "GB", "England": "GB", "Great Britain": "GB", "Britain": "GB", "Scotland": "GB", "Wales": "GB",
    "USA": "US", "United States": "US", "United States of America": "US", "America": "US", "Etats-Unis": "US",
    "Russia": "RU", "Russie": "RU", "Rusia": "RU", "Moldova": "MD", "Moldavie": "MD", "Vietnam": "VN",
    "Viet Nam": "VN", "Laos": "LA", "Lao": "LA", "Burma": "MM", "Ivory Coast": "CI", "Cote d Ivoire": "CI",
    "Turkey": "TR", "Turkiye": "TR", "Türkiye": "TR", "Syria": "SY", "Iran": "IR", "South Korea": "KR",
    "North Korea": "KP", "Korea": "KR", "Tanzania": "TZ", "Bolivia": "BO", "Venezuela": "VE", "Czech Republic": "CZ",
    "Congo DRC": "CD", "DRC": "CD", "DR Congo": "CD", "Democratic Republic of Congo": "CD", "Congo Brazzaville": "CG",
    "Macedonia": "MK", "Swaziland": "SZ", "Cape Verde": "CV", "Palestine": "PS", "Kosovo": "XK", "UAE": "AE",
    "Emirates": "AE", "KSA": "SA", "Holland": "NL", "Taiwan": "TW", "Brunei": "BN", "East Timor": "TL",
}
_LANGS = ("fr", "es")


def normalise_key(text: str) -> str:
    """Fold case, accents, punctuation and spacing: `"Côte d'Ivoire"` -> `"cotedivoire"`."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", folded)


@cache
def country_lookup() -> dict[str, str]:
    """Folded spelling -> alpha-2, for every accepted form (see module docstring).

    Which countries exist, and their names in English, French and Spanish, is the standard's `country` code list
    (one country table: `ctdc.standard.builtin`); pycountry adds only other spellings of the same countries
    (official and common names, the numeric code) and their translations.
    """
    table: dict[str, str] = {}
    translators = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in _LANGS]
    for entry in load_standard().codelist("country").entries:
        names = {entry.code, entry.extra["alpha_3"], entry.label, *entry.labels.values()}
        iso = pycountry.countries.get(alpha_2=entry.code)
        if iso is not None:
            names.add(iso.numeric)
            names.update(getattr(iso, attr) for attr in ("official_name", "common_name") if hasattr(iso, attr))
        for tr in translators:
            names.update(tr.gettext(n) for n in list(names))
        for n in names:
            table.setdefault(normalise_key(n), entry.code)
    for variant, code in _VARIANTS.items():
        table[normalise_key(variant)] = code
    return table


@cache
def country_name(code: str, lang: str = "en") -> str:
    """The name of an alpha-2 code in English, French or Spanish: the standard's label."""
    return load_standard().codelist("country").label_of(code, lang)
