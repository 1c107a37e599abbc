"""The audit trail for administrators: browse with filters, export as CSV (rules in ctdc.web.security.access)."""

from __future__ import annotations

import csv
import json

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render

from ctdc.formulas import defuse
from ctdc.web.audit.selectors import audit_event_filter, audit_filters

PAGE_SIZE = 100
CSV_COLUMNS = ("at", "actor", "organisation", "action", "target_type", "target_id", "note", "details")


def audit_list(request):
    filters = audit_filters(request.GET)
    page = Paginator(audit_event_filter(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(request, "audit/list.html", {"page": page, "filters": filters, "query": query})


class _Echo:
    def write(self, value):
        return value


def audit_csv(request):
    """Every event matching the filters, oldest first, streamed (the trail can be long)."""
    events = audit_event_filter(**audit_filters(request.GET)).order_by("at", "pk")
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for e in events.iterator(chunk_size=2000):
            yield writer.writerow([e.at.isoformat(), defuse(e.actor), defuse(e.organisation), e.action,
                                   e.target_type, defuse(e.target_id), defuse(e.note),
                                   defuse(json.dumps(e.details, sort_keys=True))])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ctdc-audit.csv"'
    response["Cache-Control"] = "private, no-store"
    return response
