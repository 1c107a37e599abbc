"""Reads on releases. Dashboards and the API read only published releases, never the central repository."""

from __future__ import annotations

from collections import Counter

import polars as pl
from django.db.models import F

from ctdc.ingest.identity import identity_groups
from ctdc.standard import load_standard
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.submissions.models import DuplicateFlag


def release_latest(*, dataset: str = "victims") -> Release | None:
    return (Release.objects.filter(dataset=dataset, status=Release.Status.PUBLISHED)
            .order_by(F("published_at").desc(nulls_last=True), "-created_at", "-id").first())


def release_list(*, dataset: str | None = None, public: bool = False):
    """Every release, newest first; `public` hides drafts (withdrawn releases stay listed, with their reason)."""
    qs = Release.objects.all()
    if public:
        qs = qs.exclude(status=Release.Status.DRAFT)
    return qs.filter(dataset=dataset) if dataset else qs


def release_get(*, dataset: str, version: str) -> Release:
    try:
        return Release.objects.get(dataset=dataset, version=version)
    except Release.DoesNotExist:
        from ctdc.errors import ReleaseError

        raise ReleaseError(f"No release {version} of dataset '{dataset}'.",
                           {"dataset": dataset, "version": version}) from None


def release_build_list(*, dataset: str | None = None, limit: int = 20):
    qs = ReleaseBuild.objects.select_related("release")
    return (qs.filter(dataset=dataset) if dataset else qs)[:limit]


def release_snapshot(*, dataset: str = "victims") -> tuple[pl.DataFrame, dict]:
    """One row per person of the central repository (the privacy unit), as one snapshot, and facts about it.

    The privacy unit of every release is one victim. A person registered by two organisations (or twice by one)
    is two stored records, so the snapshot keeps one record per identity group (`identity_groups`): records
    sharing a keyed identity hash, unless a steward dismissed the pair, and pairs a steward confirmed. Open flags
    count as one person. The record kept is the group's first approved one (smallest key): which one is kept
    depends on no field value, and a record another organisation uploads later never replaces it.

    One SELECT reads the records together with their organisation's kind, so the frame and the counts by
    contributor type describe the same instant even while submissions are being approved.
    """
    if dataset != "victims":
        from ctdc.errors import ReleaseError

        raise ReleaseError(f"No harmonized store for dataset '{dataset}' yet; only 'victims' can be released.",
                           {"dataset": dataset})
    stored = load_standard().dataset(dataset).stored_fields
    fields = [f.name for f in stored]
    rows = list(Victim.objects.order_by("pk").values_list("pk", "identity_hash", *fields, "organisation__kind"))
    # Flags are written in the approval's transaction with their records; a flag naming a record this SELECT
    # did not see is ignored by identity_groups.
    verdicts = DuplicateFlag.objects.exclude(status=DuplicateFlag.Status.OPEN).values_list("record_id", "other_id",
                                                                                          "status")
    different = [(a, b) for a, b, s in verdicts if s == DuplicateFlag.Status.DISMISSED]
    same = [(a, b) for a, b, s in verdicts if s == DuplicateFlag.Status.CONFIRMED]
    keys = pl.Series([r[0] for r in rows], dtype=pl.Int64)
    groups = identity_groups(keys, pl.Series([r[1] for r in rows], dtype=pl.String), different=different, same=same)
    kept = [r for r, keep in zip(rows, (keys == groups).to_list(), strict=True) if keep]
    kinds = Counter(r[-1] for r in kept)
    types = {"integer": pl.Int64, "boolean": pl.Boolean}
    schema = {f.name: types.get(f.type, pl.String) for f in stored}
    frame = pl.DataFrame([r[2:-1] for r in kept], schema=schema, orient="row")
    return frame, {"records_by_contributor_type": dict(sorted(kinds.items()))}
