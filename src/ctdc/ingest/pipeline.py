"""The intake pipeline: contributor file + mapping spec -> harmonized records, quarantine and a report.

    read (readers) -> pick mapped columns -> normalise each field (normalize) -> derive age, age band,
    majority status, registration year -> keyed identity hash -> drop every direct identifier ->
    split rows into accepted / quarantined / duplicates -> ValidationReport

Invariant, for every file: rows_read == accepted + quarantined + duplicates.

Each step is a stage of `ctdc.ingest.stages` (read its docstring for the list); this module only runs them in
order. Every problem a stage finds is a code of the registry `ctdc.ingest.problems`.

A large CSV is read and checked in pieces (`read_table_chunks`): everything a row needs only itself for runs per
piece (`_rows_stage`), and only a narrow table of each piece's rows is kept for what needs the whole file
(duplicates, conflicts, the split; `stages.records.file_records`). The result is the one the whole file gives.

Privacy: direct identifiers (see the standard's disclosure roles) are read only to derive age and the keyed
identity hash, and are dropped before the result leaves this module. Problem messages for those columns never
carry the value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import polars as pl

from ctdc.ingest.limits import UploadLimits
from ctdc.ingest.mapping import MappingSpec
from ctdc.ingest.readers import read_table, read_table_chunks
from ctdc.ingest.stages.builder import Builder
from ctdc.ingest.stages.checks import KnownReferences, check_rows
from ctdc.ingest.stages.columns import SRC, plan_columns, resolve, wanted_columns
from ctdc.ingest.stages.derive import derive_fields
from ctdc.ingest.stages.flagged import problem_rows
from ctdc.ingest.stages.linked import merge_linked
from ctdc.ingest.stages.records import IngestResult, Piece, file_records
from ctdc.ingest.stages.typed import type_fields
from ctdc.standard import Dataset, load_standard

__all__ = ["IngestResult", "KnownReferences", "Progress", "ingest_file"]
# Told the rows of the file read and checked so far (the web shows it while a submission is processed).
Progress = Callable[[int], None]


def ingest_file(path: Path, spec: MappingSpec, *, identity_key: bytes, organisation: str = "",
                defaults: dict[str, object] | None = None, limits: UploadLimits | None = None,
                known: KnownReferences | None = None, progress: Progress | None = None) -> IngestResult:
    """Run the whole intake pipeline on one file. Raises `IngestError` only when the file cannot be read.

    `defaults` fills fields the file does not map (e.g. `data_source` from the organisation's kind); the
    mapping's own `constants` win over them. Record ids leave this function only as `record_id_hash` keyed
    with `identity_key` and bound to `organisation` (the repository passes a stable name of the organisation).
    A file over `limits` (bytes, rows, what a spreadsheet's zip parts unpack to) raises `UploadTooLarge` before it is read.
    Reference fields (a link's case id) leave it as keyed hashes too; with `known`, a reference to a record
    neither in the repository (`known(dataset, hashes)` answers which are) nor in this file is an error.
    A mapping with `linked` dataset types reads the same rows once per type and merges the results
    (`stages.linked.merge_linked`): a row is accepted only when all its parts are.
    `progress(rows)` is called after each piece of the file is checked, with the rows read so far (a large CSV
    or XLSX comes in many pieces, a small file in one; linked types' further passes do not call it).
    """
    main = _ingest_one(path, spec, identity_key=identity_key, organisation=organisation, defaults=defaults,
                       limits=limits, known=known, in_file={}, progress=progress)
    if not spec.linked:
        return main
    in_file = {spec.dataset: set(main.records["record_id"].to_list())}
    parts = []
    for linked in spec.linked:
        part = _ingest_one(path, linked, identity_key=identity_key, organisation=organisation, defaults=None,
                           limits=limits, known=known, in_file=in_file)
        in_file[linked.dataset] = set(part.records["record_id"].to_list())
        parts.append((linked, part))
    return merge_linked(main, parts)


def _ingest_one(path: Path, spec: MappingSpec, *, identity_key: bytes, organisation: str,
                defaults: dict[str, object] | None, limits: UploadLimits | None, known: KnownReferences | None,
                in_file: dict[str, set[str]], progress: Progress | None = None) -> IngestResult:
    """The pipeline for one dataset type of the file (see `ingest_file`)."""
    dataset = load_standard().dataset(spec.dataset)
    wanted = wanted_columns(spec)

    def select(header: list[str]) -> list[str]:
        found = {c for w in wanted if (c := resolve(header, w, prefix=""))}
        return [c for c in header if c in found]

    # A source's own rules may compare rows anywhere in the file (exact copies): such a file is read whole. Any
    # other is processed piece by piece (a large CSV; `read_table_chunks`), each piece as far as it can go alone,
    # and only a narrow table of its rows is kept (issue 14: memory stays flat as files grow). What needs the
    # whole file (duplicates, conflicts, the split) runs once on those, in `stages.records.file_records`.
    reads = [read_table(Path(path), spec.reader, select, limits=limits)] if spec.source \
        else read_table_chunks(Path(path), spec.reader, select, limits=limits)
    pieces: list[Piece] = []
    for read in reads:
        pieces.append(_rows_stage(read, path, spec, dataset, identity_key=identity_key, organisation=organisation,
                                  defaults=defaults, known=known, in_file=in_file))
        if progress is not None:
            progress(sum(p.rows_read for p in pieces))
    return file_records(pieces, spec, dataset, identity_key=identity_key, organisation=organisation)


def _rows_stage(read, path: Path, spec: MappingSpec, dataset: Dataset, *, identity_key: bytes, organisation: str,
                defaults: dict[str, object] | None, known: KnownReferences | None,
                in_file: dict[str, set[str]]) -> Piece:
    """Everything a row needs only itself (and the repository) for, for one piece of the file (`read`): the
    stages resolve, type, derive, check and word the problems (`ctdc.ingest.stages`)."""
    frame = read.frame.rename({c: SRC + c for c in read.frame.columns})
    plan = plan_columns(frame, read.header, spec, dataset, Path(path))
    # Empty cells of every mapped column, in file order: a blank is a missing value, and the report says how many.
    blank_counts = frame.select(pl.col(c).null_count() for c in frame.columns if c in plan.used).row(0, named=True) \
        if plan.used else {}
    blanks = {c.removeprefix(SRC): n for c, n in blank_counts.items()}
    frame = frame.with_columns(read.row_numbers())
    key_cols, rid_col = plan.key_cols, plan.rid_col
    frame = frame.with_columns(
        # A row without a record id (an empty cell, or no record-id column) is known by its row number.
        pl.coalesce([*([pl.col(rid_col)] if rid_col else []),
                     *([pl.concat_str([pl.col(c).fill_null("") for c in key_cols], separator="\x1f")]
                       if key_cols else []),
                     pl.concat_str([pl.lit("row-"), pl.col("row").cast(pl.String)])]).alias("__record_id")
    )
    b = Builder(frame)
    typed, flag_stats = type_fields(b, spec, dataset, plan)
    typed = derive_fields(b, typed, spec, dataset, plan, defaults)
    typed, notes = check_rows(b, typed, read, path, spec, dataset, plan, identity_key=identity_key,
                              organisation=organisation, known=known, in_file=in_file)
    problems = problem_rows(b, typed, dataset, plan)

    # Only what the file stage needs travels on: the raw cells and the flags stay here.
    if key_cols and not rid_col:
        typed = typed.with_columns(
            __content=pl.concat_str([pl.col(c).fill_null("\x00") for c in sorted(plan.used)], separator="\x1f"))
    keep = ["row", "__record_id", *(["__content"] if key_cols and not rid_col else []),
            *dict.fromkeys(c for c in [*(f.name for f in dataset.stored_fields), "full_name", "birth_date",
                                       "citizenship"] if c in typed.columns)]
    # Coded fields are kept as categories (4 bytes a cell instead of a 16-byte string view), and stay so in the
    # accepted records (`IngestResult.records`): on a million rows of the public layout, the kept table is a
    # quarter of its size.
    coded = [c for c in keep if c in dataset.field_names and typed.schema[c] == pl.String
             and dataset.field(c).type != "string"]
    typed = typed.select(keep).with_columns(pl.col(coded).cast(pl.Categorical))
    return Piece(typed, problems, frame.height, blanks, flag_stats, notes,
                 dataclasses.replace(read, frame=read.frame.clear()), rid_col, plan.rid_name, key_cols,
                 plan.ignored)
