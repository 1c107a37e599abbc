"""Pick the preset whose columns best match a file's header, for `ctdc ingest` without --preset/--mapping."""

from __future__ import annotations

from pathlib import Path

from ctdc.errors import MappingError
from ctdc.ingest.countries import normalise_key
from ctdc.ingest.mapping import MappingSpec, load_preset, preset_names
from ctdc.ingest.readers import read_header


def detect_preset(path: Path, min_matches: int = 3) -> MappingSpec:
    """The preset matching most of the file's columns; `MappingError` when none matches at least `min_matches`."""
    scores = []
    for name in preset_names():
        spec = load_preset(name)
        try:
            header = read_header(Path(path), spec.reader)
        except Exception:  # a preset whose reader does not fit this file simply scores nothing
            continue
        folded = {normalise_key(c) for c in header}
        scores.append((sum(normalise_key(c) in folded for c in spec.columns), name, spec))
    scores.sort(key=lambda t: t[0], reverse=True)
    if not scores or scores[0][0] < min_matches:
        raise MappingError(
            f"{Path(path).name}: no preset matches its columns. Give a mapping with --mapping FILE, "
            f"or one of the presets with --preset ({', '.join(preset_names())}).",
            {"file": Path(path).name},
        )
    return scores[0][2]
