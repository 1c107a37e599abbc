"""Stage 7, linked dataset types: one result for a file whose rows are read once per dataset type (a mapping's
`linked`: the public victim-perpetrator file makes victims, perpetrators and their links)."""

from __future__ import annotations

import polars as pl

from ctdc.ingest import problems as P
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.report import ValidationReport
from ctdc.ingest.stages.records import IngestResult
from ctdc.standard import load_standard


def merge_linked(main: IngestResult, parts: list[tuple[MappingSpec, IngestResult]]) -> IngestResult:
    """One result for a file read as several linked dataset types (the victim with all their links is one unit).

    A row quarantined by any part is quarantined as a whole (its codes merged); the other rows are accepted as
    the main part accepted them, duplicates as it found them. A linked record with no mapped value (a victim
    with no perpetrator recorded) is not made, nor a record referring to one not made; the report counts them.
    """
    std = load_standard()
    held = pl.concat([main.quarantine.select("row", "codes"),
                      *[p.quarantine.select("row", "codes") for _s, p in parts]])
    bad_rows = held.group_by("row").agg(pl.col("codes").str.split(";").explode().unique().sort().str.join(";"))
    records = main.records.filter(~pl.col("source_row").is_in(bad_rows["row"].implode()))
    newly = bad_rows.join(main.quarantine.select("row"), on="row", how="anti")
    # A row quarantined only by a linked part: its record id hash is the main part's (the same row's id).
    moved = main.records.filter(pl.col("source_row").is_in(newly["row"].implode())).select(
        pl.col("source_row").alias("row"), "record_id")
    quarantine = pl.concat([main.quarantine.select("row", "record_id"), moved]).join(
        bad_rows, on="row", how="left").sort("row")
    problems = pl.concat([main.report.problems, *[p.report.problems for _s, p in parts]]).unique(
        maintain_order=True).sort("row", "column")
    linked: dict[str, pl.DataFrame] = {}
    kept_ids = {s.dataset: set() for s, _p in parts}
    skipped: dict[str, int] = {}
    for s, part in parts:
        ds = std.dataset(s.dataset)
        frame = part.records.filter(pl.col("source_row").is_in(records["source_row"].implode()))
        mapped = {cm.field for cm in s.columns.values()} | {g.field for g in s.flags}
        mapped -= set(s.same_row)
        before = frame.height
        if mapped and not s.same_row:  # a link record stands or falls with the records it joins, below
            frame = frame.filter(pl.any_horizontal([pl.col(f).is_not_null() for f in sorted(mapped)]))
        for f in ds.fields:
            target = f.references.split(".", 1)[0] if f.references else None
            if target in kept_ids and f.name in frame.columns:
                frame = frame.filter(pl.col(f.name).is_in(sorted(kept_ids[target])))
        kept_ids[s.dataset] = set(frame["record_id"].to_list())
        skipped[s.dataset] = before - frame.height
        linked[s.dataset] = frame
    stats_in = main.report.stats
    report = ValidationReport.from_problems(problems, rows_read=stats_in["rows_read"], accepted=records.height,
                                            quarantined=quarantine.height, duplicates=stats_in["duplicates"])
    assert report.stats["rows_read"] == records.height + quarantine.height + stats_in["duplicates"], \
        "intake invariant broken"
    flag_stats = dict(stats_in.get("flag_encodings", {}))
    blanks = dict(stats_in.get("blanks_by_column", {}))
    notes = list(stats_in.get("notes", []))
    for _s, part in parts:
        flag_stats.update(part.report.stats.get("flag_encodings", {}))
        blanks.update(part.report.stats.get("blanks_by_column", {}))
        notes += [n for n in part.report.stats.get("notes", []) if n not in notes]
    for name, n in skipped.items():
        if n:
            label = std.dataset(name).label.lower()
            notes.append(P.note("no-linked-record", count=n, label=label, dataset=name))
    report.stats.update(flag_encodings=flag_stats, blanks_by_column=blanks,
                        linked_records={name: frame.height for name, frame in linked.items()})
    if notes:
        report.stats["notes"] = notes
    ignored = [c for c in main.ignored_columns if all(c in p.ignored_columns for _s, p in parts)]
    return IngestResult(records, quarantine, report, main.read_info, ignored, linked)
