"""Generalization hierarchies of quasi-identifiers: how a value moves up one level (age -> age band -> minor/adult).

A field's `hierarchy` lists its levels finest first (datasets/*.yaml); this module computes the value of a
coarser level from a finer one, using the code lists as the data (age bands' min/max, each band's `majority`,
each country's M49 sub-region and region, each period's years). The privacy engine climbs these levels until a
release is k-anonymous; going past the last level means suppression (None).

Levels and what a value looks like there:

    age                   whole years (int)              -> age_band, perpetrator_age_band, majority_status
    age_band              code of `age_band`             -> majority_status
    perpetrator_age_band  code of `perpetrator_age_band` (top)
    majority_status       minor | adult (top)
    country               ISO 3166-1 alpha-2             -> subregion, region
    subregion             M49 sub-region code ("035")    -> region
    region                M49 region code ("142")        -> ctdc_region
    ctdc_region           code of `ctdc_region` (top): the public CTDC grouping (Americas and Oceania as one)
    date                  ISO 8601 date string or date   -> year, period
    year                  int                            -> period
    period                code of `period` (top)
    month, gender         top: only suppression

>>> generalize(34, "age", "age_band")
'30-38'
>>> generalize(16, "age", "majority_status")
'minor'
>>> generalize("PH", "country", "subregion"), generalize("PH", "country", "region")
('035', '142')
>>> generalize("AU", "country", "ctdc_region")
'americas_oceania'
>>> generalize("2021-03-04", "date", "period")
'2020-2024'
>>> generalize(None, "age", "age_band") is None
True
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ctdc.errors import CodebookError
from ctdc.standard.model import Field, Standard
from ctdc.standard.rules import majority_of_age, majority_of_band
from ctdc.standard.schema import load_standard

# level -> the levels directly above it (a value can skip levels by chaining through these)
PARENTS: dict[str, tuple[str, ...]] = {
    "age": ("age_band", "perpetrator_age_band", "majority_status"),
    "age_band": ("majority_status",),
    "country": ("subregion",),
    "subregion": ("region",),
    "region": ("ctdc_region",),
    "date": ("year",),
    "year": ("period",),
}


def _band(standard: Standard, codelist: str, number: int | float) -> str | None:
    for entry in standard.codelist(codelist).entries:
        if entry.extra["min"] <= number <= entry.extra.get("max", float("inf")):
            return entry.code
    return None


def _step(value: Any, level: str, to: str, std: Standard) -> Any:
    """Move `value` from `level` to the adjacent coarser level `to`."""
    if (level, to) in (("age", "age_band"), ("age", "perpetrator_age_band")):
        return _band(std, to, int(value))
    if (level, to) == ("age", "majority_status"):
        return majority_of_age(value, std)
    if (level, to) == ("age_band", "majority_status"):
        return majority_of_band(value, std)
    if (level, to) == ("country", "subregion"):
        return std.codelist("country").entry(value).extra["subregion"] or None
    if (level, to) == ("subregion", "region"):
        return std.codelist("un_m49_subregion").entry(value).extra["region"]
    if (level, to) == ("region", "ctdc_region"):
        return next((e.code for e in std.codelist("ctdc_region").entries if value in e.extra["m49"]), None)
    if (level, to) == ("date", "year"):
        return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])).year
    if (level, to) == ("year", "period"):
        return _band(std, "period", int(value))
    raise CodebookError(f"No generalization step from {level} to {to}.", {"from": level, "to": to})


def _path(level: str, to: str) -> list[str] | None:
    if level == to:
        return [level]
    for parent in PARENTS.get(level, ()):
        rest = _path(parent, to)
        if rest is not None:
            return [level, *rest]
    return None


def generalize(value: Any, level: str, to: str, *, standard: Standard | None = None) -> Any:
    """Generalize `value`, given at `level`, to the coarser level `to`. None (not recorded) stays None.

    Raises CodebookError when `to` is not above `level` (e.g. region -> country).
    """
    path = _path(level, to)
    if path is None:
        raise CodebookError(f"Level {to!r} is not above {level!r}.", {"from": level, "to": to})
    std = standard or load_standard()
    for finer, coarser in zip(path, path[1:], strict=False):
        if value is None or value == "":
            return None
        value = _step(value, finer, coarser, std)
    return value


def generalize_field(field: Field, value: Any, to: str, *, standard: Standard | None = None) -> Any:
    """Generalize a value of `field` to one of the levels of the field's own hierarchy.

    >>> std = load_standard()
    >>> generalize_field(std.dataset("victims").field("age"), 7, "majority_status")
    'minor'
    """
    if to not in field.hierarchy:
        raise CodebookError(
            f"Field {field.name} has no level {to!r}; its hierarchy is {list(field.hierarchy)}.",
            {"field": field.name, "to": to},
        )
    return generalize(value, field.hierarchy[0], to, standard=standard)
