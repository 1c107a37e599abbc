"""Rules of the public CTDC victim-perpetrator file (preset `ctdc-vp`), victims part, beyond its column mapping.

Layout (docs/ingest.md, "Public CTDC victim-perpetrator file"; shared reference ctdc-public-format.md): comma-
delimited, plain header, 16 columns, one row per victim with the attributes of the perpetrator(s) involved. What
this module reports (the perpetrators' part is `ctdc_vp_perpetrators`, the year bins the mapping's `censored`):

- Exact duplicate rows are normal in this synthetic file: each is kept as its own victim and reported as
  `exact-copy-row` (warning) naming the first row it copies, so a steward sees them and none is dropped.
- Places are UN regions, never countries: note `region-only` (citizenship and country of exploitation stay blank;
  the regions are kept in citizenship_region and exploitation_region).

NOTE: pure Python, like all of ctdc.ingest: never import Django here.
"""

from __future__ import annotations

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.sources import SourceContext

# Every column of the layout: an exact copy is a copy on all of them, the perpetrators' included.
READS = ("yearRegister", "gender", "majorityStatus", "isForcedLabour", "isSexualExploit", "UN_COO_Region",
         "UN_COE_Region", "IP_Exploiter", "IP_Gender", "IP_ageBroad", "IP_citizen_UNRegion", "IP_Relation",
         "IP_PayMoney", "IP_RecruiterBroker", "IP_TransactionProcess", "IP_ControlAbuseKidnap")
# Up to this many distinct copied rows, each copy's message names the row it copies.
_NAMED_FIRSTS = 200


def apply(ctx: SourceContext) -> None:
    columns = [c for c in (ctx.column(name) for name in READS) if c]
    if not columns:
        return
    content = pl.concat_str([pl.col(c).fill_null("\x00") for c in columns], separator="\x1f")
    frame = ctx.frame.with_columns(__vp_content=content)
    frame = frame.with_columns(__vp_first=pl.col("row").first().over("__vp_content"))
    ctx.frame = frame
    # The first row a copy copies, in the message: `expected` is per flag, so one flag per first row.
    copies = frame.filter(pl.col("row") != pl.col("__vp_first"))
    first_column = columns[0]
    firsts = sorted(set(copies["__vp_first"].to_list()))
    if len(firsts) > _NAMED_FIRSTS:  # a whole synthetic file: one rule, not one per copied row
        ctx.flag(pl.col("row") != pl.col("__vp_first"), first_column, "registration_year", "exact-copy-row",
                 P.AN_EARLIER_ROW)
        return _regions_note(ctx)
    for first in firsts:
        ctx.flag((pl.col("__vp_first") == first) & (pl.col("row") != first), first_column, "registration_year",
                 "exact-copy-row", str(first))
    _regions_note(ctx)


def _regions_note(ctx: SourceContext) -> None:
    if ctx.column("UN_COO_Region") or ctx.column("UN_COE_Region"):
        ctx.note("region-only")
