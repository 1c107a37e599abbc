"""Reads of the usage counts for the steward page."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from ctdc.web.portal.models import UsageCount

HEADINGS = {"page": _("Page views"), "download": _("Downloads"), "api": _("API calls")}


def usage_summary(*, days: int = 30, today: date | None = None) -> dict:
    """Totals per day and kind (for the chart) and per kind and name (for the tables) over the last `days` days."""
    since = (today or date.today()) - timedelta(days=days - 1)
    rows = UsageCount.objects.filter(day__gte=since)
    per_day = [{"day": r["day"].isoformat(), "kind": r["kind"], "count": r["total"]}
               for r in rows.values("day", "kind").annotate(total=Sum("count")).order_by("day", "kind")]
    per_name = {kind: [] for kind, _ in UsageCount.Kind.choices}
    for r in rows.values("kind", "name").annotate(total=Sum("count")).order_by("kind", "-total", "name"):
        per_name[r["kind"]].append({"name": r["name"], "count": r["total"]})
    return {"per_day": per_day, "tables": [{"kind": k, "label": HEADINGS[k], "rows": v[:50]} for k, v in per_name.items()],
            "since": since}
