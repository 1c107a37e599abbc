"""Build a release folder atomically: write everything into a temporary folder, fsync, then rename into place.

Layout of a release (issue 8):

    <root>/<dataset>/<version>/
        microdata.csv / .xlsx / .parquet   protected rows (method: k-anonymity, k-synthetic or dp-synthetic)
        ctdc-public.csv      the same rows in the public CTDC k-anonymized layout (`;`, CRLF, notice cell)
        aggregates.csv       protected counts of every combination up to length L: combination, length, count,
                             protection
        codebook.json        the released fields and their code lists, with the standard version
        codebook.html        the standard's printable codebook (all dataset types) of that version
        standard.json        the whole standard of that version (`ctdc.standard.codebook.export("json")`)
        datapackage.json     Frictionless Tabular Data Package: the three CSV tables, schemas, sha256, sizes
        report.json / .html  the public report: parameters, the guarantee, the checks as the public may see them
                             (`checks.public_checks`), the rows' number, risk and utility measured on the output
                             (against the published counts) only
        summary.json         headline figures for the portal (threshold-protected counts of the microdata)
        metadata.json        dataset, version, method, parameters, standard version, rows, previous version
        CITATION.cff         how to cite the release; TERMS.md the terms of use
        CHANGES.md           what changed since the previous release
        CHECKSUMS.sha256     sha256 of every other file, `sha256sum -c` compatible

A crash at any moment leaves either no folder or a complete one: readers never see a half-written release.
Folders are never rewritten. Temporary folders are named `.tmp-<version>-*` and are never served or listed.

Nothing in the folder is computed on the input (issue 13): not its record count, not its counts by contributor
type, not the comparison of the output with its exact counts, not the counts of checks that read it. Those make
the steward report (`BuiltRelease.steward_report`, rendered by `package.report_html(..., steward=True)`), which
this module never writes into the folder: the caller stores it where only stewards can read it
(`ctdc.web.releases.store.steward_report_store`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ctdc.checksums import sha256_file
from ctdc.errors import ReleaseError
from ctdc.formulas import defuse_frame
from ctdc.privacy.threshold import protected_counts
from ctdc.release import package
from ctdc.release.checks import CheckResult, check_release, public_checks
from ctdc.release.ctdc_public import columns as public_columns
from ctdc.release.ctdc_public import write_ctdc_public
from ctdc.release.linked import (
    BOUNDS,
    DEFAULT_BOUND,
    ORDER,
    bound_links,
    is_linked,
    release_dataset,
    run_linked,
)
from ctdc.release.methods import MethodParams, as_text, get_method, multi_valued
from ctdc.release.routes import ROUTE_COLUMNS, corridor_counts
from ctdc.standard import Dataset, load_standard
from ctdc.standard.codebook import export as export_codebook
from ctdc.xlsx import write_xlsx

VERSION_RE = re.compile(r"^(\d{4})\.(\d{2})\.(\d+)$")
# One-way dimensions of the portal's headline counts, in the order the portal shows them.
DIMENSIONS = ("registration_year", "gender", "age_band", "majority_status", "citizenship",
              "country_of_exploitation", "exploitation_types", "labour_sectors", "means_of_control",
              "recruitment_methods", "recruitment_platforms", "exploitation_platforms", "data_source")
MULTI = frozenset({"exploitation_types", "labour_sectors", "means_of_control", "recruitment_methods",
                   "recruitment_platforms", "exploitation_platforms"})
# The same for a linked release (perpetrators through their links), in the order the perpetrator page shows them.
LINKED_DIMENSIONS = ("role_groups", "relation_to_victim", "gender", "perpetrator_age_band", "citizenship_region",
                     "exploitation_region", "victim_paid_perpetrator")
LINKED_MULTI = frozenset({"role_groups", "relation_to_victim"})
# The columns of a victims release, those of the public CTDC layout plus trafficking status and who decided it,
# methods of recruitment and the websites and apps used in recruitment and in exploitation (standard 0.2.0; 40
# more flag columns in the synthetic methods, issue 17 item 7). Never released: `victim_id` (a surrogate key that
# would single out every row), exact ages (the bands carry them). Not released: the derived coarse fields
# (`labour_sectors_isic`, `means_of_control_groups`), which users can derive from the codebook.
RELEASED_FIELDS = ("registration_year", "data_source", "trafficking_status", "trafficking_status_decided_by",
                   "gender", "age_band", "majority_status", "majority_status_at_exploitation",
                   "majority_status_at_entry", "citizenship", "country_of_exploitation", "exploitation_types",
                   "labour_sectors", "sexual_exploitation_types", "means_of_control", "is_abduction",
                   "recruiter_relations", "recruitment_methods", "recruitment_platforms", "exploitation_platforms",
                   "trafficking_duration")

Progress = Callable[[int, str], None]


def _no_progress(percent: int, message: str) -> None:
    """Default progress callback: nothing to report to."""


@dataclass(frozen=True)
class BuiltRelease:
    dataset: str
    version: str
    path: Path
    summary: dict
    metadata: dict
    checks: list[CheckResult] = field(default_factory=list)
    # Everything computed on the input, for data stewards only: never written into the release folder.
    steward_report: dict = field(default_factory=dict)

    @property
    def checks_passed(self) -> bool:
        return not any(c.blocks for c in self.checks)

    @property
    def failed_checks(self) -> list[str]:
        return [c.id for c in self.checks if c.blocks]


def next_version(existing: list[str], today: datetime) -> str:
    """Date-based version `YYYY.MM.N`: N counts up within a month.

    >>> next_version(["2026.11.1", "2026.10.4"], datetime(2026, 11, 25))
    '2026.11.2'
    >>> next_version([], datetime(2026, 1, 2))
    '2026.01.1'
    """
    prefix = f"{today.year:04d}.{today.month:02d}."
    seq = [int(m.group(3)) for v in existing if (m := VERSION_RE.match(v)) and v.startswith(prefix)]
    return f"{prefix}{max(seq, default=0) + 1}"


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def released_columns(frame: pl.DataFrame, ds: Dataset) -> list[str]:
    """The released fields of the dataset present in `frame`, in standard order."""
    return [f.name for f in ds.stored_fields if f.name in frame.columns and f.name in RELEASED_FIELDS]


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


@contextmanager
def release_folder_in_place(final: Path, progress: Progress = _no_progress) -> Iterator[Path]:
    """A temporary folder beside `final` to write a release into; when the block ends, it is sealed
    (CHECKSUMS.sha256, files read-only, synced to disk) and renamed to `final` in one step, so a release folder is
    either complete or absent. On any error, a kill excepted, the temporary folder is removed (a killed build's
    leftover `.tmp-*` is cleared by the next build)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield tmp
        lines = [f"{sha256_file(p)}  {p.name}" for p in sorted(tmp.iterdir())]
        (tmp / "CHECKSUMS.sha256").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for p in tmp.iterdir():
            p.chmod(0o444)  # published files never change; read-only says so to anyone on the machine
        tmp.chmod(0o755)
        progress(95, "Syncing to disk and moving into place")
        _fsync_tree(tmp)
        os.rename(tmp, final)  # atomic on one filesystem; fails if `final` appeared meanwhile
        _fsync_tree(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def new_release_folder(root: Path, dataset: str, version: str, frame: pl.DataFrame) -> Path:
    """Where release `version` of `dataset` goes, after the checks every release shares: rows to release, a
    well-formed version, and no release of that version yet (a release is never rewritten)."""
    if frame.height == 0:
        raise ReleaseError(f"No approved {dataset} records to release yet.", {"dataset": dataset})
    if not VERSION_RE.match(version):
        raise ReleaseError(f"Release version '{version}' is not of the form YYYY.MM.N.", {"version": version})
    final = root / dataset / version
    if final.exists():
        raise ReleaseError(f"Release {dataset} {version} already exists and is never rewritten.",
                           {"dataset": dataset, "version": version})
    return final


def build_release(frame: pl.DataFrame, *, root: Path, dataset: str, version: str, method: str = "k-anonymity",
                  params: MethodParams | None = None, notes: str = "", now: datetime | None = None,
                  previous: dict | None = None, inputs: dict | None = None,
                  contributors: dict[str, int] | None = None,
                  progress: Progress = _no_progress, bound: int | None = None) -> BuiltRelease:
    """Protect `frame` (approved records) with `method` and write release `version` of `dataset` under `root`.

    `previous` is the metadata of the previous release (for CHANGES.md); `inputs` adds facts about the input
    (e.g. `records_by_contributor_type`) to the steward report. `contributors` is the number of contributing
    organisations by type (`{"hotline": 1, "case_management": 2}`): public, stated in the release's metadata,
    report and summary. It counts organisations, as the public list of contributors does (a contributor is
    credited by name unless it asks not to be): never records, so nothing in it is counted on the victims.
    The disclosure checks run on the output and are returned, not raised: the caller decides whether a release
    may be published (`checks_passed`).
    A linked dataset (`perpetrators`) takes `frame` as its link table with the victim key `victim_id` and a
    random `perpetrator_id`; at most `bound` links per victim are released (`ctdc.release.linked`; default 3).
    `journey_events` takes its route table (`ctdc.release.routes.routes_from_events`), one row per victim.
    """
    now = now or datetime.now(UTC)
    params = params or MethodParams()
    if params.years_to is None:  # the release's own date: public, the same whoever is in the input
        params = replace(params, years_to=now.year)
    run = get_method(method)
    final = new_release_folder(root, dataset, version, frame)
    std = load_standard()
    linked = is_linked(dataset)
    if bound is None:
        bound = BOUNDS.get(dataset, DEFAULT_BOUND)
    routes = dataset == "journey_events"
    # A linked dataset (perpetrators) is released as its links to victims, at most `bound` rows per victim
    # (ctdc.release.linked): the release table's columns come from the perpetrators, links and victims.
    ds = release_dataset(bound, dataset) if linked else std.dataset(dataset)
    leaked = [c for c in std.dataset(dataset).direct_identifiers if c in frame.columns]
    if leaked:
        raise ReleaseError(f"Refusing to release: direct identifier columns present: {', '.join(leaked)}.",
                           {"columns": leaked})

    # --- protect -------------------------------------------------------------------------------------------
    if linked:
        frame = bound_links(frame, bound=bound, order=ORDER[dataset])
        cols = [c for c in ds.field_names if c in frame.columns]
    else:
        cols = released_columns(frame, ds)
    table = frame.select(cols)
    progress(10, f"Protecting {table.height} records with {method}")
    result = run_linked(method, table, params, ds, bound=bound) if linked else run(table, params, ds)
    micro = result.microdata.select(cols)
    progress(60, f"Running the disclosure checks on {micro.height} output rows")
    # rare-combinations looks at every released column: the quasi-identifiers and all the others. A linked
    # release is checked at k x B rows, what k victims need.
    k_rows = params.k * bound if linked else params.k
    checks = check_release(as_text(table), micro, quasi_identifiers=list(ds.quasi_identifiers),
                           sensitive=[c for c in cols if c not in ds.quasi_identifiers], k=k_rows,
                           length=params.length, method=method, multi=multi_valued(table, ds))

    # --- describe ------------------------------------------------------------------------------------------
    created = now.isoformat(timespec="seconds")
    # Public: what was published and how. Nothing here is counted on the input (see the module docstring).
    metadata = {
        "dataset": dataset, "version": version, "method": method,
        "params": {**params.as_dict(method), **({"contribution_bound": bound} if linked else {})},
        "standard_version": std.version, "records": micro.height,
        "created": created, "notes": notes, "privacy_unit": ds.privacy_unit,
        "previous_version": previous["version"] if previous else None,
        "checks_passed": not any(c.blocks for c in checks),
    }
    if contributors is not None:
        metadata["contributors_by_type"] = dict(sorted(contributors.items()))
    dims = ROUTE_COLUMNS if routes else LINKED_DIMENSIONS if linked else DIMENSIONS
    counts = protected_counts(micro, [c for c in dims if c in micro.columns], k=k_rows,
                              multi=MULTI | LINKED_MULTI)
    summary = package.summary(micro, counts, k_rows, method)
    if linked:
        summary["by"] = {d: counts.filter((pl.col("dimension") == d) & (pl.col("value") != "*"))
                         .select("value", "count").to_dicts() for d in dims}
        summary["contribution_bound"] = bound
    if routes:
        # The route map's arcs and the table of top corridors: counts of the released rows, threshold k.
        summary["corridors"] = corridor_counts(micro, k=k_rows)
    elif linked:
        # The perpetrator page's profile by region of exploitation: the same threshold, within each region.
        summary["by_exploitation_region"] = {
            region: {d: part.filter(pl.col("dimension") == d).select("value", "count").to_dicts()
                     for d in ("role_groups", "gender", "relation_to_victim")}
            for region in micro["exploitation_region"].drop_nulls().unique().sort().to_list() if region != "*"
            for part in [protected_counts(micro.filter(pl.col("exploitation_region") == region),
                                          ["role_groups", "gender", "relation_to_victim"], k=k_rows,
                                          multi=LINKED_MULTI).filter(pl.col("value") != "*")]}
    if contributors is not None:  # the portal's headline "contributing organisations by type"
        summary["contributors_by_type"] = metadata["contributors_by_type"]
    title = f"ctdc {ds.label.lower()} dataset, release {version} ({method})"
    report = {
        "release": metadata,
        "checks": public_checks(checks),
        "records": {"rows in the release": micro.height},
        "engine": result.report,
    }
    steward_report = {
        "release": {key: metadata[key] for key in ("dataset", "version", "method", "params", "created")},
        "input": {"records": frame.height, **(inputs or {})},
        "checks": [c.as_dict() for c in checks],
        "engine": result.steward_report,
    }

    # --- write ---------------------------------------------------------------------------------------------
    (root / dataset).mkdir(parents=True, exist_ok=True)
    with release_folder_in_place(final, progress) as tmp:
        progress(70, "Writing microdata (CSV, XLSX, Parquet, ctdc-public)")
        # Independent files, written side by side: polars and zlib release the GIL, so two cores both work.
        with ThreadPoolExecutor(max_workers=4) as pool:
            # CSV and XLSX are opened in spreadsheet programs: text that starts like a formula is defused there
            # (ctdc.formulas); Parquet keeps the values as they are.
            sheet = defuse_frame(micro)
            writes = [pool.submit(sheet.write_csv, tmp / "microdata.csv"),
                      pool.submit(micro.write_parquet, tmp / "microdata.parquet"),
                      pool.submit(write_xlsx, tmp / "microdata.xlsx", "microdata", [cols], sheet),
                      pool.submit(defuse_frame(result.aggregates).write_csv, tmp / "aggregates.csv")]
            if not linked:  # the public CTDC layout is the victims' (its victim-perpetrator flavour: not yet)
                writes.append(pool.submit(write_ctdc_public, micro, tmp / "ctdc-public.csv"))
            for w in writes:
                w.result()  # re-raises a failed write here, inside the cleanup below
        progress(85, "Writing codebook, data package, report, citation and terms")
        _write_json(tmp / "codebook.json", package.codebook(ds, cols, std.version))
        # The whole standard of this version, as the standard's own codebook exports render it.
        export_codebook("html", tmp / "codebook.html", standard=std)
        export_codebook("json", tmp / "standard.json", standard=std)
        _write_json(tmp / "summary.json", summary)
        _write_json(tmp / "metadata.json", metadata)
        _write_json(tmp / "report.json", report)
        package.write_documents(tmp, report=report, metadata=metadata, previous=previous, dataset=dataset,
                                version=version, method=method, created=created, title=title)
        files = {p.name: (sha256_file(p), p.stat().st_size) for p in tmp.iterdir()}
        _write_json(tmp / "datapackage.json", package.datapackage(
            dataset=dataset, version=version, title=title, created=created, micro_columns=cols, ds=ds,
            public_columns=[] if linked else public_columns(), files=files, description=notes or title))
    progress(100, f"Release {dataset} {version} written")
    return BuiltRelease(dataset, version, final, summary, metadata, checks, _jsonable(steward_report))


def _jsonable(data: Any) -> Any:
    """`data` as JSON would give it back (numbers, strings, lists, dicts): what the steward storage keeps."""
    return json.loads(json.dumps(data, default=str))


def remove_stale_temporaries(root: Path, dataset: str) -> list[str]:
    """Delete the `.tmp-*` folders that builds of `dataset` left when they died before their rename.

    A killed build (kill -9, power cut) cannot clean up after itself; its folder is never served or listed, but
    it holds protected rows and takes disk space. Call this only while holding the dataset's build reservation
    (one active build per dataset): the folder of a live build would go too. Returns the names removed.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "victims" / ".tmp-2026.11.2-abc").mkdir(parents=True)
    >>> (root / "victims" / "2026.11.1").mkdir()
    >>> remove_stale_temporaries(root, "victims"), sorted(p.name for p in (root / "victims").iterdir())
    (['.tmp-2026.11.2-abc'], ['2026.11.1'])
    """
    folder = root / dataset
    removed = []
    for tmp in sorted(folder.glob(".tmp-*")) if folder.is_dir() else []:
        shutil.rmtree(tmp)
        removed.append(tmp.name)
    return removed


def verify_release(path: Path) -> list[str]:
    """Problems found re-checking a release folder (checksums, data package hashes, CSV headers vs schemas);
    empty when it is intact."""
    if not path.is_dir():
        return [f"{path} does not exist"]
    sums = path / "CHECKSUMS.sha256"
    if not sums.is_file():
        return ["CHECKSUMS.sha256 is missing"]
    problems = []
    listed = set()
    for line in sums.read_text().splitlines():
        digest, name = line.split("  ", 1)
        listed.add(name)
        target = path / name
        if not target.is_file():
            problems.append(f"{name} is missing")
        elif sha256_file(target) != digest:
            problems.append(f"{name} does not match its checksum")
    extra = {p.name for p in path.iterdir()} - listed - {"CHECKSUMS.sha256"}
    problems.extend(f"{name} is not listed in CHECKSUMS.sha256" for name in sorted(extra))
    descriptor = path / "datapackage.json"
    if descriptor.is_file() and "datapackage.json" not in {p.split(" ")[0] for p in problems}:
        problems.extend(_verify_schemas(path, json.loads(descriptor.read_text(encoding="utf-8"))))
    return problems


def _verify_schemas(path: Path, descriptor: dict) -> list[str]:
    problems = []
    for res in descriptor.get("resources", []):
        target = path / res["path"]
        if not target.is_file():
            problems.append(f"{res['path']} (data package resource) is missing")
            continue
        if res.get("hash") and res["hash"] != f"sha256:{sha256_file(target)}":
            problems.append(f"{res['path']} does not match its data package hash")
        delimiter = res.get("dialect", {}).get("delimiter", ",")
        header = pl.read_csv(target, separator=delimiter, n_rows=0, infer_schema=False).columns
        expected = [f["name"] for f in res.get("schema", {}).get("fields", [])]
        if header != expected:
            problems.append(f"{res['path']} header does not match its schema in datapackage.json")
    return problems
