"""Privacy-respecting usage monitoring: page views, downloads and API calls per day, and nothing about the reader.

`UsageMiddleware` classifies each successful GET by its URL *pattern* (never the query string, never an IP
address, user agent, referrer or cookie; it sets no cookie) and adds one to a per-process counter. The counters
are written to `UsageCount` rows (day, kind, name, count) at most every `CTDC_USAGE_FLUSH_SECONDS` seconds, by
the request that finds them due, with atomic increments, so any number of processes can count together. A process
that dies loses at most that many seconds of counts. Signed-in work areas (intake, steward pages, admin) and
static files are not counted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from ctdc.web.portal.models import UsageCount

log = logging.getLogger(__name__)
NOT_COUNTED = ("/static/", "/admin/", "/intake/", "/accounts/", "/steward/", "/data/steward/", "/language/")
DOWNLOADS = {"data-file", "chart-download", "flows-download"}

_lock = threading.Lock()
_pending: Counter = Counter()
_last_flush = time.monotonic()


def classify(request, response) -> tuple[str, str] | None:
    """(kind, name) of a request worth counting, or None."""
    if request.method not in ("GET", "HEAD") or response.status_code >= 400:
        return None
    path = request.path
    if path.startswith(NOT_COUNTED):
        return None
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    route = "/" + match.route if match.route else path
    if match.url_name == "data-file":
        kw = match.kwargs
        return UsageCount.Kind.DOWNLOAD, f"{kw['dataset']} {kw['version']} {kw['name']}"
    if match.url_name == "chart-download":
        return UsageCount.Kind.DOWNLOAD, f"chart {match.kwargs['dim']}.{match.kwargs['fmt_']}"
    if match.url_name == "flows-download":
        return UsageCount.Kind.DOWNLOAD, f"chart flows.{match.kwargs['fmt_']}"
    if path.startswith("/api/"):
        return UsageCount.Kind.API, route
    if match.url_name == "country":
        return UsageCount.Kind.PAGE, f"/countries/{match.kwargs['iso'].upper()}/"
    return UsageCount.Kind.PAGE, route


def record(kind: str, name: str, *, today: date | None = None) -> None:
    global _last_flush
    with _lock:
        _pending[(today or date.today(), kind, name[:255])] += 1
        due = time.monotonic() - _last_flush >= settings.CTDC_USAGE_FLUSH_SECONDS
        if not due:
            return
        batch = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    try:
        flush(batch)
    except Exception:  # counting must never break a page; the counts go back for the next flush
        log.exception("usage counts could not be written; kept for the next attempt")
        with _lock:
            _pending.update(batch)


def flush(batch: dict[tuple[date, str, str], int]) -> None:
    for (day, kind, name), n in batch.items():
        rows = UsageCount.objects.filter(day=day, kind=kind, name=name).update(count=F("count") + n)
        if rows:
            continue
        try:
            with transaction.atomic():
                UsageCount.objects.create(day=day, kind=kind, name=name, count=n)
        except IntegrityError:  # another process created it meanwhile
            UsageCount.objects.filter(day=day, kind=kind, name=name).update(count=F("count") + n)


class UsageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        hit = classify(request, response)
        if hit is not None:
            record(*hit)
        return response
