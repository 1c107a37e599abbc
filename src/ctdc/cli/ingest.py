from pathlib import Path

import click

from ctdc.cli.common import EXIT_USAGE, emit, fail, json_option, setup_django
from ctdc.errors import CtdcError, IngestError, MappingError


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", help="Slug of the contributing organisation (required unless --suggest-mapping).")
@click.option("--dataset", default="victims", show_default=True, help="Dataset type of the standard.")
@click.option("--preset", help="Mapping preset (htcds, kobo-htcds, ...). Detected from the header when omitted.")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping spec YAML for this organisation's own format.")
@click.option("--saved-mapping", help="Use the latest version of this organisation's saved mapping NAME.")
@click.option("--save-mapping", help="Also save the mapping used as the organisation's mapping NAME (new version "
                                     "if changed).")
@click.option("--approve", is_flag=True, help="Approve straight away (steward): records enter the central repository.")
@click.option("--suggest-mapping", is_flag=True,
              help="Print a suggested mapping spec (YAML, with reasons) for FILE and stop; nothing is stored.")
@json_option
def ingest(file: Path, org_slug: str | None, dataset: str, preset: str | None, mapping_file: Path | None,
           saved_mapping: str | None, save_mapping: str | None, approve: bool, suggest_mapping: bool,
           as_json: bool) -> None:
    """Read FILE into the harmonized store: map, normalise, validate, drop direct identifiers, quarantine bad rows."""
    if sum(bool(x) for x in (preset, mapping_file, saved_mapping)) > 1:
        raise click.UsageError("Give one of --preset, --mapping or --saved-mapping.")
    if suggest_mapping:
        from ctdc.ingest.suggest import suggest_mapping as suggest

        try:
            click.echo(suggest(file, dataset=dataset).yaml, nl=False)
        except CtdcError as exc:
            fail(exc, as_json)
        return
    if not org_slug:
        raise click.UsageError("Missing option '--org'.")
    setup_django()
    from ctdc.web.accounts.services import organisation_get
    from ctdc.web.submissions.services import mapping_resolve, submission_approve, submission_ingest

    try:
        organisation = organisation_get(slug=org_slug)
    except CtdcError as exc:
        fail(exc, as_json, EXIT_USAGE)
    try:
        # The mapping is chosen as the web task chooses it (one service), the file stored as an upload is.
        spec, saved = mapping_resolve(
            organisation=organisation, path=file,
            choice=f"mapping:{saved_mapping}" if saved_mapping else f"preset:{preset}" if preset else "",
            text=_mapping_text(mapping_file) if mapping_file else None, source=str(mapping_file or ""),
            save_as=save_mapping or "")
        if spec.dataset != dataset:
            raise IngestError(f"The mapping is for dataset '{spec.dataset}', not '{dataset}'.")
        outcome = submission_ingest(organisation=organisation, path=file, spec=spec, saved_mapping=saved)
        if approve:
            submission_approve(submission=outcome.submission)
    except CtdcError as exc:
        fail(exc, as_json)
    s = outcome.submission
    s.refresh_from_db()
    data = {"submission": s.pk, "rows_read": s.rows_read, "accepted": s.accepted, "quarantined": s.quarantined,
            "duplicates": s.duplicates, "errors_by_rule": s.stats.get("errors_by_rule", {}),
            "blanks_by_column": s.stats.get("blanks_by_column", {}), "notes": s.stats.get("notes", []),
            "status": s.status, "new": outcome.created, "mapping": s.mapping_name}
    if approve:
        # A steward's act: the pairs this approval flagged with other organisations' records (never shown to a
        # contributor; without --approve the output says nothing derived from other organisations' records).
        data["cross_org_flags"] = s.duplicate_flags.count()
    note = "" if outcome.created else " (this exact file was submitted before: nothing changed)"
    text = (f"Submission {s.pk} [{s.status}]{note}: {s.rows_read} rows read, {s.accepted} accepted, "
            f"{s.quarantined} quarantined, {s.duplicates} duplicates (mapping {s.mapping_name}).")
    if s.stats.get("errors_by_rule"):
        text += "\nProblems by rule: " + ", ".join(f"{k} {v}" for k, v in s.stats["errors_by_rule"].items())
    for n in s.stats.get("notes", []):
        text += f"\nNote ({n['code']}): {n['message']}"
    blanks = {k: v for k, v in s.stats.get("blanks_by_column", {}).items() if v}
    if blanks:
        # Missing values, not errors: the records went in with those fields empty.
        text += "\nBlank cells (accepted as missing): " + ", ".join(f"{k} {v}" for k, v in blanks.items())
    emit(data, as_json, text)


def _mapping_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"Cannot read mapping file {path}: {exc.strerror}", {"file": str(path)}) from None
