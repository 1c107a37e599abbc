"""Rate limits per client on the public API and on sign-in (issue 16, item 7).

A fixed window of one minute per client address, counted in Django's cache (`cache.add` then `cache.incr`, both
atomic in every cache backend Django ships), so nothing is written to the database on the hot path. The default
cache is per web process: with several gunicorn workers a client gets the limit in each of them, which bounds a
flood but is not an exact count; point CACHES at a shared cache for one. Limits (`CTDC_API_RATE_PER_MINUTE`,
`CTDC_LOGIN_RATE_PER_MINUTE`; 0 turns one off) are in docs/settings.md. Over the limit: 429 with `Retry-After`, and
the API's one error shape (`{code, message, extra}`, code `rate-limited`).

The client is `REMOTE_ADDR`, or behind a trusted proxy (`CTDC_TRUSTED_PROXY`) the last address of
X-Forwarded-For, the one that proxy appended (earlier ones are the client's to forge).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse

WINDOW = 60
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def client_address(request) -> str:
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _hit(kind: str, client: str, limit: int) -> int | None:
    """Count one request; the seconds until the window ends when it is over `limit`, else None."""
    now = time.time()
    window = int(now // WINDOW)
    key = f"ctdc-rate:{kind}:{client}:{window}"
    if cache.add(key, 1, timeout=WINDOW + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this request opens the window again
            cache.add(key, 1, timeout=WINDOW + 5)
            count = 1
    return int((window + 1) * WINDOW - now) + 1 if count > limit else None


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith("/api/"):
            kind, limit = "api", settings.CTDC_API_RATE_PER_MINUTE
        elif request.method == "POST" and path in LOGIN_PATHS:
            kind, limit = "login", settings.CTDC_LOGIN_RATE_PER_MINUTE
        else:
            return self.get_response(request)
        wait = _hit(kind, client_address(request), limit) if limit > 0 else None
        if wait is None:
            return self.get_response(request)
        what = "API requests" if kind == "api" else "sign-in attempts"
        message = f"Too many {what} from your address: at most {limit} a minute. Try again in {wait} s."
        if kind == "api":
            response = JsonResponse({"code": "rate-limited", "message": message,
                                     "extra": {"limit_per_minute": limit, "retry_after": wait}}, status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(wait)
        return response
