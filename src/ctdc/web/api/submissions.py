"""The contributor API (issue 16): upload a file, follow its processing, list the own organisations' submissions.

    POST /api/v1/submissions         multipart: file, organisation (slug; optional for a member of one), dataset,
                                     mapping ("detect", "preset:<name>", "mapping:<name>"); token scope `submit`
    GET  /api/v1/submissions         the token owner's organisations' submissions, newest first, paginated; `read`
    GET  /api/v1/submissions/{id}    status, progress, counts and the validation report; `read`

Used with an API token only (`Authorization: Bearer ...`, created on /accounts/tokens/ or with `ctdc token create`);
who may call what is declared in `ctdc.web.security.access.RULES`, which checks the token before these run.
Another organisation's submission answers 404, as on the pages. Every operation declares 400: a NUL character in
any parameter is refused before the API runs (`ctdc.web.config.middleware.RefuseNulMiddleware`). Errors have the API's one shape
`{code, message, extra}`. The upload streams through the same handlers as the upload page: a file over
CTDC_UPLOAD_MAX_MB is cut off while it arrives (413).
"""

from __future__ import annotations

from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from ctdc.errors import AgreementMissing, UploadTooLarge
from ctdc.web.security.uploads import upload_refusal
from ctdc.web.submissions import selectors as sel
from ctdc.web.submissions import services
from ctdc.web.submissions.forms import UploadForm
from ctdc.web.submissions.models import Submission

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # a page past the end is empty; past this, the offset would overflow the database's integer
REPORT_PROBLEMS = 500  # problems listed in the API's report; the full report is on the page and report.json


class ApiTokenAuth(HttpBearer):
    """The token was checked (validity, expiry, scope) by the access middleware; this declares the scheme in the
    OpenAPI document and refuses a request that reached here without one."""

    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        return getattr(request, "api_token", None)


router = Router(tags=["contributor"], auth=ApiTokenAuth())


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict


class SubmissionOut(Schema):
    id: int
    organisation: str
    dataset: str
    filename: str
    size: int
    status: str
    progress: int
    progress_note: str
    rows_read: int
    accepted: int
    quarantined: int
    duplicates: int
    mapping: str
    mapping_version: str
    created_at: str
    processed_at: str | None
    decided_at: str | None
    error: str

    @staticmethod
    def resolve_id(obj: Submission) -> int:
        return obj.pk

    @staticmethod
    def resolve_organisation(obj: Submission) -> str:
        return obj.organisation.slug

    @staticmethod
    def resolve_mapping(obj: Submission) -> str:
        return obj.mapping_name

    @staticmethod
    def resolve_created_at(obj: Submission) -> str:
        return obj.created_at.isoformat()

    @staticmethod
    def resolve_processed_at(obj: Submission) -> str | None:
        return obj.processed_at.isoformat() if obj.processed_at else None

    @staticmethod
    def resolve_decided_at(obj: Submission) -> str | None:
        return obj.decided_at.isoformat() if obj.decided_at else None


class ProblemOut(Schema):
    row: int | None
    column: str
    field: str
    code: str
    severity: str
    value: str
    message: str


class ReportOut(Schema):
    valid: bool
    errors: int
    warnings: int
    by_rule: list[dict]
    by_field: list[dict]
    problems: list[ProblemOut]
    problems_total: int


class SubmissionDetailOut(SubmissionOut):
    report: ReportOut


class SubmissionPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[SubmissionOut]


def _error(status: int, code: str, message: str, extra: dict | None = None) -> Status:
    return Status(status, {"code": code, "message": message, "extra": extra or {}})


@router.get("/submissions", url_name="submissions",
            response={200: SubmissionPageOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
            summary="Your organisations' submissions, newest first")
def submission_list(request, page: int = Query(1, ge=1, le=MAX_PAGE), page_size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
                    status: str | None = None):
    submissions = sel.submission_list_for(user=request.user).order_by("-created_at", "-pk")
    if status:
        submissions = submissions.filter(status=status)
    count = submissions.count()
    start = (page - 1) * page_size
    return {"count": count, "page": page, "pages": max(1, -(-count // page_size)),
            "results": list(submissions[start:start + page_size]) if start < count else []}


@router.post("/submissions", url_name="submissions",
             response={201: SubmissionOut, 200: SubmissionOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                       413: ErrorOut, 422: ErrorOut},
             summary="Upload a file for one of your organisations (processed in the background)")
def submission_create(request, file: File[UploadedFile] = None, organisation: Form[str] = "",
                      dataset: Form[str] = "victims", mapping: Form[str] = "detect"):
    refused = upload_refusal(request)
    if refused is not None:
        return _error(413, refused.code, refused.message, refused.extra)
    organisations = sel.organisation_list_for(user=request.user)
    if organisation:
        org = sel.organisation_get_for(user=request.user, slug=organisation)  # another organisation: 404
    elif organisations.count() == 1:
        org = organisations.get()
    else:
        return _error(422, "invalid-request", "Name the organisation (its slug) you upload for.",
                      {"errors": {"organisation": ["required"]}})
    form = UploadForm({"organisation": org.pk, "dataset": dataset, "mapping": mapping},
                      {"file": file} if file is not None else {}, organisations=organisations)
    if not form.is_valid():
        return _error(422, "invalid-request", "The upload's fields are not valid.",
                      {"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}})
    d = form.cleaned_data
    try:
        outcome = services.submission_upload(organisation=d["organisation"], upload=d["file"], dataset=d["dataset"],
                                             mapping_choice=d["mapping"], user=request.user, via="api")
    except UploadTooLarge as exc:
        return _error(413, exc.code, exc.message, exc.extra)
    except AgreementMissing as exc:
        return _error(403, exc.code, exc.message, exc.extra)
    return Status(201 if outcome.created else 200, outcome.submission)


@router.get("/submissions/{submission_id}", url_name="submission",
            response={200: SubmissionDetailOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="One of your organisations' submissions: status, progress, counts and validation report")
def submission_detail(request, submission_id: int):
    submission = sel.submission_get_for(user=request.user, pk=submission_id)  # another organisation's: 404
    counts = sel.report_counts(submission=submission)
    problems = sel.report_problems(submission=submission)
    report = {
        "valid": submission.quarantined == 0 and submission.status != Submission.Status.FAILED,
        "errors": int(submission.stats.get("errors") or 0), "warnings": int(submission.stats.get("warnings") or 0),
        "by_rule": counts["by_rule"], "by_field": counts["by_field"], "problems_total": problems.count(),
        "problems": [{**p, "value": p["value"] or "", "column": p["column"] or "", "field": p["field"] or "",
                      "message": p["message"] or ""}
                     for p in problems.values("row", "column", "field", "code", "severity", "value", "message")
                     [:REPORT_PROBLEMS]],
    }
    submission.report = report
    return submission
