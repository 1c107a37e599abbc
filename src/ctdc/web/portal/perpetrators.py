"""The perpetrator page: roles in the trafficking process, relation to the victim, profile by region.

Everything comes from the latest published `perpetrators` release's summary (`ctdc.release.build`: counts of the
protected link rows, each below k x B rows suppressed), never from the repository. The privacy unit is one victim
with all their links (at most B of them): the page says so, and what a row counts.
"""

from __future__ import annotations

from ctdc.standard import load_standard
from ctdc.web.portal.selectors import _latest_release

DATASET = "perpetrators"
# summary dimension -> the code list of its values
CODELISTS = {"role_groups": "perpetrator_role_group", "relation_to_victim": "recruiter_relation", "gender": "gender",
             "perpetrator_age_band": "perpetrator_age_band", "citizenship_region": "ctdc_region",
             "exploitation_region": "ctdc_region"}


def _label(dim: str, code: str, lang: str) -> str:
    if dim == "victim_paid_perpetrator":
        return {"true": "Yes", "false": "No"}.get(code, code)
    cl = load_standard().codelist(CODELISTS[dim])
    return cl.label_of(code, lang) if code in cl else code


def _rows(dim: str, counts: list[dict], lang: str) -> list[dict]:
    total = sum(c["count"] for c in counts) or 1
    return [{"code": c["value"], "label": _label(dim, c["value"], lang), "count": c["count"],
             "share": round(100 * c["count"] / total)} for c in counts]


def perpetrator_profile(lang: str = "en") -> dict | None:
    """The page's tables from the latest published perpetrators release, or None when none is published."""
    release = _latest_release(DATASET)
    if release is None:
        return None
    summary = release.summary or {}
    by = summary.get("by", {})
    std = load_standard()
    regions = []
    for region, dims in sorted(summary.get("by_exploitation_region", {}).items()):
        regions.append({"code": region, "label": _label("exploitation_region", region, lang),
                        "roles": _rows("role_groups", dims.get("role_groups", []), lang),
                        "gender": _rows("gender", dims.get("gender", []), lang)})
    return {
        "release": release, "threshold": summary.get("k"), "bound": summary.get("contribution_bound"),
        "links": summary.get("cases"),
        "roles": _rows("role_groups", by.get("role_groups", []), lang),
        "relations": _rows("relation_to_victim", by.get("relation_to_victim", []), lang),
        "gender": _rows("gender", by.get("gender", []), lang),
        "ages": _rows("perpetrator_age_band", by.get("perpetrator_age_band", []), lang),
        "citizenship": _rows("citizenship_region", by.get("citizenship_region", []), lang),
        "paid": _rows("victim_paid_perpetrator", by.get("victim_paid_perpetrator", []), lang),
        "regions": regions,
        "dataset_label": std.dataset(DATASET).label_in(lang),
    }
