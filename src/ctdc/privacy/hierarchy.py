"""Generalization hierarchies: how a quasi-identifier's values are coarsened, level by level.

NOTE: pure Python; no Django.

A hierarchy is data: a column name and a list of level mappings, finest first. Level 1 maps each original value
to its level-1 value; level 2 maps each level-1 value to its level-2 value; and so on. Above the last mapping
there is always one more level, full suppression (`*`), so every hierarchy can reach k.

    Hierarchy("age", [{"7": "0-8", "19": "18-20", ...}, {"0-8": "minor", "18-20": "adult", ...}],
              names=["age", "age_band", "majority_status"])

The standard (`ctdc.standard`, `victims.yaml`) names the levels of each quasi-identifier; the builders below
make the mappings for the ones that are computed rather than listed (age, age band, year).

>>> h = year_hierarchy(2010, 2014, width=5)
>>> h.generalize("2012", 1), h.generalize("2012", 2), h.n_levels
('2010-2014', '*', 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ctdc.errors import PrivacyError
from ctdc.standard.rules import age_bands, age_bounds, majority_of_band

SUPPRESSED = "*"


@dataclass(frozen=True)
class Hierarchy:
    """The generalization levels of one column (level 0 = original values, last level = `*`)."""

    column: str
    levels: tuple[Mapping[str, str], ...]
    names: tuple[str, ...] = ()

    def __init__(self, column: str, levels: Sequence[Mapping[str, str]], names: Sequence[str] = ()) -> None:
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "levels", tuple({str(k): str(v) for k, v in m.items()} for m in levels))
        default = (column, *(f"level_{i + 1}" for i in range(len(levels))))
        names_t = tuple(names) if names else default
        if len(names_t) == len(levels) + 1:
            names_t = (*names_t, "suppressed")
        object.__setattr__(self, "names", names_t)
        for i in range(1, len(self.levels)):
            unmapped = set(self.levels[i - 1].values()) - set(self.levels[i])
            if unmapped:
                raise PrivacyError(
                    f"Hierarchy of {column!r}: level {i + 1} does not map {len(unmapped)} level-{i} values.",
                    {"column": column, "level": i + 1, "values": sorted(unmapped)[:5]},
                )

    @property
    def n_levels(self) -> int:
        """Number of levels including the original values and full suppression."""
        return len(self.levels) + 2

    def generalize(self, value: str, level: int) -> str:
        """The value of `value` at `level` (0 = itself, `n_levels - 1` = `*`)."""
        if level >= self.n_levels - 1:
            return SUPPRESSED
        out = value
        for m in self.levels[:level]:
            if out not in m:
                raise PrivacyError(
                    f"Hierarchy of {self.column!r} has no generalization for one of its values at level {level}.",
                    {"column": self.column, "level": level, "value": str(value)[:20]},
                )
            out = m[out]
        return out


def identity_hierarchy(column: str) -> Hierarchy:
    """A column that can only be kept or suppressed."""
    return Hierarchy(column, [])


def age_hierarchy(column: str = "age", max_age: int | None = None) -> Hierarchy:
    """Age in years -> CTDC age band -> minor/adult (bands from the standard's `age_band` code list; ages up to the
    `age` field's own bound unless `max_age` says otherwise).

    >>> age_hierarchy().generalize("19", 2)
    'adult'
    """
    bands = _age_bands()
    to_band = {}
    for age in range(0, (max_age if max_age is not None else age_bounds()[1]) + 1):
        for code, lo, hi in bands:
            if lo <= age <= hi:
                to_band[str(age)] = code
    return Hierarchy(
        column, [to_band, _band_to_majority(bands)], names=[column, "age_band", "majority_status"]
    )


def age_band_hierarchy(column: str = "age_band") -> Hierarchy:
    """CTDC age band -> minor/adult.

    >>> age_band_hierarchy().generalize("9-17", 1)
    'minor'
    """
    return Hierarchy(column, [_band_to_majority(_age_bands())], names=[column, "majority_status"])


def year_hierarchy(first: int, last: int, width: int = 5, column: str = "registration_year") -> Hierarchy:
    """Year -> period of `width` years starting at `first`."""
    to_period = {}
    for year in range(first, last + 1):
        start = first + ((year - first) // width) * width
        to_period[str(year)] = f"{start}-{start + width - 1}"
    return Hierarchy(column, [to_period], names=[column, "period"])


def _age_bands() -> list[tuple[str, int, int]]:
    """The CTDC age bands as (code, min, max), from the standard's `age_band` code list."""
    return age_bands()


def _band_to_majority(bands: list[tuple[str, int, int]]) -> dict[str, str]:
    """Each band's majority status, as the standard's code list gives it."""
    return {code: majority_of_band(code) for code, _lo, _hi in bands}
