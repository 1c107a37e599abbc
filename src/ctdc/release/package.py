"""The documentation files of a release package: codebook, Data Package descriptor, citation, terms, changes, report.

NOTE: pure Python; never import Django here. Each function returns text (or a dict) and writes nothing, so
`ctdc.release.build` stays the one place that touches the release folder.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import polars as pl

from ctdc.release.ctdc_public import NOTICE
from ctdc.standard import Dataset

LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
           "path": "https://creativecommons.org/licenses/by/4.0/"}

TERMS = """# Terms of use

By downloading or using any file of this release you agree to these terms.

1. **Never try to identify anyone.** Do not attempt to re-identify victims, perpetrators, contributors or
   any person from these data, alone or combined with other information, and do not publish anything that could.
2. **Report suspected disclosure.** If you believe a record or figure could identify someone, stop using it and
   tell the data stewards of this installation.
3. **Cite the release** as given in `CITATION.cff` (dataset, version and method), and say that the data are
   protected: k-anonymized or synthetic rows are not case files, and figures computed from them are estimates.
4. **Licence.** Subject to the above, the files are available under Creative Commons Attribution 4.0
   (CC BY 4.0).
5. **No warranty.** The data are provided as is. Demo installations hold simulated, entirely fictional data.
"""


def codebook(ds: Dataset, columns: list[str], standard_version: str) -> dict[str, Any]:
    """The released fields of `ds` with their code lists (country: ISO 3166-1 alpha-2, named, not listed)."""
    fields = []
    for name in columns:
        f = ds.field(name)
        entry: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.type, "role": f.role,
                                 "description": f.description}
        if f.codelist is not None:
            entry["codelist"] = f.codelist.name
            if f.codelist.name != "country":
                entry["codes"] = [{"code": c.code, "label": c.label} for c in f.codelist.entries]
        fields.append(entry)
    return {"standard_version": standard_version, "dataset": ds.name, "label": ds.label,
            "description": ds.description, "privacy_unit": ds.privacy_unit, "fields": fields,
            "notes": ["Multi-valued fields (type codes) join their codes with ';'.",
                      "k-anonymized releases may hold generalized values: a 5-year period for registration_year, "
                      "'minor'/'adult' for age_band, '*' for a suppressed value."]}


def _string_fields(names: list[str], ds: Dataset | None = None) -> list[dict[str, Any]]:
    out = []
    for n in names:
        field: dict[str, Any] = {"name": n, "type": "string"}
        if ds is not None:
            f = ds.field(n)
            field["title"] = f.label
            field["description"] = f.description
        out.append(field)
    return out


def datapackage(*, dataset: str, version: str, title: str, created: str, micro_columns: list[str], ds: Dataset,
                public_columns: list[str], files: dict[str, tuple[str, int]], description: str) -> dict[str, Any]:
    """A Frictionless (v1) Tabular Data Package describing the release's CSV tables, with hashes and sizes."""
    def res(name: str, path: str, schema: dict, **extra) -> dict[str, Any]:
        sha, size = files[path]
        return {"name": name, "path": path, "profile": "tabular-data-resource", "format": "csv",
                "mediatype": "text/csv", "encoding": "utf-8", "hash": f"sha256:{sha}", "bytes": size,
                "schema": schema, **extra}

    return {
        "profile": "tabular-data-package",
        "name": f"ctdc-{dataset}",
        "id": f"ctdc-{dataset}-{version}",
        "title": title,
        "description": description,
        "version": version,
        "created": created,
        "licenses": [LICENSE],
        "resources": [
            res("microdata", "microdata.csv", {"fields": _string_fields(micro_columns, ds), "missingValues": [""]},
                title="Protected microdata, one row per (synthetic or k-anonymized) "
                      f"{'victim' if dataset == 'victims' else 'victim-perpetrator link'}"),
            res("aggregates", "aggregates.csv", {"fields": [
                {"name": "combination", "type": "string", "description": "column:value pairs joined by ';'"},
                {"name": "length", "type": "integer"},
                {"name": "count", "type": "integer", "constraints": {"minimum": 0}},
                {"name": "protection", "type": "string"}], "missingValues": [""]},
                title="Protected counts of every combination up to length L"),
            *([res("ctdc-public", "ctdc-public.csv",
                   {"fields": _string_fields([NOTICE, *public_columns]), "missingValues": [""]},
                   title="The microdata in the public CTDC k-anonymized layout",
                   dialect={"delimiter": ";", "lineTerminator": "\r\n", "quoteChar": '"'})]
              if public_columns else []),
        ],
    }


def citation(*, dataset: str, version: str, method: str, created: str, title: str) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the release."""
    return (
        "cff-version: 1.2.0\n"
        "message: If you use these data, please cite them as below.\n"
        "type: dataset\n"
        f'title: "{title}"\n'
        f'version: "{version}"\n'
        f"date-released: {created[:10]}\n"
        "authors:\n"
        '  - name: "ctdc contributors (data stewards of this installation)"\n'
        "license: CC-BY-4.0\n"
        f'abstract: "Protected release {version} of the {dataset} dataset ({method}). Rows are protected, not case '
        'files; see TERMS.md."\n'
        "keywords: [human trafficking, counter-trafficking, privacy, synthetic data]\n"
    )


def citation_text(*, dataset: str, version: str, method: str, created: str) -> str:
    """One-line human citation, shown on the portal.

    >>> citation_text(dataset="victims", version="2026.11.1", method="k-anonymity", created="2026-11-25T10:00")
    'ctdc contributors (2026). victims dataset, release 2026.11.1 (k-anonymity). Protected data.'
    """
    return f"ctdc contributors ({created[:4]}). {dataset} dataset, release {version} ({method}). Protected data."


def changes(metadata: dict[str, Any], previous: dict[str, Any] | None) -> str:
    """CHANGES.md: what differs from the previous release of the same dataset.

    Only what the two releases publish is compared: never the number of records in the central repository or
    by contributor type (exact facts about the input, for stewards only).

    >>> text = changes({"version": "2026.11.2", "method": "k-anonymity", "params": {"k": 11}, "records": 9,
    ...   "standard_version": "0.1.0"}, {"version": "2026.11.1", "method": "k-anonymity", "params": {"k": 5},
    ...   "records": 8, "standard_version": "0.1.0"}).splitlines()
    >>> text[2], text[4]
    ('Compared with release 2026.11.1:', '- Rows in the release: 8 -> 9.')
    """
    lines = [f"# Changes in release {metadata['version']}", ""]
    if previous is None:
        lines.append("First release of this dataset.")
        return "\n".join(lines) + "\n"
    lines += [f"Compared with release {previous['version']}:", ""]
    lines.append(f"- Rows in the release: {previous['records']} -> {metadata['records']}.")
    if metadata["method"] != previous["method"]:
        lines.append(f"- Method changed: {previous['method']} -> {metadata['method']}.")
    for key in sorted(set(metadata["params"]) | set(previous["params"])):
        a, b = previous["params"].get(key), metadata["params"].get(key)
        if a != b:
            lines.append(f"- Parameter {key} changed: {a} -> {b}.")
    if metadata["standard_version"] != previous["standard_version"]:
        lines.append(f"- Standard version changed: {previous['standard_version']} -> {metadata['standard_version']}.")
    return "\n".join(lines) + "\n"


NO_PUBLIC_CHECKS = ("The checks of a differentially private release read the input: they are advisory, logged for "
                    "the data stewards, and never decide publication. The guarantee above does not depend on them.")


def _cell(v: Any) -> str:
    if isinstance(v, dict | list):
        return f"<code>{html.escape(json.dumps(v, default=str))}</code>"
    return html.escape(str(v))


def contributors_text(by_type: dict[str, int]) -> str:
    """The contributing organisations by type, as the release report states them.

    >>> contributors_text({"case_management": 2, "hotline": 1})
    '3 organisations: 2 case management, 1 hotline'
    """
    total = sum(by_type.values())
    parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(by_type.items()))
    return f"{total} organisation{'s' if total != 1 else ''}: {parts}"


def _contributors_html(by_type: dict[str, int] | None) -> str:
    if by_type is None:
        return ""
    return f"<p>Contributing organisations (organisations, not records): {html.escape(contributors_text(by_type))}.</p>"


def report_html(report: dict[str, Any], steward: bool = False) -> str:
    """report.html (or, with `steward`, the steward report): self-contained (inline CSS, no scripts, nothing
    fetched)."""
    esc = html.escape
    meta = report["release"]
    kind = "steward report (computed on the input: never publish)" if steward else "release report"
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             f"<title>{esc(meta['dataset'])} {esc(meta['version'])}: {kind}</title>",
             "<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
             "margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left;vertical-align:top}"
             "th{background:#eee}.fail{color:#a00;font-weight:bold}.pass{color:#070}code{font-size:12px}</style>",
             "</head><body>",
             f"<h1>Release {esc(meta['version'])} of {esc(meta['dataset'])}: {esc(kind)}</h1>",
             f"<p>Method <strong>{esc(meta['method'])}</strong>, parameters {_cell(meta['params'])}"
             + (f", standard {esc(meta['standard_version'])}, previous release "
                f"{esc(str(meta.get('previous_version') or 'none'))}" if "standard_version" in meta else "") + ".</p>",
             _contributors_html(meta.get("contributors_by_type")),
             "<h2>Disclosure checks on the output</h2>",
             "" if report["checks"] else f"<p>{esc(NO_PUBLIC_CHECKS)}</p>",
             "<table><tr><th>check</th><th>result</th><th>blocking</th><th>detail</th></tr>"]
    for c in report["checks"]:
        cls, word = ("pass", "passed") if c["passed"] else ("fail", "FAILED")
        parts.append(f"<tr><td>{esc(c['id'])}</td><td class='{cls}'>{word}</td><td>{'yes' if c['blocking'] else 'advisory'}"
                     f"</td><td>{esc(c['detail'])}</td></tr>")
    records = report.get("records") or report.get("input") or {}
    parts.append(f"</table><h2>{'Input' if steward else 'Records'}</h2><table>")
    for k, v in records.items():
        parts.append(f"<tr><th>{esc(k)}</th><td>{_cell(v)}</td></tr>")
    parts.append("</table>")
    for section, body in report["engine"].items():
        parts.append(f"<h2>{esc(section.replace('_', ' ').capitalize())}</h2><table>")
        items = body.items() if isinstance(body, dict) else [("value", body)]
        for k, v in items:
            parts.append(f"<tr><th>{esc(str(k))}</th><td>{_cell(v)}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def summary(micro: pl.DataFrame, counts: pl.DataFrame, k: int, method: str) -> dict[str, Any]:
    """Headline figures for the portal, from the protected microdata's threshold-protected counts only."""
    def dim(name: str) -> list[dict]:
        # A suppressed value (`*`) is not a category: it is never shown as one.
        rows = counts.filter((pl.col("dimension") == name) & (pl.col("value") != "*"))
        return rows.select("value", "count").to_dicts()

    return {
        "cases": micro.height,
        "nationalities": len(dim("citizenship")),
        "countries_of_exploitation": len(dim("country_of_exploitation")),
        "k": k,
        "method": method,
        "note": f"Figures are computed from the {method} microdata; nationalities and countries are those with at "
                f"least {k} rows, smaller counts are suppressed.",
        "by_exploitation_type": dim("exploitation_types"),
        "top_citizenships": dim("citizenship")[:10],
        "by_registration_year": sorted(dim("registration_year"), key=lambda d: d["value"]),
    }


def write_documents(folder: Path, *, report: dict[str, Any], metadata: dict[str, Any],
                    previous: dict[str, Any] | None, dataset: str, version: str, method: str, created: str,
                    title: str) -> None:
    """The human-readable files of every release folder: report.html, CITATION.cff, TERMS.md, CHANGES.md."""
    (folder / "report.html").write_text(report_html(report), encoding="utf-8")
    (folder / "CITATION.cff").write_text(citation(dataset=dataset, version=version, method=method, created=created,
                                                  title=title), encoding="utf-8")
    (folder / "TERMS.md").write_text(TERMS, encoding="utf-8")
    (folder / "CHANGES.md").write_text(changes(metadata, previous), encoding="utf-8")
