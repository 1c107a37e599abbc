"""Build a release folder atomically: write everything into a temporary folder, fsync, then rename into place.

Layout of a release (foundation version; issue 8 adds microdata, codebook, datapackage and reports):

    <root>/<dataset>/<version>/
        aggregates.csv       one-way protected counts: dimension, value, count (counts < k suppressed)
        summary.json         headline figures for the portal, computed from the protected counts only
        metadata.json        dataset, version, method, parameters, standard version, input record count, created
        CHECKSUMS.sha256     sha256 of every other file, `sha256sum -c` compatible

A crash at any moment leaves either no folder or a complete one: readers never see a half-written release.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from ctdc.errors import ReleaseError
from ctdc.privacy.threshold import protected_counts
from ctdc.standard import load_standard

VERSION_RE = re.compile(r"^(\d{4})\.(\d{2})\.(\d+)$")
# One-way dimensions of the foundation's protected counts, in the order the portal shows them.
DIMENSIONS = ("registration_year", "gender", "age_band", "majority_status", "citizenship",
              "country_of_exploitation", "exploitation_types", "labour_sectors", "means_of_control", "data_source")
MULTI = frozenset({"exploitation_types", "labour_sectors", "means_of_control"})


@dataclass(frozen=True)
class BuiltRelease:
    dataset: str
    version: str
    path: Path
    summary: dict
    metadata: dict


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def summarise(counts: pl.DataFrame, records: int, k: int) -> dict:
    """Headline figures from the protected counts only (never from the raw records, except the total)."""
    def dim(name: str) -> list[dict]:
        return counts.filter(pl.col("dimension") == name).select("value", "count").to_dicts()

    return {
        "cases": records,
        "nationalities": len(dim("citizenship")),
        "countries_of_exploitation": len(dim("country_of_exploitation")),
        "k": k,
        "note": f"Nationalities and countries are those with at least {k} cases; smaller counts are suppressed.",
        "by_exploitation_type": dim("exploitation_types"),
        "top_citizenships": dim("citizenship")[:10],
        "by_registration_year": sorted(dim("registration_year"), key=lambda d: d["value"]),
    }


def build_release(frame: pl.DataFrame, *, root: Path, dataset: str, version: str, k: int,
                  notes: str = "", now: datetime | None = None) -> BuiltRelease:
    """Compute protected counts of `frame` and write release `version` of `dataset` under `root`."""
    now = now or datetime.now(UTC)
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
    columns = [c for c in DIMENSIONS if c in frame.columns]
    counts = protected_counts(frame, columns, k=k, multi=MULTI)
    summary = summarise(counts, frame.height, k)
    metadata = {
        "dataset": dataset, "version": version, "method": "threshold-counts", "params": {"k": k},
        "standard_version": std.version, "records": frame.height, "created": now.isoformat(timespec="seconds"),
        "notes": notes, "privacy_unit": ds.privacy_unit,
    }
    (root / dataset).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=root / dataset))
    try:
        counts.write_csv(tmp / "aggregates.csv")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (tmp / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        lines = [f"{_sha256(p)}  {p.name}" for p in sorted(tmp.iterdir())]
        (tmp / "CHECKSUMS.sha256").write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.chmod(0o755)
        _fsync_tree(tmp)
        os.rename(tmp, final)  # atomic on one filesystem; fails if `final` appeared meanwhile
        _fsync_tree(final.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BuiltRelease(dataset, version, final, summary, metadata)


def verify_release(path: Path) -> list[str]:
    """Problems found re-checking a release folder's checksums; empty when it is intact."""
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
        elif _sha256(target) != digest:
            problems.append(f"{name} does not match its checksum")
    extra = {p.name for p in path.iterdir()} - listed - {"CHECKSUMS.sha256"}
    problems.extend(f"{name} is not listed in CHECKSUMS.sha256" for name in sorted(extra))
    return problems
