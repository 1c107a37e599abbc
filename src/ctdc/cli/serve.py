import os
import sys

import click
from django.core.management import call_command

from ctdc.cli.common import refuse_unsafe_start, setup_django
from ctdc.cli.supervisor import Child, Supervisor


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes.")
@click.option("--task-worker/--no-task-worker", default=True, show_default=True,
              help="Also run the background task worker (`ctdc worker`). Turn it off when workers run apart.")
def serve(host: str, port: int, workers: int, task_worker: bool) -> None:
    """Serve the portal and API with gunicorn (static files included), and run the background task worker.

    Both run as supervised child processes: a task worker that stops is restarted (after 1 s, doubling up to
    30 s while it keeps failing); Ctrl-C or SIGTERM stops both, letting a running task finish. Deployments that
    run workers on other machines use `--no-task-worker` here and `ctdc worker` there.
    """
    setup_django()
    refuse_unsafe_start()
    call_command("collectstatic", interactive=False, verbosity=0)
    bin_dir = os.path.dirname(sys.executable)
    children = [Child("web server", [os.path.join(bin_dir, "gunicorn"), "ctdc.web.config.wsgi:application",
                                     "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", "4",
                                     "--access-logfile", "-", "--no-control-socket"], restart=False)]
    if task_worker:
        children.append(Child("task worker", [sys.executable, "-m", "ctdc.cli.main", "worker"], restart=True))
    click.echo(f"ctdc is serving on http://{host}:{port}/  (Ctrl-C stops it)")
    sys.stdout.flush()

    def echo(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    sys.exit(Supervisor(children, echo=echo).run())
