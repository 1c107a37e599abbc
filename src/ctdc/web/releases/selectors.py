"""Reads on releases. Dashboards and the API read only published releases, never the central repository."""

from __future__ import annotations

from ctdc.web.releases.models import Release


def release_latest(*, dataset: str = "victims") -> Release | None:
    return Release.objects.filter(dataset=dataset, status=Release.Status.PUBLISHED).order_by("-created_at", "-id").first()


def release_list(*, dataset: str | None = None):
    qs = Release.objects.all()
    return qs.filter(dataset=dataset) if dataset else qs
