"""Rules of the public CTDC victim-perpetrator file (preset `ctdc-vp`), perpetrators part.

The file condenses all the perpetrators of a victim into one row: their genders, age bands and regions are
joined with `;` (distinct values, alphabetical: `Female;Male`), the role columns are any-of flags. So each row
makes one *condensed* perpetrator record (`condensed` true), whose multi-valued fields (genders, age_bands,
citizenship_regions) list every value; the single-valued fields (gender, age_band, citizenship_region) are filled
only where that list has one value, since which value belongs to which perpetrator is not in the file and is
never guessed. A cell joining several values is reported as `condensed-values` (warning).

NOTE: pure Python, like all of ctdc.ingest: never import Django here.
"""

from __future__ import annotations

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.sources import SourceContext

# multi-valued field -> the single-valued field it fills when it holds one value
_SINGLE = {"genders": "gender", "age_bands": "age_band", "citizenship_regions": "citizenship_region"}
_SOURCE = {"genders": "IP_Gender", "age_bands": "IP_ageBroad", "citizenship_regions": "IP_citizen_UNRegion",
           "relation_to_victim": "IP_Relation"}


def apply(ctx: SourceContext) -> None:
    frame = ctx.frame
    singles = {}
    for many, one in _SINGLE.items():
        if many in frame.columns:
            singles[one] = pl.when(pl.col(many).str.contains(";").not_()).then(pl.col(many))
    ctx.frame = frame.with_columns(condensed=pl.lit(True), **singles)
    for fld, name in _SOURCE.items():
        col = ctx.column(name)
        if col and fld in ctx.frame.columns:
            ctx.flag(pl.col(fld).str.contains(";"), col, fld, "condensed-values",
                     P.ALL_PERPETRATORS)
