"""The API (django-ninja, OpenAPI at /api/v1/openapi.json, docs at /api/docs).

Its public part reads published releases only; the contributor API (`ctdc.web.api.submissions`) needs an API
token. Who may call each endpoint is declared in `ctdc.web.security.access.RULES`. Every error has one shape: `{"code", "message", "extra"}`. It never answers
with anything computed on the input (the record count a release was built from, counts by contributor type,
check details counted on the input): those are in the steward report, for stewards only.
"""

from __future__ import annotations

from django.http import Http404
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import ValidationError as NinjaValidationError

from ctdc.errors import CtdcError
from ctdc.web.releases.models import Release
from ctdc.web.releases.selectors import release_latest, release_list


class ApiDocs(Swagger):
    """Swagger UI at /api/docs, made to pass axe-core like every public page: the page has a language and
    contrast fixes (`portal/api-docs.css`), and deep links are off (their anchors nest inside each operation's
    button, which assistive technology cannot reach)."""

    template = "portal/api_docs.html"


api = NinjaAPI(title="ctdc API", version="1", urls_namespace="api", docs=ApiDocs(settings={"deepLinking": False}),
               openapi_url="/v1/openapi.json",
               description="Protected figures from published ctdc releases (public; never row-level data from the "
                           "central repository), and the contributor API for uploads (with an API token).")


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


class ReleaseOut(Schema):
    dataset: str
    version: str
    status: str
    method: str
    params: dict
    record_count: int
    size_bytes: int
    standard_version: str
    created_at: str
    published_at: str | None
    withdrawn_reason: str

    @staticmethod
    def resolve_created_at(obj: Release) -> str:
        return obj.created_at.isoformat()

    @staticmethod
    def resolve_published_at(obj: Release) -> str | None:
        return obj.published_at.isoformat() if obj.published_at else None


class ReleaseDetailOut(ReleaseOut):
    # The checks as the public may see them (`public_checks`); counts on the input are in the steward report.
    checks: list[dict]
    files: list[dict]
    previous_version: str


class SummaryOut(Schema):
    dataset: str
    version: str
    summary: dict


def _error(request, status: int, code: str, message: str, extra: dict | None = None):
    return api.create_response(request, {"code": code, "message": message, "extra": extra or {}}, status=status)


@api.exception_handler(CtdcError)
def _ctdc_error(request, exc: CtdcError):
    return _error(request, 400, exc.code, exc.message, exc.extra)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not-found", str(exc) or "Not found.")


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    return _error(request, 422, "invalid-request", "The request's parameters are not valid.", {"errors": exc.errors})


@api.get("/v1/releases", response={200: list[ReleaseOut], 400: ErrorOut, 422: ErrorOut}, summary="List published and withdrawn releases, newest first")
def releases(request, dataset: str | None = None):
    return list(release_list(dataset=dataset, public=True))


@api.get("/v1/releases/{dataset}/latest", response={200: SummaryOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
         summary="Headline figures and protected counts of the latest published release")
def latest(request, dataset: str):
    release = release_latest(dataset=dataset)
    if release is None:
        raise Http404(f"No published release of dataset '{dataset}'.")
    return SummaryOut(dataset=release.dataset, version=release.version, summary=release.summary)


@api.get("/v1/releases/{dataset}/{version}",
         response={200: ReleaseDetailOut, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
         summary="One release: method, parameters, disclosure checks, files (downloads are on /data/)")
def release_detail(request, dataset: str, version: str):
    release = release_list(dataset=dataset, public=True).filter(version=version).first()
    if release is None:
        raise Http404(f"No release {version} of dataset '{dataset}'.")
    return release


# The public aggregates (`GET /api/v1/aggregates`): the portal's own selector, so both show the same counts.
from ctdc.web.portal.api import router as _aggregates_router  # noqa: E402

api.add_router("/v1/", _aggregates_router)

from ctdc.web.api.submissions import router as _submissions_router  # noqa: E402

api.add_router("/v1/", _submissions_router)
