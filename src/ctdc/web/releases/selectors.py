"""Reads on releases. Dashboards and the API read only published releases, never the central repository."""

from __future__ import annotations

from collections import Counter

import polars as pl
from django.db.models import F

from ctdc.standard import load_standard
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import Release, ReleaseBuild


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
    """Every approved record of the central repository, as one consistent snapshot, and facts about it.

    One SELECT reads the records together with their organisation's kind, so the frame and the counts by
    contributor type describe the same instant even while submissions are being approved.
    """
    if dataset != "victims":
        from ctdc.errors import ReleaseError

        raise ReleaseError(f"No harmonized store for dataset '{dataset}' yet; only 'victims' can be released.",
                           {"dataset": dataset})
    stored = load_standard().dataset(dataset).stored_fields
    fields = [f.name for f in stored]
    rows = list(Victim.objects.order_by("pk").values_list(*fields, "organisation__kind"))
    kinds = Counter(r[-1] for r in rows)
    types = {"integer": pl.Int64, "boolean": pl.Boolean}
    schema = {f.name: types.get(f.type, pl.String) for f in stored}
    frame = pl.DataFrame([r[:-1] for r in rows], schema=schema, orient="row")
    return frame, {"records_by_contributor_type": dict(sorted(kinds.items()))}
