"""The data catalogue (`/data/`), release reports, downloads behind the terms of use, and the steward's builds page.

Views only parse the request and call one selector or service (HackSoft); files are served from published
releases only.
"""

from __future__ import annotations

import json
from functools import cache

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from markdown_it import MarkdownIt

from ctdc.errors import CtdcError
from ctdc.release.methods import METHODS
from ctdc.release.package import NO_PUBLIC_CHECKS, TERMS, citation_text
from ctdc.web.accounts.roles import user_is_steward
from ctdc.web.audit.models import AuditEvent
from ctdc.web.releases.forms import BuildForm, CancelForm, PublishForm, WithdrawForm
from ctdc.web.releases.ledger import repository_ledger
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.releases.readable import METHOD_GUIDE, contributors_by_type, fmt_number, readable_report
from ctdc.web.releases.selectors import release_build_list, release_latest, release_list
from ctdc.web.releases.services import (
    release_build_cancel,
    release_build_enqueue,
    release_publish,
    release_withdraw,
)
from ctdc.web.releases.store import (
    release_file_open,
    release_json,
    release_zip_name,
    release_zip_stream,
    steward_report_read,
)

TERMS_SESSION_KEY = "ctdc_terms_accepted"
FILE_TITLES = {
    "microdata.csv": _("Rows (CSV)"), "microdata.xlsx": _("Rows (Excel)"), "microdata.parquet": _("Rows (Parquet)"),
    "ctdc-public.csv": _("Rows in the public CTDC layout (CSV)"), "aggregates.csv": _("Protected counts (CSV)"),
    # A dataset of published aggregates (government response), released as published.
    "data.csv": _("Published figures (CSV)"), "data.parquet": _("Published figures (Parquet)"),
    "codebook.json": _("Codebook of the released fields"), "codebook.html": _("Codebook of the standard (HTML)"),
    "standard.json": _("The standard (JSON)"), "datapackage.json": _("Data Package descriptor"),
    "report.html": _("Report (HTML)"), "report.json": _("Report (JSON, for programs)"),
    "CITATION.cff": _("Citation"), "TERMS.md": _("Terms of use"), "CHANGES.md": _("Changes since the previous "
                                                                                     "release"),
    "CHECKSUMS.sha256": _("Checksums"), "summary.json": _("Headline figures (JSON)"),
    "metadata.json": _("Metadata (JSON)"),
}

ORDER = {name: i for i, name in enumerate(FILE_TITLES)}


def _is_steward(user) -> bool:
    return user_is_steward(user)


def _citation(r: Release) -> str:
    return citation_text(dataset=r.dataset, version=r.version, method=r.method, created=r.created_at.isoformat())


def _files(r: Release) -> list[dict]:
    """The release's files in reading order (rows first), each with a plain title; the name is the path
    `datapackage.json` gives it, and the name the download saves it under."""
    return [{**f, "title": FILE_TITLES.get(f["name"], f["name"])}
            for f in sorted(r.files, key=lambda f: ORDER.get(f["name"], len(ORDER)))]


def _facts(r: Release) -> dict:
    return {"rows": fmt_number(r.record_count), "zip": release_zip_name(r),
            "params": ", ".join(f"{k} = {fmt_number(v) if isinstance(v, int | float) else v}"
                                for k, v in r.params.items())}


def _guide(releases) -> list[dict]:
    """Which release to use for what: the latest published release of each method, in plain words."""
    latest: dict[str, Release] = {}
    for r in releases:
        if r.status == Release.Status.PUBLISHED and r.method not in latest:
            latest[r.method] = r
    return [{"method": m, "release": latest.get(m), **{k: str(v) for k, v in text.items()}}
            for m, text in METHOD_GUIDE.items()]


def catalogue(request):
    releases = list(release_list(public=True))
    rows = [{"release": r, "citation": _citation(r), "files": _files(r), "facts": _facts(r),
             "guide": METHOD_GUIDE.get(r.method, {})} for r in releases]
    return render(request, "releases/catalogue.html", {
        "rows": rows, "guide": _guide(releases), "latest": release_latest(dataset="victims"),
        "terms_accepted": bool(request.session.get(TERMS_SESSION_KEY)), "is_steward": _is_steward(request.user)})


def latest(request, dataset: str, name: str | None = None):
    """`/data/<dataset>/latest/` (and `.../latest/files/<name>`): the newest published release, by redirect, so a
    link to "the latest" never goes stale and a citation still names the exact version."""
    r = release_latest(dataset=dataset)
    if r is None:
        raise Http404(f"No published release of dataset '{dataset}'.")
    if name is None:
        return redirect("data-report", dataset=r.dataset, version=r.version)
    return redirect("data-file", dataset=r.dataset, version=r.version, name=name)


def _report_context(r: Release, data: dict, records: dict, steward: bool) -> dict:
    readable = readable_report({**data, "records": records}, published=r.status == Release.Status.PUBLISHED)
    return {
        "release": r, "citation": _citation(r), "steward": steward, "no_public_checks": NO_PUBLIC_CHECKS,
        "guide": {k: str(v) for k, v in METHOD_GUIDE.get(r.method, {}).items()}, "facts": _facts(r),
        "files": _files(r), "is_latest": release_latest(dataset=r.dataset) == r, **readable,
        "contributors": contributors_by_type(r.summary.get("contributors_by_type")),
    }


def report(request, dataset: str, version: str):
    """The public report: report.json of the release folder, which holds nothing computed on the input."""
    r = get_object_or_404(Release.objects.exclude(status=Release.Status.DRAFT), dataset=dataset, version=version)
    data = release_json(release=r, name="report.json") or {}
    return render(request, "releases/report.html", _report_context(r, data, data.get("records", {}), False))


def steward_report(request, dataset: str, version: str):
    """The steward report of any release (drafts too): everything computed on the input. Stewards only."""
    r = get_object_or_404(Release, dataset=dataset, version=version)
    raw = steward_report_read(release=r)
    if raw is None:
        raise Http404("This release has no steward report (it was built before steward reports existed).")
    if request.GET.get("format") == "json":
        return HttpResponse(raw, content_type="application/json; charset=utf-8",
                            headers={"Cache-Control": "private, no-store"})
    data = json.loads(raw)
    response = render(request, "releases/report.html", _report_context(r, data, data.get("input", {}), True))
    response["Cache-Control"] = "private, no-store"
    return response


def download(request, dataset: str, version: str, name: str):
    r = get_object_or_404(Release.objects.exclude(status=Release.Status.DRAFT), dataset=dataset, version=version)
    if r.status == Release.Status.WITHDRAWN:
        return HttpResponse(f"Release {version} was withdrawn: {r.withdrawn_reason}", status=410,
                            content_type="text/plain; charset=utf-8")
    if not request.session.get(TERMS_SESSION_KEY):
        return redirect(f"{reverse('data-terms')}?next={request.path}")
    if r.status != Release.Status.PUBLISHED:
        raise Http404("No such file in this release.")
    if name == release_zip_name(r):
        response = StreamingHttpResponse(release_zip_stream(release=r, names=[f["name"] for f in _files(r)]),
                                         content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    fh = release_file_open(release=r, name=name)
    if fh is None:
        raise Http404("No such file in this release.")
    # Saved under its own name, the path datapackage.json gives it: files saved side by side form a valid package.
    return FileResponse(fh, as_attachment=True, filename=name)


@cache
def terms_html() -> str:
    """TERMS.md of every release, as a page (CommonMark; raw HTML in it would be escaped, not rendered)."""
    return MarkdownIt("commonmark", {"html": False}).render(TERMS)


def terms(request):
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("data-catalogue")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("data-catalogue")
    if request.method == "POST" and request.POST.get("accept") == "yes":
        request.session[TERMS_SESSION_KEY] = True
        return redirect(next_url)
    return render(request, "releases/terms.html", {
        "terms": mark_safe(terms_html()), "next": next_url,  # noqa: S308 - our own text, HTML escaped by the parser
        "accepted": bool(request.session.get(TERMS_SESSION_KEY))})


def _steward_page(request, *, build_form=None, withdraw_form=None, status: int = 200):
    """The steward's page; a form given here is one that was refused, re-shown with its errors."""
    return render(request, "releases/steward.html", {
        "builds": release_build_list(), "methods": sorted(METHODS), "releases": release_list(),
        "active": ReleaseBuild.objects.filter(status__in=ReleaseBuild.ACTIVE).exists(),
        "build_form": build_form or BuildForm(), "withdraw_form": withdraw_form,
        "budget": repository_ledger().remaining("victims"), "budget_total": repository_ledger().total,
        "history": AuditEvent.objects.filter(target_type="release")[:20],
    }, status=status)


def steward(request):
    return _steward_page(request)


def _refused(request, form, what: str) -> None:
    """A refused action's reasons as page messages (for forms whose fields are hidden)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{what} refused: {label + ': ' if label and name != '__all__' else ''}{error}")


def steward_action(request):
    """One action of the steward's page. Every parameter is checked here (forms), whatever the browser sent."""
    action, p, who = request.POST.get("action"), request.POST, request.user.get_username()
    try:
        if action == "build":
            form = BuildForm(p)
            if not form.is_valid():
                messages.error(request, "The build was not queued: correct the fields marked below.")
                return _steward_page(request, build_form=form, status=400)
            d = form.cleaned_data
            b = release_build_enqueue(
                dataset=d["dataset"], method=d["method"], k=d["k"], epsilon=d["epsilon"], length=d["length"],
                delta=d["delta"], seed=d["seed"], notes=d["notes"], publish=d["publish"], requested_by=who)
            messages.info(request, f"Build {b.pk} queued; the background worker runs it.")
        elif action == "cancel":
            form = CancelForm(p)
            if not form.is_valid():
                _refused(request, form, "Cancel")
                return redirect("data-steward")
            b = release_build_cancel(build_id=form.cleaned_data["build"], by=who)
            messages.info(request, f"Build {b.pk} cancelled." if b.status == ReleaseBuild.Status.CANCELLED
                          else f"Build {b.pk} stops at its next stage.")
        elif action == "publish":
            form = PublishForm(p)
            if not form.is_valid():
                _refused(request, form, "Publishing")
                return redirect("data-steward")
            r = release_publish(dataset=form.cleaned_data["dataset"], version=form.cleaned_data["version"],
                                by=request.user)
            messages.info(request, f"Published {r.dataset} {r.version}.")
        elif action == "withdraw":
            form = WithdrawForm(p)
            if not form.is_valid():
                messages.error(request, "The release was not withdrawn: see the field marked below.")
                return _steward_page(request, withdraw_form=form, status=400)
            d = form.cleaned_data
            r = release_withdraw(dataset=d["dataset"], version=d["version"], reason=d["reason"], by=request.user)
            messages.info(request, f"Withdrew {r.dataset} {r.version}.")
        else:
            messages.error(request, "Unknown action: nothing was done.")
    except CtdcError as exc:
        messages.error(request, exc.message)
    return redirect("data-steward")
