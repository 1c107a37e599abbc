"""Search the codebook: fields whose name, labels (any language), description or value labels match a query.

Matching ignores case and accents, so "genero", "Género" and "gender" all find the gender fields. Every word of
the query must match somewhere in the field; hits are ranked name > label > description > value labels.

>>> std = load_standard()
>>> hits = [f"{h.dataset}.{h.field}" for h in search_fields(std, "nationalité")]
>>> hits[0], "perpetrators.citizenship" in hits
('victims.citizenship', True)
>>> [(h.field, h.matched) for h in search_fields(std, "servidumbre deudas")]
[('means_of_control', 'values'), ('means_of_control_groups', 'values')]
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ctdc.standard.model import Field, Standard
from ctdc.standard.schema import load_standard

# Long generated lists (countries, currencies) would make every country name a hit on the country fields.
VALUE_SEARCH_MAX = 60


def fold(text: str) -> str:
    """Lower-case without accents: 'Género' -> 'genero'.

    >>> fold("Nationalité Género")
    'nationalite genero'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Hit:
    dataset: str
    field: str
    score: int
    matched: str  # where the best match was: name, label, description or values


def _texts(f: Field) -> dict[str, str]:
    values = ""
    if f.codelist is not None and len(f.codelist) <= VALUE_SEARCH_MAX:
        values = " ".join(f"{e.code} {' '.join(e.labels.values())}" for e in f.codelist.entries)
    return {
        "name": fold(f.name.replace("_", " ")),
        "label": fold(" ".join({f.label, *f.labels.values()})),
        "description": fold(f.description),
        "values": fold(values),
    }


WEIGHTS = {"name": 8, "label": 4, "description": 2, "values": 1}


def search_fields(standard: Standard, query: str, *, limit: int = 50) -> list[Hit]:
    """Fields matching every word of `query`, best first; empty for an empty query."""
    words = fold(query).split()
    if not words:
        return []
    hits = []
    for ds in standard.datasets.values():
        for f in ds.fields:
            texts = _texts(f)
            score, best = 0, ""
            for word in words:
                where = [k for k, text in texts.items() if word in text]
                if not where:
                    break
                score += sum(WEIGHTS[k] for k in where)
                best = best or max(where, key=WEIGHTS.__getitem__)
            else:
                hits.append(Hit(ds.name, f.name, score, best))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


__all__ = ["Hit", "fold", "load_standard", "search_fields"]
