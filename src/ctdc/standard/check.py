"""One call that checks everything about the standard's files, for `ctdc codebook check` and for reviewers.

>>> check_standard()
[]
"""

from __future__ import annotations

import json

from ctdc.errors import CodebookError
from ctdc.standard.crosswalk import load_export_layout, load_field_crosswalk, load_layout
from ctdc.standard.schema import EXPORT_LAYOUTS, FIELD_CROSSWALKS, LAYOUT_CROSSWALKS, load_standard
from ctdc.standard.versioning import (
    breaking_changes,
    load_snapshot,
    parse_version,
    released_versions,
    snapshot,
)


def check_standard() -> list[str]:
    """Every problem found, one line each; empty when the standard is consistent and its version is recorded."""
    load_standard.cache_clear()
    try:
        std = load_standard()
    except CodebookError as exc:
        return list(exc.extra.get("problems", [exc.message]))
    problems: list[str] = []
    for name in FIELD_CROSSWALKS:
        problems += [f"{name}: {p}" for p in load_field_crosswalk(name).problems(std)]
    for name in LAYOUT_CROSSWALKS:
        problems += [f"{name}: {p}" for p in load_layout(name).problems(std)]
    for name in EXPORT_LAYOUTS:
        problems += [f"{name}: {p}" for p in load_export_layout(name).problems(std)]
    try:
        recorded = load_snapshot(std.version)
    except CodebookError:
        problems.append(f"history/{std.version}.json is missing: add the snapshot and a CHANGELOG entry")
    else:
        if recorded != json.loads(json.dumps(snapshot(std))):
            problems.append(
                f"The standard differs from history/{std.version}.json: bump the version in standard.yaml, "
                "add a CHANGELOG entry and write the new snapshot"
            )
    versions = released_versions()
    for old in versions:
        if (
            parse_version(old) < parse_version(std.version)
            and parse_version(old)[0] == parse_version(std.version)[0]
        ):
            problems += [
                f"{old} -> {std.version}: {p}" for p in breaking_changes(load_snapshot(old), snapshot(std))
            ]
    return problems
