"""Requests no page can mean: refused before any view runs.

A NUL character in a query or form value is never part of a valid request (no field of ctdc holds one), and
PostgreSQL refuses it in any text it is given: a view filtering on such a value would fail with a server error.
Refusing it here, once, answers 400 for every page and API endpoint alike. Uploaded files are not inspected here
(their bytes go to the intake pipeline, which names binary files for what they are).
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or (
                request.method == "POST" and _has_nul(request.POST)):
            message = "The request contains a NUL character, which no field accepts. Nothing was done."
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid-request", "message": message, "extra": {}}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
