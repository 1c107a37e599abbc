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

from ctdc.standard.rules import age_bands

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
_AGE_BANDS = [code for code, _lo, _hi in age_bands()]  # the standard's, in its order
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


_FLAG_GROUPS = [
    _PUBLIC_FLAGS[0:9], _PUBLIC_FLAGS[9:12], _PUBLIC_FLAGS[12:15], _PUBLIC_FLAGS[15:16], _PUBLIC_FLAGS[16:17],
    _PUBLIC_FLAGS[17:20],
]  # fmt: skip
_CODED = {
    "yearOfRegistration": [str(y) for y in range(2002, 2022)],
    "Datasource": ["Case Management", "IOM", "Hotline"],
    "gender": ["Female", "Male"],
    "ageBroad": ["0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+"],
    "majorityStatus": ["Adult", "Minor"],
    "citizenship": _COUNTRIES,
    "CountryOfExploitation": _COUNTRIES,
}
# Share of rows per flag encoding ("0/1", "1/blank", "mixed") for each Datasource (Case Management, IOM,
# Hotline) and for rows whose source is blank: case files record 0s, hotlines mostly only what was said.
_ENCODING_BY_SOURCE = np.array([[0.7, 0.2, 0.1], [0.5, 0.35, 0.15], [0.2, 0.65, 0.15], [0.4, 0.45, 0.15]])


def simulate_ctdc_public(n: int, seed: int = 0, flags: str = "01") -> pl.DataFrame:
    """A simulated table in the public CTDC global-dataset layout: 7 coded columns and 20 flag columns.

    `flags="01"`: flags are `0`/`1` with 5 % blank cells at random. `flags="mixed"`: the published file's
    encodings, chosen per row by its data source (`../shared/reference/ctdc-public-format.md`): `0`/`1`
    throughout (2 % blank cells), `1`/blank where blank means "no", or a mix (each "no" blank or `0` at random);
    and 8 % of (row, flag group) pairs not recorded at all (the whole group blank). Blank is then information.

    >>> simulate_ctdc_public(10, seed=2).columns[:3]
    ['yearOfRegistration', 'Datasource', 'gender']
    >>> df = simulate_ctdc_public(2000, seed=2, flags="mixed")
    >>> sorted(df.get_column("isForcedLabour").unique().to_list(), key=str)
    ['0', '1', None]
    """
    rng = np.random.default_rng(seed)
    profile = rng.choice(6, size=n, p=rng.dirichlet(np.full(6, 2.0)))
    out: dict[str, pl.Series] = {}
    source = np.zeros(n, dtype=np.int64)
    for name, values in _CODED.items():
        drawn = _draw(rng, profile, len(values), 0.5)
        arr = np.array(values, dtype=object)[drawn]
        # The public file leaves many demographics blank.
        blank = rng.random(n) < 0.15
        arr[blank] = None
        if name == "Datasource":
            source = np.where(blank, 3, drawn)
        out[name] = pl.Series(name, arr.tolist(), dtype=pl.String)
    if flags == "01":  # (the draws in the order of the first version: same tables for the same seed)
        for name in _PUBLIC_FLAGS:
            arr = np.array(["0", "1"], dtype=object)[_draw(rng, profile, 2, 0.4)]
            arr[rng.random(n) < 0.05] = None
            out[name] = pl.Series(name, arr.tolist(), dtype=pl.String)
        return pl.DataFrame(out)
    if flags != "mixed":
        raise ValueError(f"flags must be '01' or 'mixed', not {flags!r}")
    bits = {name: _draw(rng, profile, 2, 0.4) for name in _PUBLIC_FLAGS}
    cum = _ENCODING_BY_SOURCE[source].cumsum(axis=1)
    encoding = (rng.random(n)[:, None] > cum).sum(axis=1)  # 0: 0/1, 1: 1/blank, 2: mixed
    for group in _FLAG_GROUPS:
        unrecorded = rng.random(n) < 0.08
        for name in group:
            arr = np.array(["0", "1"], dtype=object)[bits[name]]
            no = bits[name] == 0
            blank = (
                unrecorded
                | (no & (encoding == 1))
                | (no & (encoding == 2) & (rng.random(n) < 0.5))
                | ((encoding == 0) & (rng.random(n) < 0.02))
            )
            arr[blank] = None
            out[name] = pl.Series(name, arr.tolist(), dtype=pl.String)
    return pl.DataFrame(out)


def ctdc_public_categories(columns: list[str] | None = None) -> dict[str, list[str]]:
    """Public domain of the simulated CTDC layout, from code lists only (never from the data).

    Countries: the 249 ISO 3166-1 alpha-2 codes; years: the declared range 2002-2023; flags: `0` and `1`
    (blank is the missing cell); the other coded columns: their code lists.

    >>> cats = ctdc_public_categories()
    >>> len(cats["citizenship"]), cats["isForcedLabour"], cats["yearOfRegistration"][-1]
    (249, ['0', '1'], '2023')
    """
    import pycountry

    countries = sorted(c.alpha_2 for c in pycountry.countries)
    cats: dict[str, list[str]] = {
        **{k: list(v) for k, v in _CODED.items()},
        "yearOfRegistration": [str(y) for y in range(2002, 2024)],
        "Datasource": ["Case Management", "Hotline", "IOM"],
        "gender": ["Female", "Male", "Trans/Transgender/NonConforming"],
        "citizenship": countries,
        "CountryOfExploitation": countries,
        **{name: ["0", "1"] for name in _PUBLIC_FLAGS},
    }
    return cats if columns is None else {c: cats[c] for c in columns if c in cats}
