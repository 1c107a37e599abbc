import os
import sys

import click
from django.core.management import call_command

from ctdc.cli.common import setup_django


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the portal and API with gunicorn (static files included), not the debug server."""
    setup_django()
    call_command("collectstatic", interactive=False, verbosity=0)
    click.echo(f"ctdc is serving on http://{host}:{port}/  (Ctrl-C stops it)")
    sys.stdout.flush()
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    os.execv(gunicorn, [gunicorn, "ctdc.web.config.wsgi:application", "--bind", f"{host}:{port}",
                        "--workers", str(workers), "--threads", "4", "--access-logfile", "-"])
