"""Code lists built from authoritative packages and data files instead of hand-typed YAML.

- `country`: ISO 3166-1 alpha-2 from pycountry (249 codes) plus XK (Kosovo, a user-assigned code in wide use).
  French and Spanish names come from pycountry's own gettext catalogues (the Debian iso-codes translations).
  Each code carries its UN M49 area code, intermediate region, sub-region and region from `codelists/un_m49.csv`
  (UNSD M49; see `sources/build_un_m49.py` for how the file is made and cited).
- `currency`: ISO 4217 from pycountry, with the same gettext translations.

>>> c = country_codelist()
>>> c.label_of("CI", "fr"), c.entry("PH").extra["subregion"]
("Côte d'Ivoire", '035')
>>> currency_codelist().label_of("EUR", "es")
'Euro'
"""

from __future__ import annotations

import csv
import gettext
from functools import cache
from importlib import resources

import pycountry

from ctdc.standard.model import Code, CodeList

LANGUAGES = ("en", "fr", "es")
KOSOVO = {"en": "Kosovo", "fr": "Kosovo", "es": "Kosovo"}


@cache
def _translator(domain: str, lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _labels(domain: str, name: str) -> dict[str, str]:
    return {lang: _translator(domain, lang).gettext(name) for lang in LANGUAGES}


@cache
def un_m49_table() -> dict[str, dict[str, str]]:
    """Rows of `codelists/un_m49.csv` keyed by alpha-2 code."""
    text = resources.files("ctdc.standard").joinpath("codelists/un_m49.csv").read_text(encoding="utf-8")
    return {row["alpha_2"]: row for row in csv.DictReader(text.splitlines())}


def country_codelist() -> CodeList:
    """ISO 3166-1 alpha-2 from pycountry, plus XK (Kosovo), with M49 regions and en/fr/es names."""
    m49 = un_m49_table()
    entries = []
    for c in pycountry.countries:
        entries.append((c.alpha_2, c.name, c.alpha_3, _labels("iso3166-1", c.name)))
    entries.append(("XK", "Kosovo", "XKX", KOSOVO))
    codes = []
    for alpha_2, name, alpha_3, labels in sorted(entries):
        row = m49.get(alpha_2, {})
        extra = {
            "alpha_3": alpha_3,
            "m49": row.get("m49", ""),
            "intermediate_region": row.get("intermediate_region_code", ""),
            "subregion": row.get("subregion_code", ""),
            "region": row.get("region_code", ""),
        }
        codes.append(Code(alpha_2, name, extra, labels))
    return CodeList(
        "country",
        "Country (ISO 3166-1 alpha-2)",
        tuple(codes),
        {
            "en": "Country (ISO 3166-1 alpha-2)",
            "fr": "Pays (ISO 3166-1 alpha-2)",
            "es": "País (ISO 3166-1 alfa-2)",
        },
    )


def currency_codelist() -> CodeList:
    """ISO 4217 currencies from pycountry, with en/fr/es names."""
    codes = tuple(
        Code(c.alpha_3, c.name, {"numeric": c.numeric}, _labels("iso4217", c.name))
        for c in sorted(pycountry.currencies, key=lambda c: c.alpha_3)
    )
    return CodeList(
        "currency",
        "Currency (ISO 4217)",
        codes,
        {"en": "Currency (ISO 4217)", "fr": "Monnaie (ISO 4217)", "es": "Moneda (ISO 4217)"},
    )
