"""Background release builds (django-tasks, database backend; run by `ctdc worker`, which `ctdc serve` starts)."""

from __future__ import annotations

from django_tasks import task


@task()
def release_build_task(build_id: int) -> str:
    """Run a queued build; its progress and log are on its `ReleaseBuild` row."""
    from ctdc.web.releases.services import release_build_run

    build = release_build_run(build_id=build_id)
    return build.status
