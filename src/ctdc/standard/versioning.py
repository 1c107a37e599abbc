"""Versioning of the standard: snapshots of released versions and the compatibility rule between them.

The standard has a semantic version (standard.yaml). Within one MAJOR version (and, before 1.0, within the
0.x series too) a new version may only add: new dataset types, new optional fields, new codes, wider bounds,
new translations. Then a record valid under version N is still valid under N+1. Removing or renaming a field
or code, changing a type, narrowing bounds or making a field required needs a new MAJOR version.

`history/<version>.json` holds the snapshot of each version: every dataset's fields (type, role, code list,
required, bounds) and every code list's codes. Releases record the version they were built with
(`Standard.version`); the snapshot lets anyone check a release against exactly that version.

>>> std = load_standard()
>>> breaking_changes(load_snapshot("0.1.0"), snapshot(std))
[]
>>> check_record(std.dataset("victims"), {"registration_year": 2020, "gender": "female", "means_of_control": ("threats",)})
[]
>>> check_record(std.dataset("victims"), {"registration_year": 2020, "gender": "f"})
[('gender', 'unknown-code', "'f' is not a code of gender")]
"""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from typing import Any

from ctdc.errors import CodebookError
from ctdc.standard.model import Dataset, Standard
from ctdc.standard.schema import load_standard

Snapshot = dict[str, Any]
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def parse_version(version: str) -> tuple[int, int, int]:
    """'0.2.0' -> (0, 2, 0).

    >>> parse_version("1.10.3")
    (1, 10, 3)
    """
    m = _SEMVER.match(version)
    if not m:
        raise CodebookError(f"Not a semantic version: {version!r}.", {"version": version})
    return int(m[1]), int(m[2]), int(m[3])


def snapshot(standard: Standard) -> Snapshot:
    """What a record's validity depends on, as plain JSON-able data."""
    datasets = {}
    for ds in standard.datasets.values():
        datasets[ds.name] = {
            f.name: {
                "type": f.type,
                "role": f.role,
                "codelist": f.codelist.name if f.codelist else None,
                "required": f.required,
                "min": f.min,
                "max": f.max,
            }
            for f in ds.fields
        }
    codelists = {cl.name: list(cl.codes) for cl in standard.used_codelists()}
    return {"version": standard.version, "datasets": datasets, "codelists": codelists}


def load_snapshot(version: str) -> Snapshot:
    """The frozen snapshot of a released version from history/."""
    resource = resources.files("ctdc.standard").joinpath(f"history/{version}.json")
    try:
        return json.loads(resource.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"No snapshot of standard version {version}.", {"version": version}) from None


def released_versions() -> list[str]:
    """Every version with a snapshot in history/, oldest first."""
    names = [p.name[: -len(".json")] for p in resources.files("ctdc.standard").joinpath("history").iterdir()]
    return sorted((n for n in names if _SEMVER.match(n)), key=parse_version)


def breaking_changes(old: Snapshot, new: Snapshot) -> list[str]:
    """Changes from `old` to `new` that could make a record valid under `old` invalid under `new`."""
    out = []
    for ds, fields in old["datasets"].items():
        if ds not in new["datasets"]:
            out.append(f"dataset {ds} removed")
            continue
        for name, spec in fields.items():
            now = new["datasets"][ds].get(name)
            where = f"{ds}.{name}"
            if now is None:
                out.append(f"{where} removed or renamed")
                continue
            if now["type"] != spec["type"]:
                out.append(f"{where} type changed from {spec['type']} to {now['type']}")
            if now["required"] and not spec["required"]:
                out.append(f"{where} became required")
            if now["min"] is not None and (spec["min"] is None or now["min"] > spec["min"]):
                out.append(f"{where} minimum raised to {now['min']}")
            if now["max"] is not None and (spec["max"] is None or now["max"] < spec["max"]):
                out.append(f"{where} maximum lowered to {now['max']}")
            if spec["codelist"]:
                old_codes = set(old["codelists"][spec["codelist"]])
                new_codes = set(new["codelists"].get(now["codelist"] or "", []))
                for code in sorted(old_codes - new_codes):
                    out.append(f"{where} lost code {code!r}")
        for name, now in new["datasets"][ds].items():
            if name not in fields and now["required"]:
                out.append(f"{ds}.{name} added as required")
    return out


def check_record(dataset: Dataset, record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Check one record (field -> value; `codes` as a sequence) against a dataset type.

    Returns (field, problem code, message) triples, empty when the record is valid. Problem codes:
    `unknown-field`, `missing-required`, `type-error`, `unknown-code`, `out-of-range`. Messages echo coded values
    only, never the value of a direct identifier.
    """
    problems: list[tuple[str, str, str]] = []
    for name in record:
        if name not in dataset:
            problems.append((name, "unknown-field", f"{dataset.name} has no field {name}"))
    for f in dataset.fields:
        value = record.get(f.name)
        if value is None or value == "":
            if f.required:
                problems.append((f.name, "missing-required", f"{f.name} is required"))
            continue
        shown = "(value withheld)" if f.is_direct_identifier else repr(value)
        ok = {
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "string": lambda v: isinstance(v, str),
            "code": lambda v: isinstance(v, str),
            "codes": lambda v: isinstance(v, list | tuple) and all(isinstance(c, str) for c in v),
            "date": lambda v: isinstance(v, dt.date) or (isinstance(v, str) and _is_date(v)),
        }[f.type](value)
        if not ok:
            problems.append((f.name, "type-error", f"{shown} is not a valid {f.type}"))
            continue
        if f.codelist is not None:
            for code in value if f.type == "codes" else (value,):
                if code not in f.codelist:
                    problems.append((f.name, "unknown-code", f"{code!r} is not a code of {f.name}"))
        if f.type in ("integer", "number") and (
            (f.min is not None and value < f.min) or (f.max is not None and value > f.max)
        ):
            problems.append((f.name, "out-of-range", f"{shown} is outside {f.min}..{f.max}"))
    return problems


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def current_snapshot() -> Snapshot:
    return snapshot(load_standard())


def write_snapshot() -> str:
    """Write history/<version>.json for the current standard (run from a source checkout when releasing a version).

    Usage: `python -m ctdc.standard.versioning` after bumping `version` in standard.yaml.
    """
    std = load_standard()
    target = resources.files("ctdc.standard").joinpath(f"history/{std.version}.json")
    text = json.dumps(snapshot(std), indent=1, ensure_ascii=False) + "\n"
    with resources.as_file(target) as path:
        path.write_text(text, encoding="utf-8")
    return str(target)


if __name__ == "__main__":
    print(write_snapshot())
