"""Stage 3, deriving: fields the standard derives from others, each only when the file does not give it.

Age at registration from the birth and registration dates (an impossible one is flagged and left blank), the
age band and majority status from the age (the standard's rules, `ctdc.ingest.derive`), years and months from
dates (an event's exact date is a direct identifier), coarser codes from finer ones (`DERIVED_CODES`), the
citizenship's region, the organisation's defaults and the mapping's constants.
"""

from __future__ import annotations

import polars as pl

from ctdc.ingest.derive import age_band, majority_status
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.stages.builder import Builder
from ctdc.ingest.stages.columns import ColumnPlan
from ctdc.standard import Dataset, load_standard

# Coarser multi-valued fields derived from a finer one through an attribute of its codes (see the code lists):
# target field -> (source field, attribute). Only where the file does not give the target itself.
DERIVED_CODES = {"means_of_control_groups": ("means_of_control", "group"),
                 "labour_sectors_isic": ("labour_sectors", "isic"),
                 "role_groups": ("roles", "ctdc_group")}


def derive_fields(b: Builder, typed: pl.DataFrame, spec: MappingSpec, dataset: Dataset, plan: ColumnPlan,
                  defaults: dict[str, object] | None) -> pl.DataFrame:
    """`typed` with the derived fields, the defaults and constants, and same-row references."""
    by_field = plan.by_field
    # Derived fields, each only when the file does not give it directly.
    derived: dict[str, pl.Expr] = {}
    if "event_year" not in by_field and "event_date" in typed.columns:
        # A journey event's exact date is a direct identifier: only its year and month are kept.
        derived["event_year"] = pl.col("event_date").dt.year().cast(pl.Int64)
        if "event_month" not in by_field:
            derived["event_month"] = pl.col("event_date").dt.month().cast(pl.Int64)
    if "registration_year" not in by_field and "registration_date" in typed.columns:
        derived["registration_year"] = pl.col("registration_date").dt.year().cast(pl.Int64)
    if "birth_date" in by_field and "registration_date" in by_field:
        # Age at registration from the two dates; an age column, when mapped too, fills rows without dates.
        reg, born = pl.col("registration_date"), pl.col("birth_date")
        before_birthday = (reg.dt.month() < born.dt.month()) | (
            (reg.dt.month() == born.dt.month()) & (reg.dt.day() < born.dt.day()))
        computed = (reg.dt.year() - born.dt.year() - before_birthday.cast(pl.Int64)).cast(pl.Int64)
        derived["age"] = pl.coalesce(computed, pl.col("age")) if "age" in by_field else computed
    typed = typed.with_columns(**derived)
    if "age" in derived:
        age_field = dataset.field("age")
        col = by_field.get("birth_date", by_field.get("age"))[0][0]
        impossible = (pl.col("age") < age_field.min) | (pl.col("age") > age_field.max)
        b.frame = typed
        b.flag(impossible, col, "age", "impossible-age", col, f"{age_field.min} to {age_field.max} years")
        typed = b.frame.with_columns(pl.when(impossible.fill_null(False)).then(None).otherwise(pl.col("age")).alias("age"))
    more: dict[str, pl.Expr] = {}
    if "age_at_exploitation" in typed.columns and "majority_status_at_exploitation" not in by_field:
        at = pl.col("age_at_exploitation")
        more["majority_status_at_exploitation"] = majority_status(at)
    for target, (source, attribute) in DERIVED_CODES.items():
        if source in typed.columns and target not in typed.columns and target in dataset.field_names:
            more[target] = derive_codes(typed, dataset, source, target, attribute)
    if "age" in typed.columns and "age_band" not in by_field and "age_band" in dataset.field_names:
        # The dataset's own bands: a perpetrator's are not a victim's (perpetrator_age_band).
        more["age_band"] = age_band(pl.col("age"), codelist=dataset.field("age_band").codelist.name)
    if "age" in typed.columns and "majority_status" not in by_field:
        more["majority_status"] = majority_status(pl.col("age"))
    typed = typed.with_columns(**more)
    constants = {**(defaults or {}), **spec.constants}
    typed = typed.with_columns(
        **{k: pl.lit(v) for k, v in constants.items() if k not in by_field and k in dataset.field_names})
    if "citizenship" in typed.columns and "citizenship_region" in dataset.field_names \
            and "citizenship_region" not in by_field:
        typed = typed.with_columns(citizenship_regions(typed["citizenship"]))
    # Reference fields filled with this row's own record id: the records the same row makes in another dataset.
    typed = typed.with_columns(pl.col("__record_id").alias(f) for f in spec.same_row)
    return typed


def derive_codes(frame: pl.DataFrame, dataset: Dataset, source: str, target: str, attribute: str) -> pl.Expr:
    """Map each `;`-joined code list of `source` through its codes' `attribute` into `target`'s codes."""
    src, dst = dataset.field(source).codelist, dataset.field(target).codelist
    assert src is not None and dst is not None
    rank = {c: i for i, c in enumerate(dst.codes)}
    table: dict[str, str | None] = {}
    for value in frame[source].drop_nulls().unique().to_list():
        out: set[str] = set()
        for code in filter(None, value.split(";")):
            found = src.entry(code).extra.get(attribute) if code in src else None
            out.update([found] if isinstance(found, str) else (found or []))
        table[value] = ";".join(sorted((c for c in out if c in rank), key=rank.__getitem__))
    return pl.col(source).replace_strict(table, default=None, return_dtype=pl.String)


def citizenship_regions(countries: pl.Series) -> pl.Series:
    """Each country's region in the public CTDC grouping (`ctdc_region`), through its M49 region."""
    from ctdc.standard.hierarchies import generalize

    table = {c: generalize(c, "country", "ctdc_region") for c in countries.drop_nulls().unique().to_list()
             if c in load_standard().codelist("country")}
    return countries.replace_strict(table, default=None, return_dtype=pl.String).alias("citizenship_region")

