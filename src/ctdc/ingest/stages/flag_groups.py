"""Multi-valued fields given as 0/1 flag columns (one column per code), with an optional text column listing the
same values (the public CTDC layout's `*Concatenated`): the rule is in `ctdc.ingest.mapping`."""

from __future__ import annotations

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.normalize import code_lookup, normalise_codes
from ctdc.ingest.stages.builder import Builder
from ctdc.ingest.stages.columns import SRC, resolve
from ctdc.standard import Dataset

_FLAG_TRUE = ("1", "true", "yes", "1.0")
_FLAG_FALSE = ("0", "false", "no", "0.0")


def flag_groups(b: Builder, spec: MappingSpec, dataset: Dataset, frame: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Turn 0/1 flag columns into multi-valued fields (rule in `ctdc.ingest.mapping`); return how rows encoded them.

    Every group is a few expressions over all its columns at once; the `*Concatenated` text is normalised once
    per distinct value (`Builder.dictionary`), and the encoding counts of every group come from one `select`.
    """
    counted: dict[str, tuple[pl.Expr, pl.Expr]] = {}
    groups = [(group, [(c, code) for src, code in group.columns.items() if (c := resolve(frame, src))])
              for group in spec.flags]
    # The distinct spellings in every flag column, in one pass: a flag column holds a handful ("0", "1", "TRUE"),
    # so which spellings are true, false or bad is decided here, and each row is only compared with them.
    flag_cols = list(dict.fromkeys(c for _g, present in groups for c, _code in present))
    spellings = dict(zip(flag_cols, frame.select(pl.col(c).drop_nulls().unique().implode() for c in flag_cols).row(0),
                         strict=True)) if flag_cols else {}

    def among(c: str, words: tuple[str, ...]) -> pl.Expr:
        found = [v for v in spellings[c] if v.lower() in words]
        return pl.col(c) == found[0] if len(found) == 1 else pl.col(c).is_in(found)

    for group, present in groups:
        f = dataset.field(group.field)
        if not present or f.codelist is None:
            continue
        rank = {code: i for i, code in enumerate(f.codelist.codes)}
        for c, _ in present:
            bad_spellings = [v for v in spellings[c] if v.lower() not in (*_FLAG_TRUE, *_FLAG_FALSE)]
            if bad_spellings:
                b.flag(pl.col(c).is_in(bad_spellings), c, f.name, "unknown-code", c, P.FLAG_VALUES)
        ordered = sorted(((c, code) for c, code in present if code), key=lambda t: rank[t[1]])
        codes = pl.concat_str([pl.when(among(c, _FLAG_TRUE)).then(pl.lit(code)) for c, code in ordered],
                              separator=";", ignore_nulls=True) if ordered else pl.lit("")
        recorded = pl.any_horizontal([pl.col(c).is_not_null() for c, _ in present])
        any_zero = pl.any_horizontal([among(c, _FLAG_FALSE) for c, _ in present]).fill_null(False)
        text_col = resolve(frame, group.text) if group.text else None
        text_codes = None
        if text_col:
            lookup = code_lookup([(e.code, e.label) for e in f.codelist.entries], group.text_values)
            codelist = list(f.codelist.codes)
            text_codes = b.dictionary(pl.col(text_col),
                                      lambda x, lookup=lookup, codelist=codelist:
                                      {"value": normalise_codes(x, lookup, codelist, ";").value})["value"]
            # Only a text that names values, compared with recorded flags: "Not specified" maps to nothing.
            disagree = recorded & pl.col(text_col).is_not_null() & (text_codes.fill_null("") != codes.fill_null(""))
            b.flag(disagree, text_col, f.name, "flags-text-disagree", text_col,
                   "flags: " + ", ".join(c.removeprefix(SRC) for c, _ in present[:3]) + " …")
        # A "not specified" flag with no other flag set says "unknown", not "none".
        unspecified = [among(c, _FLAG_TRUE) for c, code in present if code is None]
        unknown_only = pl.any_horizontal(unspecified).fill_null(False) & (codes.fill_null("") == "") \
            if unspecified else pl.lit(False)
        flag_value = pl.when(recorded & ~unknown_only).then(codes)
        existing = b.values.get(f.name)
        fallback = [e for e in (text_codes, existing) if e is not None]
        b.values[f.name] = pl.coalesce([flag_value, *fallback]) if fallback else flag_value
        counted[f.name] = (recorded, any_zero)
    if not counted:
        return {}
    counts = b.frame.select(pl.struct(
        zero_one=(recorded & any_zero).sum(), one_empty=(recorded & ~any_zero).sum(),
        not_recorded=(~recorded).sum()).alias(name) for name, (recorded, any_zero) in counted.items()).row(0)
    rule = "any flag set -> recorded, empty = no; all empty -> not recorded"
    return {name: {"rule": rule, **c} for name, c in zip(counted, counts, strict=True)}

