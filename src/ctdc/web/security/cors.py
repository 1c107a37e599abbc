"""Cross-origin reads of the public API (issue 16): which answers carry CORS headers, and the preflight answer.

Only a rule with `cors=True` (`ctdc.web.security.access.RULES`: the public, read-only API endpoints of published
releases and their aggregates) lets another site's scripts read its GET and HEAD answers:

    Access-Control-Allow-Origin: *

never with `Access-Control-Allow-Credentials`, so a browser sends no cookie and no one's session can be used from
another site. A preflight (`OPTIONS` with `Access-Control-Request-Method`) of such an endpoint is answered here
with 204, allowing GET and HEAD and the simple headers only (no `Authorization`). Every other URL, and every other
method, gets no CORS header at all: pages, the signed-in intake, the contributor API (tokens) and anything that
changes state stay same-origin, and a browser refuses another site's script their answers.

Runs before the rate limit and the public answer cache, so a 429 or a cached answer carries the header too.
"""

from __future__ import annotations

from functools import lru_cache

from django.http import HttpResponse
from django.urls import Resolver404, resolve

ALLOW_METHODS = "GET, HEAD, OPTIONS"
ALLOW_HEADERS = "Accept, Accept-Language, Content-Language, Content-Type"
EXPOSE_HEADERS = "Content-Disposition, Retry-After"
MAX_AGE = "86400"


@lru_cache(maxsize=4096)  # bounded: any path can be sent
def path_allows_cors(path: str) -> bool:
    """Whether the rule of the view `path` resolves to lets other origins read it."""
    from ctdc.web.security.access import rule_for

    try:
        match = resolve(path)
    except Resolver404:
        return False
    rule = rule_for(match.view_name)
    return rule is not None and rule.cors


class CorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        method = request.method
        if method not in ("GET", "HEAD", "OPTIONS") or not request.path_info.startswith("/api/") \
                or not path_allows_cors(request.path_info):
            return self.get_response(request)
        if method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = ALLOW_METHODS
            response["Access-Control-Allow-Headers"] = ALLOW_HEADERS
            response["Access-Control-Max-Age"] = MAX_AGE
        else:
            response = self.get_response(request)
            response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        response["Access-Control-Allow-Origin"] = "*"
        return response
