"""`GET /api/v1/aggregates`: the protected counts the portal shows, for programs (same selector, same rules)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from ninja import Query, Router, Schema

from ctdc.web.config.middleware import _has_nul
from ctdc.web.portal.figures import DIMENSIONS
from ctdc.web.portal.labels import value_label
from ctdc.web.portal.selectors import ANSWERS, NoPublishedRelease, portal_figures, release_key

router = Router(tags=["aggregates"])


class AggregatesIn(Schema):
    dataset: str = "victims"
    by: str = ""
    gender: str | None = None
    age_band: str | None = None
    citizenship: str | None = None
    country_of_exploitation: str | None = None
    exploitation_types: str | None = None
    labour_sectors: str | None = None
    means_of_control: str | None = None
    recruiter_relations: str | None = None
    recruitment_methods: str | None = None
    recruitment_platforms: str | None = None
    exploitation_platforms: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    lang: str = "en"


class RowOut(Schema):
    values: dict[str, str]
    labels: dict[str, str]
    count: int | None
    suppressed: bool
    partial: bool


class AggregatesOut(Schema):
    dataset: str
    version: str
    method: str
    citation: str
    threshold: int
    max_length: int
    suppressed_means: str
    by: list[str]
    filters: dict[str, str]
    year_from: int | None
    year_to: int | None
    total: RowOut
    rows: list[RowOut]
    hidden_cells: int


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


def figures_payload(pr, figures, lang: str = "en") -> dict:
    """The API's (and the download's) view of one answer: plain data, the release version and citation."""
    def row(r) -> dict:
        values = dict(zip(figures.by, r.values, strict=False))  # the total row has no values
        return {"values": values, "labels": {d: value_label(d, v, lang) for d, v in values.items()},
                "count": r.count, "suppressed": r.suppressed, "partial": r.partial}

    release = pr.release
    return {
        "dataset": release.dataset, "version": release.version, "method": release.method,
        "citation": pr.citation, "threshold": figures.threshold, "max_length": pr.index.length,
        "suppressed_means": f"fewer than {figures.threshold}",
        "by": list(figures.by), "filters": dict(figures.filters),
        "year_from": figures.year_from, "year_to": figures.year_to,
        "total": row(figures.total), "rows": [row(r) for r in figures.rows], "hidden_cells": figures.hidden_cells,
    }


@router.get("/aggregates", response={200: AggregatesOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="Protected counts of the latest published release, by one or two dimensions, filtered",
            description=(
                "Counts from the release's protected aggregates only. `by` names one or two of: "
                f"{', '.join(DIMENSIONS)} (comma-separated). Filters: one value per dimension, and a registration "
                "year range (`year_from`, `year_to`, summing the published counts of its years). A question "
                "combines at most `max_length` values (the release's reporting length L): more is refused with "
                "400. A count below `threshold` is never returned: the row has `count: null`, "
                "`suppressed: true` (it means fewer than `threshold`). Labels in `lang` (en, fr, es)."))
def aggregates(request, params: Query[AggregatesIn]):
    by = tuple(d.strip() for d in params.by.split(",") if d.strip())
    filters = {d: getattr(params, d) for d in DIMENSIONS if d != "registration_year" and getattr(params, d)}
    key = (release_key(params.dataset), params.dataset, by, tuple(sorted(filters.items())), params.year_from,
           params.year_to, params.lang)
    body = ANSWERS.get(key) if key[0] is not None else None
    if body is None:
        try:
            pr, figures = portal_figures(dataset=params.dataset, by=by, filters=filters,
                                         year_from=params.year_from, year_to=params.year_to)
        except NoPublishedRelease as exc:
            raise Http404(exc.message) from None
        # Validated against the documented schema once, then kept as bytes: the same question is answered
        # from this process's cache until the release changes.
        body = AggregatesOut.model_validate(figures_payload(pr, figures, params.lang)).model_dump_json().encode()
        ANSWERS.put(key, body)
    raw = raw_key(request)
    if raw is not None:
        ANSWERS.put(raw, body)  # what AnswerCacheMiddleware looks up before any parsing
    return HttpResponse(body, content_type="application/json")


PATH = "/api/v1/aggregates"


def raw_key(request) -> tuple | None:
    """The cache key of an aggregates question as its URL asks it (no parsing, no validation): the release and
    the query's parameters, sorted. Two spellings of one question are two entries holding the same bytes."""
    dataset = request.GET.get("dataset") or "victims"
    release = release_key(dataset)
    return None if release is None else ("raw", release, tuple(sorted((k, tuple(v)) for k, v in request.GET.lists())))


class AnswerCacheMiddleware:
    """Answer a repeated `GET /api/v1/aggregates` from this process's cache before sessions, locale, CSRF, auth and
    the API framework run (none of them changes a public, cookie-free JSON answer); a miss goes the full way.

    Measured in benchmarks/portal.py (docs/benchmarks.md): the API framework's parsing and the middleware stack
    were most of the time of a cached answer. Usage is still counted, as UsageMiddleware would count it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A value with a NUL goes the full way, to RefuseNulMiddleware's 400 (PostgreSQL refuses NUL in a lookup).
        if request.method == "GET" and request.path == PATH and not _has_nul(request.GET):
            request.get_host()  # an unknown Host is refused (400) here as on every other path
            key = raw_key(request)
            body = ANSWERS.get(key) if key is not None else None
            if body is not None:
                from ctdc.web.portal.models import UsageCount
                from ctdc.web.portal.usage import record

                record(UsageCount.Kind.API, PATH)
                return HttpResponse(body, content_type="application/json")
        return self.get_response(request)

