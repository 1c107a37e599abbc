"""Release a dataset of published aggregates (`government_response`) as it is, once validated.

Such a dataset holds no person (its privacy unit is "none": country-year figures governments and international
bodies already publish), so no protection method applies: the approved figures are published as they are, with
their source, release date and censoring. What would be an error in such a release (a censored figure with a
number) is refused by the database (`cases.GovernmentResponse` constraints) before it can get here. Layout:

    <root>/<dataset>/<version>/
        data.csv             one row per figure, the dataset's fields in standard order (censored: value blank,
                             value_lower/value_upper the interval, value_censored true)
        data.parquet         the same rows, typed
        codebook.json        the released fields and their code lists, with the standard version
        datapackage.json     Frictionless Tabular Data Package: data.csv, typed schema, primary key, sha256, size
        report.json / .html  what was published: rows, figures by indicator, censored figures, sources
        metadata.json        dataset, version, method `as-published`, standard version, rows, previous version
        CITATION.cff, TERMS.md, CHANGES.md, CHECKSUMS.sha256

The folder is written as `ctdc.release.build` writes one: in a temporary folder, fsynced, renamed into place.

>>> import tempfile
>>> frame = pl.DataFrame({"country": ["MX"], "year": [2021], "source": ["unodc_glotip"],
...     "indicator": ["victims_detected"], "breakdown": ["total"], "sex": ["total"], "age_group": ["total"],
...     "value": [None], "value_lower": [1], "value_upper": [4], "value_censored": [True]})
>>> built = build_published_release(frame, root=Path(tempfile.mkdtemp()), dataset="government_response",
...                                 version="2026.12.1")
>>> built.metadata["method"], built.metadata["records"], built.summary["censored"]
('as-published', 1, 1)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ctdc.checksums import sha256_file
from ctdc.errors import ReleaseError
from ctdc.release import package
from ctdc.release.build import (
    BuiltRelease,
    Progress,
    _no_progress,
    new_release_folder,
    release_folder_in_place,
)
from ctdc.standard import Dataset, load_standard

METHOD = "as-published"
_TYPES = {"integer": "integer", "boolean": "boolean", "date": "date", "number": "number"}


def is_published_aggregate(dataset: str) -> bool:
    """True for a dataset type of published aggregates (no person-level data): released as it is."""
    ds = load_standard().dataset(dataset)
    return ds.privacy_unit.startswith("none") and all(f.role == "non_identifying" for f in ds.fields)


def _schema(ds: Dataset, columns: list[str]) -> dict[str, Any]:
    fields = []
    for name in columns:
        f = ds.field(name)
        entry: dict[str, Any] = {"name": name, "type": _TYPES.get(f.type, "string"), "title": f.label,
                                 "description": f.description}
        constraints: dict[str, Any] = {}
        if f.min is not None and f.type == "integer":
            constraints["minimum"] = int(f.min)
        if f.codelist is not None and f.codelist.name != "country":
            constraints["enum"] = list(f.codelist.codes)
        if f.codelist is not None and f.codelist.name == "country":
            constraints["pattern"] = "[A-Z]{2}"
        if f.required:
            constraints["required"] = True
        if constraints:
            entry["constraints"] = constraints
        if f.type == "boolean":
            entry["trueValues"], entry["falseValues"] = ["true"], ["false"]
        fields.append(entry)
    return {"fields": fields, "missingValues": [""]}


def _summary(frame: pl.DataFrame) -> dict[str, Any]:
    """What the release holds, counted on the published figures themselves (which are public)."""
    by = lambda col: dict(sorted(frame.group_by(col).len().drop_nulls(col).iter_rows())) if col in frame.columns else {}  # noqa: E731
    return {
        "figures": frame.height,
        "countries": frame["country"].n_unique() if "country" in frame.columns else 0,
        "years": [int(frame["year"].min()), int(frame["year"].max())] if frame.height else [],
        "by_indicator": by("indicator"),
        "by_source": by("source"),
        "censored": int(frame["value_censored"].fill_null(False).sum()) if "value_censored" in frame.columns else 0,
    }


def build_published_release(frame: pl.DataFrame, *, root: Path, dataset: str, version: str, notes: str = "",
                            now: datetime | None = None, previous: dict | None = None,
                            progress: Progress = _no_progress) -> BuiltRelease:
    """Write release `version` of `dataset` (published aggregates) under `root` from its approved rows."""
    now = now or datetime.now(UTC)
    if not is_published_aggregate(dataset):
        raise ReleaseError(f"Dataset '{dataset}' holds person-level data: it is released only through a "
                           "protection method, never as it is.", {"dataset": dataset})
    final = new_release_folder(root, dataset, version, frame)
    std = load_standard()
    ds = std.dataset(dataset)
    # Fields with at least one value, in standard order; the first layout's wide columns go when no row has them.
    columns = [f.name for f in ds.stored_fields if f.name in frame.columns and frame[f.name].null_count() < frame.height]
    keys = [f.name for f in ds.fields if f.name in columns and (f.key or f.name in ("country", "year", "source"))]
    table = frame.select(columns).sort(keys)
    progress(20, f"Publishing {table.height} figures as they are (non-personal)")
    created = now.isoformat(timespec="seconds")
    summary = _summary(table)
    metadata = {"dataset": dataset, "version": version, "method": METHOD, "params": {},
                "standard_version": std.version, "records": table.height, "created": created, "notes": notes,
                "privacy_unit": ds.privacy_unit, "previous_version": previous["version"] if previous else None,
                "checks_passed": True}
    report = {"release": metadata, "checks": [],
              "records": {"figures in the release": table.height, "censored figures (intervals)": summary["censored"]},
              "engine": {"published as it is": {
                  "why": "Published aggregates: no person-level data, so no protection method applies. Every "
                         "figure passed validation; censored figures stay intervals (value blank, value_lower "
                         "and value_upper set).",
                  "figures by indicator": summary["by_indicator"], "sources": summary["by_source"]}}}
    title = f"ctdc {ds.label.lower()} dataset, release {version}"
    (root / dataset).mkdir(parents=True, exist_ok=True)
    write_table_release(final, progress, stage=(50, "Writing data.csv, data.parquet, codebook, data package and report"),
                        table=table, files={"codebook.json": package.codebook(ds, columns, std.version),
                                            "summary.json": summary, "metadata.json": metadata},
                        report=report, metadata=metadata, previous=previous, dataset=dataset, version=version,
                        method=METHOD, created=created, title=title, description=notes or ds.description,
                        sources=_sources(table), resource_title="One published figure per row",
                        schema=_schema(ds, columns))
    progress(100, f"Release {dataset} {version} written")
    steward = {"release": {k: metadata[k] for k in ("dataset", "version", "method", "params", "created")},
               "input": {"records": frame.height}, "checks": [], "engine": {}}
    return BuiltRelease(dataset, version, final, summary, metadata, [], steward)


_SOURCE_TITLES = {"unodc_glotip": ("UNODC, Global Report on Trafficking in Persons (GLOTIP), country data",
                                   "https://dataunodc.un.org/")}


def _sources(table: pl.DataFrame) -> list[dict[str, str]]:
    """The data package's `sources`: each publication the figures come from, with its release date when known."""
    out = []
    for code in table["source"].unique().sort().to_list() if "source" in table.columns else []:
        title, path = _SOURCE_TITLES.get(code, (code, ""))
        dates = table.filter(pl.col("source") == code)["release_date"].drop_nulls().unique().sort() \
            if "release_date" in table.columns else pl.Series([])
        if dates.len():
            title += f", released {', '.join(str(d) for d in dates.to_list())}"
        out.append({"title": title, **({"path": path} if path else {})})
    return out


def write_table_release(final: Path, progress: Progress, *, stage: tuple[int, str], table: pl.DataFrame,
                        files: dict[str, Any], report: dict[str, Any], metadata: dict[str, Any],
                        previous: str | None, dataset: str, version: str, method: str, created: str, title: str,
                        description: str, sources: list[dict], resource_title: str, schema: dict) -> None:
    """Write a release whose data is one table into `final` (sealed and moved into place): data.csv and
    data.parquet, the JSON `files` (name -> content), report.json, the common documents, and a Frictionless data
    package of data.csv with `schema`. Shared by the releases of published aggregates and of fee statistics."""
    with release_folder_in_place(final, progress) as tmp:
        progress(*stage)
        table.write_csv(tmp / "data.csv")
        table.write_parquet(tmp / "data.parquet")
        for name, content in files.items():
            _json(tmp / name, content)
        _json(tmp / "report.json", report)
        package.write_documents(tmp, report=report, metadata=metadata, previous=previous, dataset=dataset,
                                version=version, method=method, created=created, title=title)
        sha, size = sha256_file(tmp / "data.csv"), (tmp / "data.csv").stat().st_size
        _json(tmp / "datapackage.json", {
            "profile": "tabular-data-package", "name": f"ctdc-{dataset.replace('_', '-')}",
            "id": f"ctdc-{dataset}-{version}", "title": title, "description": description, "version": version,
            "created": created, "licenses": [package.LICENSE], "sources": sources,
            "resources": [{"name": "data", "path": "data.csv", "profile": "tabular-data-resource", "format": "csv",
                           "mediatype": "text/csv", "encoding": "utf-8", "hash": f"sha256:{sha}", "bytes": size,
                           "title": resource_title, "schema": schema}]})


def _json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
