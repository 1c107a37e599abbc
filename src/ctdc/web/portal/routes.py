"""The route map page: trafficking corridors (origin -> transit -> destination) drawn as arcs on the world map,
weighted by protected counts, and the table of the top corridors, filterable by exploitation type and period.

Everything comes from the latest published `journey_events` release's summary (`summary.corridors`: counts of
the released route rows, one per victim, each below the release's threshold k suppressed), never from the
repository. The arcs' ends are the countries' centroids, computed once from the world map the portal already
ships (`vendor/countries-110m.json`, world-atlas): no other geometry is needed.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from ctdc.standard import load_standard
from ctdc.web.portal.explore import numeric_iso
from ctdc.web.portal.selectors import _latest_release

DATASET = "journey_events"
TOP = 25  # rows of the corridors table; the map draws the same corridors
TOPO = Path(__file__).resolve().parent / "static" / "portal" / "vendor" / "countries-110m.json"


@functools.cache
def centroids() -> dict[str, tuple[float, float]]:
    """ISO numeric id -> (longitude, latitude) of each country's largest polygon's mean vertex, from the TopoJSON
    world map (delta-encoded, quantized arcs). Good enough to anchor an arc; not a geodesic centroid."""
    topo = json.loads(TOPO.read_text(encoding="utf-8"))
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for i in indexes:
            out += arcs[i] if i >= 0 else arcs[~i][::-1]
        return out

    found = {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        polygons = (geometry.get("arcs") or []) if geometry["type"] == "MultiPolygon" else [geometry.get("arcs") or []]
        rings = [ring(polygon[0]) for polygon in polygons if polygon]
        if not rings or "id" not in geometry:
            continue
        largest = max(rings, key=len)
        found[geometry["id"]] = (round(sum(p[0] for p in largest) / len(largest), 2),
                                 round(sum(p[1] for p in largest) / len(largest), 2))
    return found


def _country(code: str | None, lang: str) -> str:
    if not code:
        return ""
    cl = load_standard().codelist("country")
    return cl.label_of(code, lang) if code in cl else code


def route_map(lang: str = "en", *, exploitation_type: str = "", period: str = "") -> dict | None:
    """The page's corridors under the filters, or None when no journeys release is published.

    `exploitation_type` and `period` must be values the release has corridors for (others give no rows)."""
    release = _latest_release(DATASET)
    if release is None:
        return None
    summary = release.summary or {}
    corridors = summary.get("corridors", [])
    std = load_standard()
    types = sorted({c["exploitation_type"] for c in corridors if c["exploitation_type"]})
    periods = sorted({c["period"] for c in corridors if c["period"]})
    chosen = [c for c in corridors if c["exploitation_type"] == exploitation_type and c["period"] == period]
    chosen.sort(key=lambda c: (-c["count"], c["origin"], c["transit"] or "", c["destination"]))
    rows, segments = [], []
    where = centroids()
    for c in chosen[:TOP]:
        stops = [c["origin"], *([c["transit"]] if c["transit"] else []), c["destination"]]
        label = " → ".join(_country(s, lang) for s in stops)
        rows.append({"origin": _country(c["origin"], lang), "transit": _country(c["transit"], lang),
                     "destination": _country(c["destination"], lang), "count": c["count"], "label": label,
                     "href": f"/countries/{c['destination']}/"})
        points = [where.get(numeric_iso(s) or "") for s in stops]
        if None in points:
            continue
        for (a, b) in zip(points, points[1:], strict=False):
            if a != b:
                segments.append({"lon": a[0], "lat": a[1], "lon2": b[0], "lat2": b[1], "count": c["count"],
                                 "label": label})
    etype = std.codelist("exploitation_type")
    period_list = std.codelist("period")
    return {
        "release": release, "threshold": summary.get("k"), "routes": summary.get("cases"),
        "rows": rows, "segments": segments, "hidden": max(0, len(chosen) - TOP),
        "types": [{"value": t, "label": etype.label_of(t, lang) if t in etype else t} for t in types],
        "periods": [{"value": p, "label": period_list.label_of(p, lang) if p in period_list else p}
                    for p in periods],
        "exploitation_type": exploitation_type if exploitation_type in types else "",
        "period": period if period in periods else "",
    }


def country_routes(iso: str, lang: str = "en", top: int = 10) -> dict | None:
    """The country profile's routes in and out: corridors of the latest journeys release (all exploitation types
    and periods) ending in, starting from, or passing through `iso`; None when no journeys release is published."""
    release = _latest_release(DATASET)
    if release is None:
        return None
    summary = release.summary or {}
    overall = [c for c in summary.get("corridors", []) if not c["exploitation_type"] and not c["period"]]
    overall.sort(key=lambda c: (-c["count"], c["origin"], c["transit"] or "", c["destination"]))

    def rows(keep) -> list[dict]:
        return [{"origin": _country(c["origin"], lang), "transit": _country(c["transit"], lang),
                 "destination": _country(c["destination"], lang), "count": c["count"]}
                for c in overall if keep(c)][:top]

    return {
        "release": release, "threshold": summary.get("k"),
        "into": rows(lambda c: c["destination"] == iso),
        "out": rows(lambda c: c["origin"] == iso and c["destination"] != iso),
        "through": rows(lambda c: c["transit"] == iso),
    }
