"""Release services: build a release from the central repository and record it."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from ctdc.release.build import build_release, next_version
from ctdc.web.cases.selectors import victims_frame
from ctdc.web.releases.models import Release


def release_build(*, dataset: str = "victims", k: int | None = None, notes: str = "") -> Release:
    """Snapshot the repository, write the protected release folder atomically, then record it as published."""
    k = k or settings.CTDC_SUPPRESSION_K
    frame = victims_frame()
    now = datetime.now(UTC)
    # Versions already on disk count too: a folder may outlive its database row (a restored backup, a test).
    folder = settings.CTDC_RELEASES_DIR / dataset
    on_disk = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    known = list(Release.objects.filter(dataset=dataset).values_list("version", flat=True))
    version = next_version(known + on_disk, now)
    built = build_release(frame, root=settings.CTDC_RELEASES_DIR, dataset=dataset, version=version, k=k,
                          notes=notes, now=now)
    # The database row flips only after the folder is complete and in place.
    with transaction.atomic():
        return Release.objects.create(
            dataset=dataset, version=version, method=built.metadata["method"], params=built.metadata["params"],
            path=str(built.path.relative_to(settings.CTDC_RELEASES_DIR)), summary=built.summary,
            record_count=frame.height, standard_version=built.metadata["standard_version"],
        )
