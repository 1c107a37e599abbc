"""Stage 6, identity and the split, once on the whole file: duplicates and conflicts, the accepted / quarantined
split, the identity hash and keyed record ids of accepted rows, the report.

Duplicates: a record id seen on an earlier row of the file. Where a natural key stands for the record id, only an
exact copy of an earlier row is a duplicate; the same key with other values is a conflict, and every row of it is
held back. Invariant: rows read = accepted + quarantined + duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ctdc.ingest.identity import identity_hash, record_id_hash
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.problems import problem
from ctdc.ingest.report import ValidationReport
from ctdc.ingest.stages.columns import SRC
from ctdc.ingest.stages.flagged import message_columns
from ctdc.standard import Dataset


@dataclass(frozen=True)
class IngestResult:
    # Accepted rows: record_id (keyed hash), source_row, identity_hash, stored fields; coded fields (code lists,
    # multi-code texts) are polars Categorical, the rest typed (a consumer wanting text casts; CSV, Parquet
    # and `to_list` give the codes as text).
    records: pl.DataFrame
    quarantine: pl.DataFrame   # row, record_id (keyed hash), codes: rows held back, with their reasons (no values)
    report: ValidationReport
    read_info: dict
    ignored_columns: list[str]
    # Records of the linked dataset types the same rows describe (a mapping's `linked`), by dataset: record_id,
    # source_row, stored fields, reference fields as keyed hashes. Empty for a one-dataset mapping.
    linked: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass
class Piece:
    """What `_rows_stage` keeps of one piece of the file: its rows (row number, record id, key content, the
    fields stored or needed for the identity hash), their problems and counts, and what the header said."""
    typed: pl.DataFrame
    problems: pl.DataFrame
    rows_read: int
    blanks: dict[str, int]
    flag_stats: dict[str, dict]
    notes: list[dict]
    read: object
    rid_col: str | None
    rid_name: str | None
    key_cols: list[str]
    ignored: list[str]


def file_records(pieces: list[Piece], spec: MappingSpec, dataset: Dataset, *, identity_key: bytes,
                organisation: str) -> IngestResult:
    """What needs every row of the file: duplicates and conflicts, the accepted / quarantined split, the keyed
    hashes of accepted rows, the report."""
    first = pieces[0]
    read, rid_col, rid_name, key_cols, ignored = first.read, first.rid_col, first.rid_name, first.key_cols, \
        first.ignored
    typed = pl.concat([p.typed for p in pieces], how="vertical_relaxed") if len(pieces) > 1 else first.typed
    problems = pl.concat([p.problems for p in pieces], how="vertical_relaxed") if len(pieces) > 1 \
        else first.problems
    rows_read = sum(p.rows_read for p in pieces)
    blanks = {c: sum(p.blanks.get(c, 0) for p in pieces) for c in first.blanks}
    flag_stats = {name: {k: v if k == "rule" else sum(p.flag_stats[name][k] for p in pieces)
                         for k, v in stats.items()} for name, stats in first.flag_stats.items()}
    notes = [n for i, p in enumerate(pieces) for n in p.notes if n not in [m for q in pieces[:i] for m in q.notes]]
    del pieces

    # Duplicates: a record id seen on an earlier row of the same file. Where a natural key stands for the record id,
    # only an exact copy of an earlier row is a duplicate; the same key with other values is a conflict (below).
    if key_cols and not rid_col:
        dup = typed.select(pl.struct("__record_id", "__content").is_duplicated()
                           & ~pl.struct("__record_id", "__content").is_first_distinct()).to_series()
        conflict = typed.select(pl.col("__content").n_unique().over("__record_id") > 1).to_series()
    else:
        dup = typed.select(pl.col("__record_id").is_duplicated() & ~pl.col("__record_id").is_first_distinct()).to_series()
        conflict = None
    typed = typed.with_columns(__dup=dup)
    same = ["__record_id", "__content"] if conflict is not None else ["__record_id"]
    typed = typed.with_columns(__first_row=pl.col("row").first().over(same))
    dups = typed.filter(pl.col("__dup"))
    if conflict is not None and conflict.any():
        # Every row of a key seen with different values is held back: which value is right is the steward's call,
        # and neither is summed nor dropped. The message names the key's other rows.
        typed = typed.with_columns(__conflict=conflict)
        others = typed.filter(pl.col("__conflict") & ~pl.col("__dup")).group_by("__record_id").agg(
            pl.col("row").sort().alias("__rows"))
        hit = typed.filter(pl.col("__conflict") & ~pl.col("__dup")).join(others, on="__record_id", how="left")
        problems = pl.concat([problems, hit.select(
            pl.col("row").cast(pl.Int64), pl.lit(key_cols[0].removeprefix(SRC)).alias("column"),
            pl.lit("record_id").alias("field"),
            pl.lit("conflicting-values").alias("code"),
            pl.lit(problem("conflicting-values").severity).alias("severity"),
            pl.lit(None, dtype=pl.String).alias("value"),
            *message_columns("conflicting-values", rows=pl.col("__rows").cast(pl.List(pl.String)).list.join(", "),
                              key=pl.lit(", ".join(c.removeprefix(SRC) for c in key_cols))),
        )])
    if dups.height and key_cols and not rid_col:
        problems = pl.concat([problems, dups.select(
            pl.col("row").cast(pl.Int64), pl.lit(key_cols[0].removeprefix(SRC)).alias("column"),
            pl.lit("record_id").alias("field"), pl.lit("duplicate-row").alias("code"),
            pl.lit(problem("duplicate-row").severity).alias("severity"), pl.lit(None, dtype=pl.String).alias("value"),
            *message_columns("duplicate-row", expected=pl.col("__first_row").cast(pl.String)),
        )])
    elif dups.height:
        # The record id itself is never echoed (it may be a case number printed on letters): the row that
        # first had it is named instead.
        problems = pl.concat([problems, dups.select(
            pl.col("row").cast(pl.Int64), pl.lit(rid_name or "(row number)").alias("column"),
            pl.lit("record_id").alias("field"), pl.lit("duplicate-record-id").alias("code"),
            pl.lit(problem("duplicate-record-id").severity).alias("severity"), pl.lit(None, dtype=pl.String).alias("value"),
            *message_columns("duplicate-record-id", expected=pl.col("__first_row").cast(pl.String)),
        )])
    error_rows = problems.filter(pl.col("severity") == "error").select("row").unique()
    typed = typed.with_columns(__error=pl.col("row").is_in(error_rows["row"].implode()))

    held = pl.col("__dup") | pl.col("__error")
    # A clean file keeps every row: no filtered copy of the whole table then (memory, issue 14).
    accepted = typed.filter(~held) if typed.select(held.any()).item() else typed
    quarantined = typed.filter(~pl.col("__dup") & pl.col("__error"))
    del typed
    hashes = identity_hash(
        accepted["full_name"] if "full_name" in accepted.columns else pl.Series([None] * accepted.height, dtype=pl.String),
        accepted["birth_date"] if "birth_date" in accepted.columns else pl.Series([None] * accepted.height, dtype=pl.Date),
        accepted["citizenship"] if "citizenship" in accepted.columns else pl.Series([None] * accepted.height, dtype=pl.String),
        identity_key,
    )
    stored = [f for f in dataset.stored_fields]
    records = accepted.with_columns(hashes).select(
        record_id_hash(accepted["__record_id"], identity_key, organisation).alias("record_id"), pl.col("row").alias("source_row"), "identity_hash",
        *[(pl.col(f.name) if f.name in accepted.columns else pl.lit(None)).alias(f.name) for f in stored],
    )
    # The coded fields are not cast back to text (they stay categories, see `IngestResult`): as text they cost
    # 1,000,000 Kobo rows another 290 MB at the peak of the intake (issue 14: under 1 GB). What only the hashes
    # needed (names, birth dates) is freed before the quarantine and the report are built.
    del accepted, hashes
    quarantine = quarantined.select(
        pl.col("row"), record_id_hash(quarantined["__record_id"], identity_key, organisation).alias("record_id"),
    ).join(
        problems.filter(pl.col("severity") == "error").group_by("row").agg(pl.col("code").unique().sort().str.join(";").alias("codes")),
        on="row", how="left",
    ).sort("row")
    report = ValidationReport.from_problems(
        problems.sort("row", "column"), rows_read=rows_read, accepted=records.height,
        quarantined=quarantine.height, duplicates=dups.height,
    )
    assert rows_read == records.height + quarantine.height + dups.height, "intake invariant broken"
    report.stats["flag_encodings"] = flag_stats
    report.stats["blanks_by_column"] = blanks
    if notes:
        report.stats["notes"] = notes
    info = {"format": read.format, "encoding": read.encoding, "delimiter": read.delimiter, "sheet": read.sheet,
            "record_id_column": rid_name, "mapping": spec.name, "mapping_version": spec.version_hash}
    return IngestResult(records, quarantine, report, info, ignored)
