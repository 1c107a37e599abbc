"""`ctdc backup DIR` and `ctdc restore DIR` (format and rules: ctdc.web.backup, docs/reliability.md)."""

from pathlib import Path

import click

from ctdc.cli.common import emit, fail, json_option, setup_django
from ctdc.errors import CtdcError


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--include-secrets", is_flag=True,
              help="Also write SECRET_KEY, CTDC_IDENTITY_KEY and CTDC_UPLOAD_KEY into the backup (secrets.json, "
                   "mode 0600). Without them, keep the keys elsewhere: the upload key decrypts raw uploads.")
@json_option
def backup(folder: Path, include_secrets: bool, as_json: bool) -> None:
    """Back up the database, the uploads and the release store into FOLDER (new or empty)."""
    setup_django()
    from ctdc.web.backup import backup_create

    try:
        manifest = backup_create(folder=folder, include_secrets=include_secrets)
    except CtdcError as exc:
        fail(exc, as_json)
    counts = manifest["counts"]
    text = (f"Backup written to {folder}: {counts.get('submissions.submission', 0)} submissions, "
            f"{counts.get('cases.victim', 0)} records, {counts.get('releases.release', 0)} releases, "
            f"{counts.get('releases.privacyledgerentry', 0)} ledger entries; "
            f"{sum(manifest['stored_files'].values())} stored files. Secret keys "
            + ("included (keep this backup as secret as the keys)." if include_secrets
               else "not included: keep them separately."))
    emit(manifest, as_json, text)


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@json_option
def restore(folder: Path, as_json: bool) -> None:
    """Restore the backup in FOLDER into an empty database and data folder, then check it.

    Every file is checked against the backup's manifest first; the restored row counts and stored files must
    equal the backup's. Verify the releases afterwards with `ctdc release verify`.
    """
    setup_django()
    from ctdc.web.backup import backup_restore

    try:
        done = backup_restore(folder=folder)
    except CtdcError as exc:
        fail(exc, as_json)
    counts = done["counts"]
    text = (f"Restored the backup of {done['backup_created']}: {counts.get('submissions.submission', 0)} "
            f"submissions, {counts.get('cases.victim', 0)} records, {counts.get('releases.release', 0)} releases, "
            f"{counts.get('releases.privacyledgerentry', 0)} ledger entries; "
            f"{sum(done['stored_files'].values())} stored files.")
    if done["secrets_written"]:
        text += f" Secret keys written to the data folder ({', '.join(done['secrets_written'])}); restart ctdc."
    emit(done, as_json, text)
