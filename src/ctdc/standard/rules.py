"""The standard's domain rules about age, read from its code lists and fields, never from a table of our own.

- The age bands: the `age_band` code list (each code's `min` and `max`; `perpetrator_age_band` for perpetrators).
- The majority rule: each age band says whether it is a minor's or an adult's (`majority`); the age of majority
  is where the adult bands start. `majority_status` of an age and of a band both follow from it.
- The bounds of a possible age: the `age` field's `min` and `max` (the same in every dataset that has one).

Intake (`ctdc.ingest.derive`), the generalization hierarchies (`ctdc.standard.hierarchies`,
`ctdc.privacy.hierarchy`), the privacy engine's simulated tables and the simulator all ask here.

>>> age_of_majority(), minor_age_bands(), age_bounds()
(18, ['0-8', '9-17'], (0, 110))
>>> majority_of_age(17), majority_of_age(18), majority_of_band("9-17")
('minor', 'adult', 'minor')
"""

from __future__ import annotations

from ctdc.standard.model import Standard
from ctdc.standard.schema import load_standard


def _std(standard: Standard | None) -> Standard:
    return standard or load_standard()


def age_bands(codelist: str = "age_band", standard: Standard | None = None) -> list[tuple[str, int, int]]:
    """The bands of `codelist` as (code, min, max), in the code list's order."""
    return [(e.code, int(e.extra["min"]), int(e.extra["max"])) for e in _std(standard).codelist(codelist).entries]


def majority_of_band(code: str, standard: Standard | None = None) -> str:
    """'minor' or 'adult': the `majority` of an `age_band` code."""
    return _std(standard).codelist("age_band").entry(code).extra["majority"]


def minor_age_bands(standard: Standard | None = None) -> list[str]:
    """The `age_band` codes of minors."""
    return [e.code for e in _std(standard).codelist("age_band").entries if e.extra["majority"] == "minor"]


def age_of_majority(standard: Standard | None = None) -> int:
    """The first age of an adult: where the `age_band` bands whose `majority` is adult start."""
    return min(int(e.extra["min"]) for e in _std(standard).codelist("age_band").entries
               if e.extra["majority"] == "adult")


def majority_of_age(age: int, standard: Standard | None = None) -> str:
    return "minor" if int(age) < age_of_majority(standard) else "adult"


def age_bounds(standard: Standard | None = None) -> tuple[int, int]:
    """The youngest and oldest possible age: the `age` field's bounds (victims; perpetrators' are the same)."""
    f = _std(standard).dataset("victims").field("age")
    return int(f.min), int(f.max)
