"""Names of the portal's dimensions and values in English, French or Spanish, from the codebook's translations."""

from __future__ import annotations

from functools import cache

from ctdc.standard import load_standard
from ctdc.web.portal.figures import DIMENSIONS

LANGUAGES = ("en", "fr", "es")


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


@cache
def dimension_label(dim: str, lang: str = "en") -> str:
    return load_standard().dataset("victims").field(dim).label_in(_lang(lang))


@cache
def value_label(dim: str, value: str, lang: str = "en") -> str:
    """The label of one value of a portal dimension (a year or a year span is its own label)."""
    std = load_standard()
    cl = std.dataset("victims").field(dim).codelist
    if cl is not None and value in cl:
        return cl.label_of(value, _lang(lang))
    # A k-anonymity release may generalize an age band to the majority status (its hierarchy's next level).
    majority = std.codelist("majority_status")
    if dim == "age_band" and value in majority:
        return majority.label_of(value, _lang(lang))
    return value


def dimension_labels(lang: str = "en") -> dict[str, str]:
    return {d: dimension_label(d, lang) for d in DIMENSIONS}
