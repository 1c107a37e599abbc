"""Contributor and steward pages of the intake: upload, progress, validation report, decisions, mappings,
cross-organisation duplicates and data quality. Views check access through selectors and call one service."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ctdc.errors import AgreementMissing, CtdcError, UploadTooLarge
from ctdc.formulas import defuse
from ctdc.ingest.report import ValidationReport, problems_frame
from ctdc.web.audit.selectors import audit_events_for
from ctdc.web.security.uploads import upload_refusal
from ctdc.web.submissions import selectors as sel
from ctdc.web.submissions import services
from ctdc.web.submissions.forms import (
    DecisionForm,
    DuplicateDecisionForm,
    MappingForm,
    ReprocessForm,
    UploadForm,
    mapping_choices,
)
from ctdc.web.submissions.messages import for_people
from ctdc.web.submissions.models import DuplicateFlag, SavedMapping, Submission
from ctdc.web.submissions.report_words import note_for_people, problem_for_people, title_for_people
from ctdc.web.worker.selectors import worker_status

PAGE_SIZE = 50  # problems per page: a long report is many short pages, not one endless page
QUARANTINE_PAGE_SIZE = 50


def submission_list(request):
    status = request.GET.get("status", "")
    submissions = sel.submission_list_for(user=request.user)
    if status in Submission.Status.values:
        submissions = submissions.filter(status=status)
    return render(request, "submissions/list.html", {
        "submissions": submissions[:200], "status": status, "statuses": Submission.Status.choices,
        "organisations": sel.organisation_list_for(user=request.user),
        "is_steward": sel.user_is_steward(user=request.user),
    })


def submission_new(request):
    organisations = sel.organisation_list_for(user=request.user)
    form = UploadForm(request.POST or None, request.FILES or None, organisations=organisations)
    refused = upload_refusal(request)  # cut off while it streamed in: over CTDC_UPLOAD_MAX_MB
    status = 200
    if refused is not None:
        form.is_valid()
        form.errors.pop("file", None)  # "required": the file was dropped; say why instead
        form.add_error("file", refused.message)
    elif request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            outcome = services.submission_upload(organisation=d["organisation"], upload=d["file"],
                                                 dataset=d["dataset"], mapping_choice=d["mapping"], user=request.user)
        except UploadTooLarge as exc:
            refused = exc
            form.add_error("file", exc.message)
        except AgreementMissing as exc:
            form.add_error("organisation", exc.message)
            status = 403
        else:
            if not outcome.created:
                messages.info(request, _("This exact file was submitted before: here is that submission."))
            return redirect("submission_detail", pk=outcome.submission.pk)
    return render(request, "submissions/new.html", {"form": form, "has_orgs": organisations.exists()},
                  status=413 if refused is not None else status)


def submission_detail(request, pk: int):
    submission = sel.submission_get_for(user=request.user, pk=pk)
    is_steward = sel.user_is_steward(user=request.user)
    choices = dict(mapping_choices([submission.organisation]))
    # After a mapping is saved for this submission, the editor sends the person back here with it chosen.
    wanted = request.GET.get("mapping", "")
    initial = wanted if wanted in choices else submission.mapping_choice
    return render(request, "submissions/detail.html", {
        "submission": submission, "is_steward": is_steward,
        "reprocess_form": ReprocessForm(organisation=submission.organisation, initial={"mapping": initial}),
        "reprocess_with": choices.get(initial) if wanted in choices else None,
        "decision_form": DecisionForm(), "counts": sel.report_counts(submission=submission),
        # The file-level notes in the reader's language (the stored message is English).
        "notes": [{"code": n.get("code", ""), "message": note_for_people(n)}
                  for n in submission.stats.get("notes", [])],
        # Cross-organisation matches are derived from other organisations' records: stewards only.
        "flags": submission.duplicate_flags.count() if is_steward else 0,
        "cross_org_matches": sel.cross_org_match_count(submission=submission) if is_steward else 0,
        "missed": [{**m, "label": sel.field_label(m.get("field", ""))}
                   for m in submission.error_extra.get("missed", [])] if submission.error_extra else [],
        "history": audit_events_for(target_type="submission", target_id=submission.pk),
    })


def submission_progress(request, pk: int):
    """Polled by static/submissions/progress.js while a submission is processed."""
    s = sel.submission_get_for(user=request.user, pk=pk)
    return JsonResponse({"status": s.status, "status_label": s.get_status_display(), "progress": s.progress,
                         "note": s.progress_note, "busy": s.is_busy,
                         "worker_missing": s.is_busy and worker_status().missing,
                         "rows_done": s.rows_done, "rows_text": _rows_text(s.rows_done)})


def _rows_text(rows: int) -> str:
    """'12,345 rows read and checked so far', in the request's language (the same words as the page's)."""
    return ngettext("%(shown)s row read and checked so far", "%(shown)s rows read and checked so far", rows) % {
        "shown": number_format(rows, decimal_pos=0, force_grouping=True)}


def submission_reprocess(request, pk: int):
    submission = sel.submission_get_for(user=request.user, pk=pk)
    form = ReprocessForm(request.POST, organisation=submission.organisation)
    if not form.is_valid():
        messages.error(request, _("Choose a mapping to re-process with."))
    else:
        try:
            services.submission_reprocess(submission=submission, mapping_choice=form.cleaned_data["mapping"])
            messages.success(request, _("Queued for re-processing."))
        except CtdcError as exc:
            messages.error(request, exc.message)
    return redirect("submission_detail", pk=pk)


def submission_decide(request, pk: int, decision: str):
    submission = sel.submission_get_for(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("note", []):
            messages.error(request, _("Nothing was decided: %(error)s") % {"error": error})
        return redirect(reverse("submission_detail", args=[pk]) + "#decision")
    note = form.cleaned_data["note"]
    try:
        if decision == "approve":
            written = services.submission_approve(submission=submission, user=request.user, note=note)
            messages.success(request, _("Approved: %(n)s records are in the central repository.") % {"n": written})
        else:
            services.submission_reject(submission=submission, user=request.user, note=note)
            messages.success(request, _("Rejected: nothing entered the central repository."))
    except CtdcError as exc:
        messages.error(request, exc.message)
    return redirect("submission_detail", pk=pk)


def _filters(request) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip()[:64] for k in ("code", "field", "severity")}


def _query(request, **changes) -> str:
    """The page's query string with `changes` applied (None removes a key): pager links keep the filters."""
    params = {k: v for k, v in request.GET.items() if k in ("code", "field", "severity", "page", "qcode", "qpage")}
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def _pager(request, page, key: str, anchor: str = "") -> dict:
    """Links of a pager (first, previous, next, last) that keep every other parameter of the page."""
    def link(n):
        return _query(request, **{key: n}) + anchor
    return {"page": page, "first": link(1) if page.number > 2 else None,
            "previous": link(page.previous_page_number()) if page.has_previous() else None,
            "next": link(page.next_page_number()) if page.has_next() else None,
            "last": link(page.paginator.num_pages) if page.number < page.paginator.num_pages - 1 else None}


def submission_report(request, pk: int):
    submission = sel.submission_get_for(user=request.user, pk=pk)
    filters = _filters(request)
    problems = sel.report_problems(submission=submission, **filters)
    page = Paginator(problems, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each problem in the reader's language, from its code and context (the stored message is English).
    page.object_list = list(page.object_list)
    for p in page.object_list:
        p.message_for_people = problem_for_people(code=p.code, value=p.value, field=p.field, column=p.column,
                                                  expected=p.expected, message=p.message, dataset=submission.dataset)
    counts = sel.report_counts(submission=submission)
    query = urlencode({k: v for k, v in filters.items() if v})
    qcode = request.GET.get("qcode", "").strip()[:64]
    quarantine = Paginator(sel.quarantine_rows(submission=submission, code=qcode), QUARANTINE_PAGE_SIZE
                           ).get_page(request.GET.get("qpage"))
    return render(request, "submissions/report.html", {
        "submission": submission, "page": page, "filters": filters, "counts": counts, "query": query,
        "codes": [c["code"] for c in counts["by_rule"]], "fields": sorted(c["field"] for c in counts["by_field"]),
        "titles": {c["code"]: title_for_people(c["code"]) for c in counts["by_rule"]},
        "filtered_total": page.paginator.count, "pager": _pager(request, page, "page", "#problems-section"),
        "quarantine": quarantine, "qcode": qcode, "qpager": _pager(request, quarantine, "qpage", "#quarantine"),
        "qcodes": sel.quarantine_codes(submission=submission),
    })


_CSV_COLUMNS = ("row", "column", "field", "code", "severity", "value", "message")


def submission_report_csv(request, pk: int):
    submission = sel.submission_get_for(user=request.user, pk=pk)
    rows = sel.report_problems(submission=submission, **_filters(request)).values_list(*_CSV_COLUMNS)
    return _csv_download(f"submission-{pk}-report.csv", _CSV_COLUMNS, rows)


def _csv_download(filename: str, header, rows) -> HttpResponse:
    """A CSV attachment: the header, then each row with missing values empty and formula-like text defused."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        # A coded value echoed back could start like a formula: a spreadsheet must show it as text (ctdc.formulas).
        writer.writerow(["" if v is None else defuse(v) for v in row])
    return response


def submission_quarantine_csv(request, pk: int):
    """Rows held back, with their problem codes: what to fix before uploading again (row numbers as the file has them).

    The record id is stored only as a keyed hash, so the row number is what identifies the row."""
    submission = sel.submission_get_for(user=request.user, pk=pk)
    columns = ("row", "codes")
    return _csv_download(f"submission-{pk}-quarantine.csv", columns,
                         submission.quarantine.order_by("row").values_list(*columns))


def submission_report_json(request, pk: int):
    """The Frictionless-style report (`ValidationReport.as_dict()` shape) rebuilt from the stored problems."""
    submission = sel.submission_get_for(user=request.user, pk=pk)
    rows = list(sel.report_problems(submission=submission).values(*_CSV_COLUMNS))
    stats = {k: submission.stats.get(k) for k in ("rows_read", "accepted", "quarantined", "duplicates", "errors",
                                                  "warnings", "errors_by_rule", "problems_by_field",
                                                  "blanks_by_column")}
    report = ValidationReport(valid=submission.quarantined == 0 and submission.status != Submission.Status.FAILED,
                              stats=stats, problems=problems_frame(rows))
    body = {"submission": submission.pk, "organisation": submission.organisation.slug, "file": submission.filename,
            "status": submission.status, "mapping": submission.mapping_name,
            "mapping_version": submission.mapping_version, **report.as_dict()}
    response = HttpResponse(json.dumps(body, indent=2, default=str), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="submission-{pk}-report.json"'
    return response


def mapping_list(request):
    organisations = sel.organisation_list_for(user=request.user)
    return render(request, "submissions/mappings.html", {
        "groups": [(org, sel.mapping_list_latest(organisation=org)) for org in organisations],
    })


def _submission_for_mapping(request, raw) -> Submission | None:
    """The submission a mapping is being made for (the editor's hidden field), when the user may see it."""
    try:
        pk = int(raw or 0)
    except (TypeError, ValueError):
        return None
    return sel.submission_list_for(user=request.user).filter(pk=pk).first() if pk > 0 else None


def mapping_edit(request, pk: int | None = None):
    organisations = sel.organisation_list_for(user=request.user)
    current = get_object_or_404(SavedMapping, pk=pk, organisation__in=organisations) if pk else None
    initial = {"organisation": current.organisation, "name": current.name, "text": current.text} if current else {}
    for_submission = _submission_for_mapping(request, request.POST.get("submission") or request.GET.get("submission"))
    if for_submission:
        initial["submission"] = for_submission.pk
    form = MappingForm(request.POST or None, initial=initial, organisations=organisations,
                       submission=for_submission)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        saved, created = services.mapping_save(organisation=d["organisation"], name=d["name"], text=d["text"],
                                               user=request.user)
        messages.success(request, (_("Mapping “%(name)s” saved as version %(version)s.") if created
                                   else _("Mapping “%(name)s” unchanged: this is version %(version)s."))
                         % {"name": saved.name, "version": saved.version_hash})
        if for_submission is not None:
            choice = f"mapping:{saved.name}"
            if request.POST.get("then") == "reprocess":
                try:
                    services.submission_reprocess(submission=for_submission, mapping_choice=choice)
                    messages.success(request, _("Submission %(id)s is being processed again with it.") % {"id": for_submission.pk})
                except CtdcError as exc:
                    messages.error(request, exc.message)
                return redirect("submission_detail", pk=for_submission.pk)
            return redirect(reverse("submission_detail", args=[for_submission.pk]) + f"?mapping={choice}#reprocess")
        return redirect("mapping_edit", pk=saved.pk)
    versions = (SavedMapping.objects.filter(organisation=current.organisation, name=current.name)
                if current else SavedMapping.objects.none())
    return render(request, "submissions/mapping_edit.html", {"form": form, "current": current, "versions": versions,
                                                             "suggested_from": for_submission if not current else None,
                                                             "for_submission": for_submission})


def submission_suggest_mapping(request, pk: int):
    """The mapping editor, filled with a mapping suggested from the submission's kept raw file, to check and save."""
    submission = sel.submission_get_for(user=request.user, pk=pk)
    try:
        text = sel.mapping_suggestion_for(submission=submission)
    except CtdcError as exc:
        messages.error(request, for_people(exc, filename=submission.filename))
        return redirect("submission_detail", pk=pk)
    name = slugify(Path(submission.filename).stem)[:64] or "mapping"
    form = MappingForm(initial={"organisation": submission.organisation, "name": name, "text": text,
                                "submission": submission.pk},
                       organisations=sel.organisation_list_for(user=request.user), submission=submission)
    return render(request, "submissions/mapping_edit.html", {
        "form": form, "current": None, "versions": SavedMapping.objects.none(), "suggested_from": submission,
        "for_submission": submission, "form_action": reverse("mapping_new"),
    })


def duplicate_list(request):
    status = request.GET.get("status", DuplicateFlag.Status.OPEN)
    page = Paginator(sel.duplicate_flag_list(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "submissions/duplicates.html", {"page": page, "status": status,
                                                            "statuses": DuplicateFlag.Status.choices})


def duplicate_decide(request, pk: int):
    flag = get_object_or_404(DuplicateFlag, pk=pk)
    form = DuplicateDecisionForm(request.POST)
    if form.is_valid():
        services.duplicate_flag_decide(flag=flag, status=form.cleaned_data["status"], user=request.user,
                                       note=form.cleaned_data["note"])
        messages.success(request, _("Pair %(id)s: %(verdict)s. Nothing was merged.")
                         % {"id": flag.pk, "verdict": flag.get_status_display().lower()})
    else:
        problems = "; ".join(f"{form.fields[k].label or k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, _("Pair %(id)s: nothing was recorded (%(problems)s).") % {"id": flag.pk, "problems": problems})
    back = request.POST.get("back", "open")
    back = back if back in DuplicateFlag.Status.values else "open"
    return redirect(reverse("duplicate_list") + f"?status={back}")


def organisation_quality(request, slug: str):
    organisation = sel.organisation_get_for(user=request.user, slug=slug)
    return render(request, "submissions/quality.html", {"organisation": organisation,
                                                         "quality": sel.quality_for(organisation=organisation)})
