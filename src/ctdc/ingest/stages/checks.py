"""Stage 4, cross-field checks: what a row's fields say together, the source's own rules, required fields,
amounts the release cannot convert, and references to records that must exist.

A required field (`required: true` in the standard, per dataset) is missing only when no other problem already
explains its blank (a bad date, say). References leave this stage only as keyed hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from ctdc.ingest.identity import record_id_hash
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.sources import SourceContext, load_source
from ctdc.ingest.stages.builder import Builder
from ctdc.ingest.stages.columns import ColumnPlan, resolve
from ctdc.standard import Dataset
from ctdc.standard.money import base_label, convertible_pairs
from ctdc.standard.rules import minor_age_bands

# Fields the pipeline derives from another when the file does not give them: a blank is the source's blank.
DERIVED_FROM = {"registration_year": "registration_date", "age": "birth_date"}
# Which records of the repository a file's references may point at: (dataset, keyed hashes) -> those present.
KnownReferences = Callable[[str, list[str]], set[str]]


def check_rows(b: Builder, typed: pl.DataFrame, read, path: Path, spec: MappingSpec, dataset: Dataset,
               plan: ColumnPlan, *, identity_key: bytes, organisation: str, known: KnownReferences | None,
               in_file: dict[str, set[str]]) -> tuple[pl.DataFrame, list[dict[str, str]]]:
    """`typed` after the checks (references hashed, the source's fields added) and the source's notes; the
    problems are flags on `b`."""
    by_field = plan.by_field
    if "age_band" in by_field and "majority_status" in by_field:
        minors = minor_age_bands()
        minor_band = pl.col("age_band").is_in(minors)
        clash = (minor_band != (pl.col("majority_status") == "minor")) & pl.col("age_band").is_not_null() \
            & pl.col("majority_status").is_not_null()
        b.frame = typed
        col = by_field["majority_status"][0][0]
        b.flag(clash, col, "majority_status", "inconsistent-majority", col,
               " and ".join(minors) + " are minors")
        typed = b.frame
    b.frame = typed
    notes: list[dict] = []
    if spec.source:
        ctx = SourceContext(builder=b, column=lambda name: resolve(b.frame, name), path=Path(path),
                            preamble=read.preamble, first_data_row=read.first_data_row)
        load_source(spec.source).apply(ctx)
        notes = ctx.notes
        b.frame = b.frame.with_columns(**{k: pl.lit(v) for k, v in ctx.constants.items()
                                          if k in dataset.field_names and k not in by_field})
    typed = b.frame
    # What is required is the standard's decision (`required: true`), per dataset: a blank in any other field is
    # a missing value (a k-anonymized file suppresses years, ages, genders) and the record goes in. A required
    # field is missing only when no other problem already explains the blank (a bad date, say).
    for f in dataset.fields:
        sources = by_field.get(f.name) or by_field.get(DERIVED_FROM.get(f.name, ""))
        if not f.required or sources is None or f.name not in typed.columns:
            continue
        explained = [pl.col(n) for n, _c, fld, *_rest in b.flags if fld in (f.name, DERIVED_FROM.get(f.name))]
        b.flag(pl.col(f.name).is_null() & ~pl.any_horizontal(explained or [pl.lit(False)]),
               sources[0][0], f.name, "missing-required", sources[0][0], "")
    if dataset.name == "victims":
        reg_field = dataset.field("registration_year")
        year_col = (by_field.get("registration_year") or by_field["registration_date"])[0][0]
        out_of_range = (pl.col("registration_year") < reg_field.min) | (pl.col("registration_year") > reg_field.max)
        b.flag(out_of_range, year_col, "registration_year", "out-of-range", year_col,
               f"{reg_field.min} to {reg_field.max}")
    typed = b.frame
    if dataset.name == "recruitment_fees" and {"amount", "currency"} <= set(typed.columns):
        # A fee becomes base-year US dollars at release (ctdc.standard.money); one whose currency and year the
        # shipped rates and deflator do not cover is kept as given and reported here, never converted by guess.
        year = pl.col("fee_year").cast(pl.String) if "fee_year" in typed.columns else pl.lit(None, pl.String)
        pair = pl.concat_str([pl.col("currency"), year], separator=" ")
        col = by_field["currency"][0][0]
        b.flag(pl.col("amount").is_not_null() & pl.col("currency").is_not_null()
               & (pair.is_null() | ~pair.is_in(sorted(convertible_pairs()))),
               col, "currency", "unconvertible-amount", col, base_label())
        typed = b.frame
    # References leave only as keyed hashes (a case id can be printed on letters), and point at a record that
    # exists: in the repository or in this file.
    refs = [f for f in dataset.fields if f.references and f.name in typed.columns]
    for f in refs:
        typed = typed.with_columns(record_id_hash(typed[f.name], identity_key, organisation).alias(f.name))
        target = f.references.split(".", 1)[0]
        if known is None or f.name in spec.same_row:
            continue
        wanted = sorted(set(typed[f.name].drop_nulls().to_list()) - in_file.get(target, set()))
        present = known(target, wanted) if wanted else set()
        missing_refs = sorted(set(wanted) - present)
        col = by_field[f.name][0][0] if f.name in by_field else f.name
        b.frame = typed
        b.flag(pl.col(f.name).is_in(missing_refs), col, f.name, "unknown-reference", col, target)
        typed = b.frame
    return typed, notes
