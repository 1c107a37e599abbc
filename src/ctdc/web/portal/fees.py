"""The recruitment fees page: corridors compared by what their victims paid (issue 17, item 5).

Everything comes from the latest published `recruitment_fees` release's summary (`ctdc.release.fees`: per
corridor, and per corridor and sector, the protected number of victims and the quartiles of a victim's total fees
in US dollars of the base year), never from the repository. Each corridor is drawn as a range bar (25th to 75th
percentile, a mark at the median) on one scale, so corridors compare at a glance; the same numbers are the table.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ctdc.standard import load_standard
from ctdc.web.portal.selectors import _latest_release

DATASET = "recruitment_fees"


def _label(codelist: str, code: str | None, lang: str) -> str:
    if not code:
        return ""
    cl = load_standard().codelist(codelist)
    return cl.label_of(code, lang) if code in cl else code


def fee_comparison(lang: str = "en", *, sector: str = "") -> dict | None:
    """Corridors (all sectors, or one `sector` the release has cells for) by median fee, highest first, with
    their range bars' positions in percent of the largest 75th percentile; None when no fees release is
    published."""
    release = _latest_release(DATASET)
    if release is None:
        return None
    summary = release.summary or {}
    sectors = sorted({c["sector"] for c in summary.get("corridor_sectors", [])})
    sector = sector if sector in sectors else ""
    cells = ([c for c in summary.get("corridor_sectors", []) if c["sector"] == sector] if sector
             else summary.get("corridors", []))
    with_amounts = [c for c in cells if c.get("median") is not None]
    top = max([c["p75"] for c in with_amounts] or [1.0]) or 1.0
    rows = []
    for c in sorted(cells, key=lambda c: (-(c.get("median") or -1), -c["victims"], c["origin"], c["destination"])):
        has = c.get("median") is not None
        rows.append({
            "origin": _label("country", c["origin"], lang), "destination": _label("country", c["destination"], lang),
            "origin_code": c["origin"], "destination_code": c["destination"], "victims": c["victims"],
            "p25": c.get("p25"), "median": c.get("median"), "p75": c.get("p75"),
            **({"left": round(100 * c["p25"] / top, 1), "width": round(100 * max(c["p75"] - c["p25"], 0) / top, 1),
                "mid": round(100 * c["median"] / top, 1)} if has else {}),
        })
    # The release states its unit in English ("USD of 2025"); the page says it in the reader's language.
    year = summary.get("unit", "").rsplit(" ", 1)[-1]
    return {"release": release, "unit": _("USD of %(year)s") % {"year": year} if year else "", "threshold": summary.get("k"),
            "protection": summary.get("method"), "cap": summary.get("cap"), "rows": rows, "sector": sector,
            "sectors": [{"value": s, "label": _label("labour_sector", s, lang)} for s in sectors]}


def country_fees(iso: str, lang: str = "en") -> dict | None:
    """The country profile's fees: corridors (all sectors) starting or ending in `iso`; None without a release."""
    data = fee_comparison(lang)
    if data is None:
        return None
    return {**data, "out": [r for r in data["rows"] if r["origin_code"] == iso],
            "into": [r for r in data["rows"] if r["destination_code"] == iso]}
