"""`ctdc worker`: the background task worker on its own (for deployments that run it apart from the web server).

`ctdc serve` starts this same command as a supervised child, so a demo or a small site needs nothing else."""

from __future__ import annotations

import click
from django.core.management import call_command

from ctdc.cli.common import refuse_unsafe_start, setup_django


@click.command()
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait before looking at an empty queue again.")
@click.option("--batch", is_flag=True, help="Run what is queued now, then exit (for cron or a one-off catch-up).")
def worker(interval: float, batch: bool) -> None:
    """Run queued background tasks (uploads to validate, release builds) until stopped.

    Records a heartbeat in the database every CTDC_WORKER_HEARTBEAT_SECONDS, so pages that wait on the queue can
    say when no worker is running. Any number of workers may run, on any machine that reaches the database; each
    task runs once. SIGTERM or Ctrl-C lets the running task finish, then stops. A task left running by a worker
    that was killed is taken back when a worker starts or beats: a file's validation is queued again, a release
    build is marked failed (docs/reliability.md).
    """
    setup_django()
    refuse_unsafe_start()
    from django.conf import settings

    from ctdc.web.worker.heartbeat import Heartbeat, new_worker_id
    from ctdc.web.worker.recovery import tasks_recover

    worker_id = new_worker_id()
    heartbeat = Heartbeat(worker_id=worker_id, interval=settings.CTDC_WORKER_HEARTBEAT_SECONDS)
    heartbeat.start()
    # What a killed worker left running: queued again or ended cleanly before anything new is claimed.
    recovered = tasks_recover()
    if recovered.requeued or recovered.failed or recovered.builds:
        click.echo(f"Recovered from a lost worker: {len(recovered.requeued)} task(s) queued again, "
                   f"{len(recovered.failed)} ended as failed, {len(recovered.builds)} release build(s) marked failed",
                   err=True)
    click.echo(f"Task worker {worker_id} is running (Ctrl-C stops it after the current task)", err=True)
    try:
        # django-tasks-db's own loop; it handles SIGTERM/SIGINT itself (finish the task, then SystemExit).
        call_command("db_worker", worker_id=worker_id, interval=interval, batch=batch, reload=False,
                     startup_delay=False, verbosity=1)
    finally:
        heartbeat.stop()
