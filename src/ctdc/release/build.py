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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ctdc.checksums import sha256_file
from ctdc.errors import ReleaseError
from ctdc.fixtures.xlsx import write_xlsx
from ctdc.privacy.threshold import protected_counts
from ctdc.release import package
from ctdc.release.checks import CheckResult, check_release, public_checks
from ctdc.release.ctdc_public import columns as public_columns
from ctdc.release.ctdc_public import write_ctdc_public
from ctdc.release.methods import MethodParams, as_text, get_method, multi_valued
from ctdc.standard import Dataset, load_standard
from ctdc.standard.codebook import export as export_codebook

VERSION_RE = re.compile(r"^(\d{4})\.(\d{2})\.(\d+)$")
# One-way dimensions of the portal's headline counts, in the order the portal shows them.
DIMENSIONS = ("registration_year", "gender", "age_band", "majority_status", "citizenship",
              "country_of_exploitation", "exploitation_types", "labour_sectors", "means_of_control", "data_source")
MULTI = frozenset({"exploitation_types", "labour_sectors", "means_of_control"})
# The columns of a victims release, those of the public CTDC layout plus trafficking status and who decided it
# (standard 0.2.0). Never released: `victim_id` (a surrogate key that would single out every row), exact ages (the
# bands carry them). Not released yet: recruitment methods and online platforms (40 more flag columns, which the
# DP release could not carry within its time budget), and the derived coarse fields (`labour_sectors_isic`,
# `means_of_control_groups`), which users can derive from the codebook.
RELEASED_FIELDS = ("registration_year", "data_source", "trafficking_status", "trafficking_status_decided_by",
                   "gender", "age_band", "majority_status", "majority_status_at_exploitation",
                   "majority_status_at_entry", "citizenship", "country_of_exploitation", "exploitation_types",
                   "labour_sectors", "sexual_exploitation_types", "means_of_control", "is_abduction",
                   "recruiter_relations", "trafficking_duration")

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


def build_release(frame: pl.DataFrame, *, root: Path, dataset: str, version: str, method: str = "k-anonymity",
                  params: MethodParams | None = None, notes: str = "", now: datetime | None = None,
                  previous: dict | None = None, inputs: dict | None = None,
                  progress: Progress = _no_progress) -> BuiltRelease:
    """Protect `frame` (approved records) with `method` and write release `version` of `dataset` under `root`.

    `previous` is the metadata of the previous release (for CHANGES.md); `inputs` adds facts about the input
    (e.g. `records_by_contributor_type`) to the steward report. The disclosure checks run on the output and
    are returned, not raised: the caller decides whether a release may be published (`checks_passed`).
    """
    now = now or datetime.now(UTC)
    params = params or MethodParams()
    run = get_method(method)
    if frame.height == 0:
        raise ReleaseError(f"No approved {dataset} records to release yet.", {"dataset": dataset})
    if not VERSION_RE.match(version):
        raise ReleaseError(f"Release version '{version}' is not of the form YYYY.MM.N.", {"version": version})
    std = load_standard()
    ds = std.dataset(dataset)
    leaked = [c for c in ds.direct_identifiers if c in frame.columns]
    if leaked:
        raise ReleaseError(f"Refusing to release: direct identifier columns present: {', '.join(leaked)}.",
                           {"columns": leaked})
    final = root / dataset / version
    if final.exists():
        raise ReleaseError(f"Release {dataset} {version} already exists and is never rewritten.",
                           {"dataset": dataset, "version": version})

    # --- protect -------------------------------------------------------------------------------------------
    cols = released_columns(frame, ds)
    table = frame.select(cols)
    progress(10, f"Protecting {table.height} records with {method}")
    result = run(table, params, ds)
    micro = result.microdata.select(cols)
    progress(60, f"Running the disclosure checks on {micro.height} output rows")
    # rare-combinations looks at every released column: the quasi-identifiers and all the others.
    checks = check_release(as_text(table), micro, quasi_identifiers=list(ds.quasi_identifiers),
                           sensitive=[c for c in cols if c not in ds.quasi_identifiers], k=params.k,
                           length=params.length, method=method, multi=multi_valued(table, ds))

    # --- describe ------------------------------------------------------------------------------------------
    created = now.isoformat(timespec="seconds")
    # Public: what was published and how. Nothing here is counted on the input (see the module docstring).
    metadata = {
        "dataset": dataset, "version": version, "method": method, "params": params.as_dict(method),
        "standard_version": std.version, "records": micro.height,
        "created": created, "notes": notes, "privacy_unit": ds.privacy_unit,
        "previous_version": previous["version"] if previous else None,
        "checks_passed": not any(c.blocks for c in checks),
    }
    counts = protected_counts(micro, [c for c in DIMENSIONS if c in micro.columns], k=params.k, multi=MULTI)
    summary = package.summary(micro, counts, params.k, method)
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
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=root / dataset))
    try:
        progress(70, "Writing microdata (CSV, XLSX, Parquet, ctdc-public)")
        # Independent files, written side by side: polars and zlib release the GIL, so two cores both work.
        with ThreadPoolExecutor(max_workers=4) as pool:
            writes = [pool.submit(micro.write_csv, tmp / "microdata.csv"),
                      pool.submit(micro.write_parquet, tmp / "microdata.parquet"),
                      pool.submit(write_xlsx, tmp / "microdata.xlsx", "microdata", [cols], micro),
                      pool.submit(write_ctdc_public, micro, tmp / "ctdc-public.csv"),
                      pool.submit(result.aggregates.write_csv, tmp / "aggregates.csv")]
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
        (tmp / "report.html").write_text(package.report_html(report), encoding="utf-8")
        (tmp / "CITATION.cff").write_text(package.citation(dataset=dataset, version=version, method=method,
                                                           created=created, title=title), encoding="utf-8")
        (tmp / "TERMS.md").write_text(package.TERMS, encoding="utf-8")
        (tmp / "CHANGES.md").write_text(package.changes(metadata, previous), encoding="utf-8")
        files = {p.name: (sha256_file(p), p.stat().st_size) for p in tmp.iterdir()}
        _write_json(tmp / "datapackage.json", package.datapackage(
            dataset=dataset, version=version, title=title, created=created, micro_columns=cols, ds=ds,
            public_columns=public_columns(), files=files, description=notes or title))
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
