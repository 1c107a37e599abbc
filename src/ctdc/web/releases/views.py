"""The data catalogue (`/data/`), release reports, downloads behind the terms of use, and the steward's builds page.

Views only parse the request and call one selector or service (HackSoft); files are served from published
releases only.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ctdc.errors import CtdcError
from ctdc.release.methods import METHODS
from ctdc.release.package import NO_PUBLIC_CHECKS, TERMS, citation_text
from ctdc.web.accounts.models import Membership
from ctdc.web.audit.models import AuditEvent
from ctdc.web.releases.forms import BuildForm, CancelForm, PublishForm, WithdrawForm
from ctdc.web.releases.ledger import repository_ledger
from ctdc.web.releases.models import Release, ReleaseBuild
from ctdc.web.releases.selectors import release_build_list, release_list
from ctdc.web.releases.services import (
    release_build_cancel,
    release_build_enqueue,
    release_publish,
    release_withdraw,
)
from ctdc.web.releases.store import release_file_open, release_json, steward_report_read

TERMS_SESSION_KEY = "ctdc_terms_accepted"
FILE_TITLES = {
    "microdata.csv": "Microdata (CSV)", "microdata.xlsx": "Microdata (Excel)", "microdata.parquet": "Microdata (Parquet)",
    "ctdc-public.csv": "Microdata in the public CTDC layout", "aggregates.csv": "Protected aggregates",
    "codebook.json": "Codebook of the released fields", "codebook.html": "Codebook of the standard (HTML)",
    "standard.json": "The standard (JSON)", "datapackage.json": "Data Package descriptor", "report.html": "Report (HTML)",
    "report.json": "Report (JSON)", "CITATION.cff": "Citation", "TERMS.md": "Terms of use",
    "CHANGES.md": "Changes", "CHECKSUMS.sha256": "Checksums", "summary.json": "Headline figures",
    "metadata.json": "Metadata",
}

ORDER = {name: i for i, name in enumerate(FILE_TITLES)}


def _is_steward(user) -> bool:
    return user.is_authenticated and (user.is_superuser or Membership.objects.filter(
        user=user, organisation=None, role=Membership.Role.STEWARD).exists())


def _citation(r: Release) -> str:
    return citation_text(dataset=r.dataset, version=r.version, method=r.method, created=r.created_at.isoformat())


def catalogue(request):
    rows = [{"release": r, "citation": _citation(r),
             "files": [{**f, "title": FILE_TITLES.get(f["name"], f["name"])}
                       for f in sorted(r.files, key=lambda f: ORDER.get(f["name"], len(ORDER)))]}
            for r in release_list(public=True)]
    return render(request, "releases/catalogue.html", {
        "rows": rows, "terms_accepted": bool(request.session.get(TERMS_SESSION_KEY)),
        "is_steward": _is_steward(request.user)})


def _show(value) -> str:
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def _report_context(r: Release, data: dict, records: dict, steward: bool) -> dict:
    engine = data.get("engine", {})
    return {
        "release": r, "report": data, "citation": _citation(r), "checks": data.get("checks", []),
        "records": records, "steward": steward, "no_public_checks": NO_PUBLIC_CHECKS,
        "engine": [(k.replace("_", " ").capitalize(),
                    {kk: _show(vv) for kk, vv in (v.items() if isinstance(v, dict) else [("value", v)])})
                   for k, v in engine.items()],
    }


def report(request, dataset: str, version: str):
    """The public report: report.json of the release folder, which holds nothing computed on the input."""
    r = get_object_or_404(Release.objects.exclude(status=Release.Status.DRAFT), dataset=dataset, version=version)
    data = release_json(release=r, name="report.json") or {}
    return render(request, "releases/report.html", _report_context(r, data, data.get("records", {}), False))


@login_required
def steward_report(request, dataset: str, version: str):
    """The steward report of any release (drafts too): everything computed on the input. Stewards only."""
    if not _is_steward(request.user):
        raise PermissionDenied
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
    fh = release_file_open(release=r, name=name) if r.status == Release.Status.PUBLISHED else None
    if fh is None:
        raise Http404("No such file in this release.")
    return FileResponse(fh, as_attachment=True, filename=f"ctdc-{dataset}-{version}-{name}")


def terms(request):
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("data-catalogue")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("data-catalogue")
    if request.method == "POST" and request.POST.get("accept") == "yes":
        request.session[TERMS_SESSION_KEY] = True
        return redirect(next_url)
    return render(request, "releases/terms.html", {"terms": TERMS, "next": next_url})


def _steward_page(request, *, build_form=None, withdraw_form=None, status: int = 200):
    """The steward's page; a form given here is one that was refused, re-shown with its errors."""
    return render(request, "releases/steward.html", {
        "builds": release_build_list(), "methods": sorted(METHODS), "releases": release_list(),
        "active": ReleaseBuild.objects.filter(status__in=ReleaseBuild.ACTIVE).exists(),
        "build_form": build_form or BuildForm(), "withdraw_form": withdraw_form,
        "budget": repository_ledger().remaining("victims"), "budget_total": repository_ledger().total,
        "history": AuditEvent.objects.filter(target_type="release")[:20],
    }, status=status)


@login_required
def steward(request):
    if not _is_steward(request.user):
        raise PermissionDenied
    return _steward_page(request)


def _refused(request, form, what: str) -> None:
    """A refused action's reasons as page messages (for forms whose fields are hidden)."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{what} refused: {label + ': ' if label and name != '__all__' else ''}{error}")


@login_required
@require_POST
def steward_action(request):
    """One action of the steward's page. Every parameter is checked here (forms), whatever the browser sent."""
    if not _is_steward(request.user):
        raise PermissionDenied
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
