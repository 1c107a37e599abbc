"""Read-only access to the standard for the codebook pages. Named `codebook_<thing>_<action>` (HackSoft)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctdc.errors import CodebookError
from ctdc.standard import load_standard
from ctdc.standard.codebook.dictionary import INLINE_CODES_MAX, attribution_lines
from ctdc.standard.crosswalk import FieldMapping, load_field_crosswalk
from ctdc.standard.model import (
    LANGUAGES,
    ROLE_LABELS,
    CodeList,
    Dataset,
    Field,
    role_description,
)
from ctdc.standard.search import search_fields

LANG_NAMES = {"en": "English", "fr": "Français", "es": "Español"}
SOURCE_NAMES = {
    "htcds-2.0": "HTCDS 2.0",
    "ctdc-public-k-anonymized": "CTDC public, k-anonymized",
    "ctdc-public-synthetic": "CTDC public, synthetic",
    "ctdc-public-victim-perpetrator": "CTDC public, victim-perpetrator",
}


def codebook_lang_get(requested: str | None) -> str:
    """The page language: a supported code, else English."""
    return requested if requested in LANGUAGES else "en"


def codebook_roles_list(lang: str) -> list[dict[str, str]]:
    return [
        {"code": r, "label": ROLE_LABELS[r][lang], "description": role_description(r, lang)}
        for r in ROLE_LABELS
    ]


def codebook_dataset_list() -> list[Dataset]:
    return list(load_standard().datasets.values())


def codebook_dataset_get(name: str) -> Dataset:
    """Raises CodebookError for an unknown dataset type (the view turns it into a 404)."""
    return load_standard().dataset(name)


@dataclass(frozen=True)
class FieldPage:
    dataset: Dataset
    field: Field
    values: list[dict[str, str]]  # inline value labels (short lists)
    long_codelist: CodeList | None  # long lists (countries) are linked, not inlined
    sources: list[dict[str, Any]]
    role: dict[str, str]


def codebook_field_get(dataset: str, field: str, lang: str) -> FieldPage:
    ds = codebook_dataset_get(dataset)
    f = ds.field(field)
    values, long_list = [], None
    if f.codelist is not None:
        if len(f.codelist) > INLINE_CODES_MAX:
            long_list = f.codelist
        else:
            values = [{"code": e.code, **{k: e.label_in(k) for k in LANGUAGES}} for e in f.codelist.entries]
    sources = []
    htcds = load_field_crosswalk("htcds-2.0")
    for name, cols in sorted(f.sources.items()):
        notes = []
        if name == "htcds-2.0":
            for src in cols:
                m = htcds.mapping(src)
                if isinstance(m, FieldMapping) and (m.transform or m.note):
                    notes.append(f"{src}: {'. '.join(x.rstrip('.') for x in (m.transform, m.note) if x)}.")
        sources.append(
            {"name": SOURCE_NAMES.get(name, name), "columns": list(dict.fromkeys(cols)), "notes": notes}
        )
    role = {"code": f.role, "label": ROLE_LABELS[f.role][lang], "description": role_description(f.role, lang)}
    return FieldPage(ds, f, values, long_list, sources, role)


def codebook_codelist_get(name: str) -> CodeList:
    return load_standard().codelist(name)


def codebook_search(query: str) -> list[dict[str, Any]]:
    std = load_standard()
    return [
        {
            "dataset": std.dataset(h.dataset),
            "field": std.dataset(h.dataset).field(h.field),
            "matched": h.matched,
        }
        for h in search_fields(std, query)
    ]


def codebook_attribution() -> list[str]:
    return attribution_lines()


def codebook_htcds_not_kept() -> list[dict[str, str]]:
    return [{"source": n.source, "reason": n.reason} for n in load_field_crosswalk("htcds-2.0").not_kept]


def codebook_version() -> str:
    return load_standard().version


__all__ = ["CodebookError"]
