"""Simulated (never real) victim tables for tests, benchmarks and docs of the privacy engine.

NOTE: pure numpy/polars; no Django. Simulated data only: nothing here is derived from real cases.

Until the project simulator (`ctdc.fixtures`) exists, the privacy engine needs correlated categorical data with
realistic skew: a latent "profile" per record (e.g. adult women in sexual exploitation from one region, men in
forced labour in construction) drives every attribute, plus independent noise and some missing cells.

- `simulate_victims(n, seed, columns=25)`: columns named after the `victims` standard's coded fields (age band,
  gender, citizenship, exploitation types, means of control, ...), widened with numbered indicator columns up
  to `columns`.
- `simulate_ctdc_public(n, seed)`: a table in the public CTDC global dataset layout (camelCase names, `0/1`
  flag columns, `-99` style blanks written as empty cells).

>>> df = simulate_victims(100, seed=1)
>>> df.shape
(100, 25)
>>> df.equals(simulate_victims(100, seed=1))
True
"""

from __future__ import annotations

import numpy as np
import polars as pl

_COUNTRIES = ["PH", "ID", "VN", "KH", "TH", "MM", "UA", "MD", "RO", "BG", "NG", "GH", "ET", "US", "MX", "HN",
              "GT", "CO", "BD", "NP"]  # fmt: skip
# UN M49 sub-regions and regions of the simulated countries (for generalization hierarchies in tests/benchmarks).
COUNTRY_SUBREGION = {
    "PH": "South-eastern Asia", "ID": "South-eastern Asia", "VN": "South-eastern Asia", "KH": "South-eastern Asia",
    "TH": "South-eastern Asia", "MM": "South-eastern Asia", "UA": "Eastern Europe", "MD": "Eastern Europe",
    "RO": "Eastern Europe", "BG": "Eastern Europe", "NG": "Western Africa", "GH": "Western Africa",
    "ET": "Eastern Africa", "US": "Northern America", "MX": "Central America", "HN": "Central America",
    "GT": "Central America", "CO": "South America", "BD": "Southern Asia", "NP": "Southern Asia",
}  # fmt: skip
SUBREGION_REGION = {
    "South-eastern Asia": "Asia", "Southern Asia": "Asia", "Eastern Europe": "Europe", "Western Africa": "Africa",
    "Eastern Africa": "Africa", "Northern America": "Americas", "Central America": "Americas",
    "South America": "Americas",
}  # fmt: skip
_AGE_BANDS = ["0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+"]
_BASE = {
    "gender": ["female", "male", "transgender"],
    "age_band": _AGE_BANDS,
    "citizenship": _COUNTRIES,
    "country_of_exploitation": _COUNTRIES,
    "registration_year": [str(y) for y in range(2010, 2023)],
    "data_source": ["case_management", "hotline"],
    "exploitation_type": ["sexual", "forced_labour", "forced_marriage", "other"],
    "labour_sector": [
        "agriculture",
        "construction",
        "domestic_work",
        "fishing",
        "manufacturing",
        "hospitality",
    ],
    "means_of_control": ["debt", "threats", "violence", "documents_taken", "isolation", "drugs"],
    "recruiter_relation": ["intimate_partner", "friend", "family", "other"],
    "trafficking_duration": ["under_1_month", "1_to_6_months", "6_to_12_months", "over_1_year"],
    "is_abduction": ["0", "1"],
}


def _draw(rng: np.random.Generator, profile: np.ndarray, n_values: int, concentration: float) -> np.ndarray:
    """One categorical column whose distribution depends on each record's latent profile."""
    n_profiles = int(profile.max()) + 1
    probs = rng.dirichlet(np.full(n_values, concentration), size=n_profiles)
    cum = probs.cumsum(axis=1)
    u = rng.random(len(profile))
    return np.minimum((u[:, None] > cum[profile]).sum(axis=1), n_values - 1)


def simulate_victims(n: int, seed: int = 0, columns: int = 25, missing_rate: float = 0.03) -> pl.DataFrame:
    """A correlated categorical table of `n` simulated victims with `columns` columns (at least 12)."""
    rng = np.random.default_rng(seed)
    profile = rng.choice(8, size=n, p=rng.dirichlet(np.full(8, 2.0)))
    out: dict[str, np.ndarray] = {}
    names = list(_BASE)
    for name in names[:columns]:
        values = np.array(_BASE[name], dtype=object)
        out[name] = values[_draw(rng, profile, len(values), 0.6)]
    for i in range(columns - len(names)):
        # Indicator-like extra attributes (yes/no/unknown), correlated through the same profile.
        values = np.array(["no", "yes", "unknown"], dtype=object)
        out[f"indicator_{i + 1:02d}"] = values[_draw(rng, profile, 3, 0.8)]
    df = pl.DataFrame({k: pl.Series(k, v.tolist(), dtype=pl.String) for k, v in out.items()})
    if missing_rate > 0:
        mask = rng.random((n, df.width)) < missing_rate
        df = df.with_columns(
            pl.when(pl.Series(mask[:, j])).then(None).otherwise(pl.col(c)).alias(c)
            for j, c in enumerate(df.columns)
        )
    return df


_PUBLIC_FLAGS = [
    "meansOfControlDebtBondage", "meansOfControlTakesEarnings", "meansOfControlThreats",
    "meansOfControlPsychologicalAbuse", "meansOfControlPhysicalAbuse", "meansOfControlSexualAbuse",
    "meansOfControlFalsePromises", "meansOfControlRestrictsMovement", "meansOfControlWithholdsDocuments",
    "isForcedLabour", "isSexualExploit", "isOtherExploit", "typeOfLabourAgriculture", "typeOfLabourConstruction",
    "typeOfLabourDomesticWork", "typeOfSexProstitution", "isAbduction", "recruiterRelationFriend",
    "recruiterRelationFamily", "recruiterRelationIntimatePartner",
]  # fmt: skip


def simulate_ctdc_public(n: int, seed: int = 0) -> pl.DataFrame:
    """A simulated table in the public CTDC global-dataset layout: 7 coded columns and 20 `0/1` flags.

    >>> simulate_ctdc_public(10, seed=2).columns[:3]
    ['yearOfRegistration', 'Datasource', 'gender']
    """
    rng = np.random.default_rng(seed)
    profile = rng.choice(6, size=n, p=rng.dirichlet(np.full(6, 2.0)))
    coded = {
        "yearOfRegistration": [str(y) for y in range(2002, 2022)],
        "Datasource": ["Case Management", "IOM", "Hotline"],
        "gender": ["Female", "Male"],
        "ageBroad": ["0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+"],
        "majorityStatus": ["Adult", "Minor"],
        "citizenship": _COUNTRIES,
        "CountryOfExploitation": _COUNTRIES,
    }
    out: dict[str, pl.Series] = {}
    for name, values in coded.items():
        arr = np.array(values, dtype=object)[_draw(rng, profile, len(values), 0.5)]
        # The public file leaves many demographics blank.
        arr[rng.random(n) < 0.15] = None
        out[name] = pl.Series(name, arr.tolist(), dtype=pl.String)
    for name in _PUBLIC_FLAGS:
        arr = np.array(["0", "1"], dtype=object)[_draw(rng, profile, 2, 0.4)]
        arr[rng.random(n) < 0.05] = None
        out[name] = pl.Series(name, arr.tolist(), dtype=pl.String)
    return pl.DataFrame(out)
