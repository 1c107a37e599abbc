"""Pick the preset whose columns best match a file's header, for `ctdc ingest` without --preset/--mapping, and say
whether the pick is safe to use without a person looking at it.

A preset reads only the columns it names; everything else is dropped at the door. So a preset that matches a few
columns of a file may silently lose others that hold standard fields (a simple NGO sheet matched to the public CTDC
layout loses its `age` and `type of exploitation`). Detection therefore also runs the mapping suggester on the file
and lists the columns the preset would ignore although they look like fields of the standard ("missed"): a
detection with missed columns, or reading too few of the file's columns, is not confident, and `detect_preset`
refuses it with `MappingNeeded` so that a person checks the suggested mapping first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctdc.errors import MappingError, MappingNeeded
from ctdc.ingest.countries import normalise_key
from ctdc.ingest.mapping import MappingSpec, load_preset, preset_names
from ctdc.ingest.readers import read_header, refuse_if_not_a_table

# Below this share of the file's columns that hold something the standard knows (the preset reads them, or the
# suggester places them; contact details and narratives apart, dropped anyway) read by the preset, the match is too
# thin to trust without a person looking at it. Columns nothing in the standard resembles do not count: no mapping
# could read them (the real HTCDS template has 18 such columns beside the 21 its preset reads).
MIN_COVERAGE = 0.5
# Fields whose columns are always dropped at the door: a preset ignoring them loses nothing.
_DROPPED_ANYWAY = {"phone", "email", "address", "narrative"}
# Columns (folded) a file must have for a standard-layout preset of a linked table to be considered.
_ANCHORS = {"ctdc-perpetrators": ("perpetratorid", "roles"), "ctdc-links": ("victimid", "perpetratorid"),
            "ctdc-journeys": ("victimid", "eventtype"), "ctdc-fees": ("victimid", "amount")}


@dataclass(frozen=True)
class Detection:
    spec: MappingSpec
    columns: list[str]                 # the file's columns
    matched: list[str]                 # those the preset reads
    missed: list[tuple[str, str]]      # (column, field): ignored by the preset, but look like a standard field
    dropped: list[str]                 # columns that look like contact details or narratives (dropped anyway)
    placed: list[str] = ()             # columns the suggester places on a field (dropped ones apart)

    @property
    def coverage(self) -> float:
        """Share of the file's columns holding something the standard knows that the preset reads."""
        read = {c for c in self.matched if c not in self.dropped}
        relevant = read | set(self.placed)
        return len(read) / len(relevant) if relevant else 1.0

    @property
    def confident(self) -> bool:
        return not self.missed and self.coverage >= MIN_COVERAGE


def _best_preset(path: Path, min_matches: int) -> tuple[MappingSpec, list[str], list[str]]:
    """(preset, the file's header, the header columns the preset reads) of the preset mapping most columns."""
    scores = []
    for name in preset_names():
        spec = load_preset(name)
        try:
            header = read_header(Path(path), spec.reader)
        except Exception:  # a preset whose reader does not fit this file simply scores nothing
            continue
        folded = {normalise_key(c) for c in header}
        # The standard's own layouts of linked tables share field names with victims files (gender, age ...):
        # one is a candidate only when the file has its anchor columns (the ids that make it that table).
        if not set(_ANCHORS.get(name, ())) <= folded:
            continue
        scores.append((sum(normalise_key(c) in folded for c in _preset_columns(spec)), name, spec, header))
    scores.sort(key=lambda t: t[0], reverse=True)
    if not scores or scores[0][0] < min_matches:
        raise MappingError(
            f"{Path(path).name}: no preset matches its columns. Give a mapping with --mapping FILE, "
            f"or one of the presets with --preset ({', '.join(preset_names())}).",
            {"file": Path(path).name, "reason": "no-preset-matches"},
        )
    _score, _name, spec, header = scores[0]
    wanted = {normalise_key(c) for c in _preset_columns(spec)}
    return spec, header, [c for c in header if normalise_key(c) in wanted]


def _preset_columns(spec: MappingSpec) -> list[str]:
    """Every column the preset reads, those of its linked dataset types (a condensed layout) included."""
    names = [*spec.columns, *spec.record_id]
    for group in spec.flags:
        names += [*group.columns, *([group.text] if group.text else [])]
    for linked in spec.linked:
        names += _preset_columns(linked)
    return names


def detect_mapping(path: Path, min_matches: int = 3) -> Detection:
    """The best preset for `path` and what it would miss. `MappingError` when no preset matches `min_matches`
    columns; `NotATable` when the file is a PDF, an image or another binary file."""
    from ctdc.ingest.suggest import suggest_mapping  # reads a sample of the file: only once a preset matched

    refuse_if_not_a_table(Path(path))
    spec, header, matched = _best_preset(Path(path), min_matches)
    suggestions = suggest_mapping(Path(path), dataset=spec.dataset, reader=spec.reader).suggestions
    read = {normalise_key(m) for m in matched}
    filled = {cm.field for c, cm in spec.columns.items() if normalise_key(c) in read}
    filled |= {g.field for g in spec.flags
               if any(normalise_key(c) in read for c in [*g.columns, *([g.text] if g.text else [])])}
    if any(normalise_key(r) in read for r in spec.record_id):
        filled.add("record_id")
    missed, dropped, placed = [], [], []
    for s in suggestions:
        if s.field in _DROPPED_ANYWAY:
            dropped.append(s.column)
            continue
        if s.field:
            placed.append(s.column)
            if normalise_key(s.column) not in read and s.field not in filled:
                missed.append((s.column, s.field))
    return Detection(spec=spec, columns=header, matched=matched, missed=missed, dropped=dropped, placed=placed)


def detect_preset(path: Path, min_matches: int = 3) -> MappingSpec:
    """The preset matching most of the file's columns, when it is safe to use unchecked.

    Raises `MappingError` when none matches at least `min_matches` columns, and `MappingNeeded` when the best one
    would ignore columns that look like standard fields or reads too few of the file's columns.
    """
    found = detect_mapping(path, min_matches)
    if not found.confident:
        name = Path(path).name
        missed = ", ".join(f"'{c}' ({f})" for c, f in found.missed)
        why = (f"preset {found.spec.name} would ignore columns that look like fields of the standard: {missed}"
               if found.missed else
               f"preset {found.spec.name} reads only {found.coverage:.0%} of its columns that hold standard fields")
        raise MappingNeeded(
            f"{name}: {why}. Check a suggested mapping (ctdc ingest {name} --suggest-mapping > mapping.yml), "
            f"then ingest with --mapping mapping.yml; or use the preset anyway with --preset {found.spec.name}.",
            {"file": name, "preset": found.spec.name, "missed": [{"column": c, "field": f} for c, f in found.missed],
             "matched": len(found.matched), "columns": len(found.columns),
             "coverage": round(found.coverage, 2)},
        )
    return found.spec
