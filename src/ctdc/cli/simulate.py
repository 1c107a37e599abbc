import json
import time
from pathlib import Path

import click

from ctdc.cli.common import json_option


@click.command()
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed; the same seed gives the same files.")
@click.option("--cases", default=20_000, show_default=True, type=click.IntRange(min=1), help="Number of fictional victims.")
@click.option("--out", "out", default="var/simulated", show_default=True, type=click.Path(path_type=Path),
              help="Folder to write the three contributor files into.")
@json_option
def simulate(seed: int, cases: int, out: Path, as_json: bool) -> None:
    """Write fictional case files from three fictional contributor organisations, each in its own format."""
    from ctdc.fixtures.simulate import simulate as run

    started = time.perf_counter()
    manifest = run(out, cases=cases, seed=seed)
    seconds = time.perf_counter() - started
    if as_json:
        click.echo(json.dumps(manifest | {"seconds": round(seconds, 2)}, indent=2))
        return
    for f in manifest["files"]:
        click.echo(f"{out / f['file']}: {f['rows']} rows ({f['kind']}, organisation {f['org']})")
    click.echo(f"{cases} fictional cases in {seconds:.1f} s")
