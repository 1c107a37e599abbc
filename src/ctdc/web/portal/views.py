"""Public portal pages: home, explore, map and flows, country profiles, chart downloads.

They read the latest published release only, through `ctdc.web.portal.selectors` (the protected aggregates).
Every page is complete without scripts: numbers are server-rendered tables, filters are a form, and selecting a
value is a link. The charts (Vega-Lite, `static/portal/portal.js`) draw the same rows the tables hold.
"""

from __future__ import annotations

import csv
import functools
import io

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ctdc.errors import CtdcError
from ctdc.formulas import defuse
from ctdc.web.portal.explore import (
    COUNTRY_DIMS,
    FILTER_DIMS,
    Question,
    chart,
    chart_payload,
    flows,
    fmt,
    numeric_iso,
    parse_question,
    suppressed_text,
)
from ctdc.web.portal.figures import DIMENSIONS, YEAR
from ctdc.web.portal.government import government_response_profile
from ctdc.web.portal.labels import dimension_label, value_label
from ctdc.web.portal.selectors import PAGES, portal_release, release_key
from ctdc.web.releases.readable import contributors_by_type


def cached_page(view):
    """Serve an anonymous reader's page from this process's cache when the same URL was rendered for the same
    release and language (pages are pure functions of those; signed-in users get their own navigation)."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        key = (view.__name__, release_key("victims"), release_key("government_response"),
               release_key("journey_events"), release_key("recruitment_fees"), get_language(),
               request.get_full_path())
        body = PAGES.get(key)
        if body is not None:
            return HttpResponse(body, content_type="text/html; charset=utf-8")
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming:
            PAGES.put(key, response.content)
        return response

    return wrapper


def _lang() -> str:
    return (get_language() or "en")[:2]


def _common(pr, q: Question, lang: str, base: str) -> dict:
    """Context every figure page shares: the release, the filter form, the suppression note."""
    index = pr.index
    slots = q.slots(pr)
    full = slots >= index.max_filters
    years = index.years()
    form = []
    for dim in FILTER_DIMS:
        value = q.filters.get(dim, "")
        form.append({
            "dim": dim, "label": dimension_label(dim, lang), "value": value,
            "disabled": full and not value,
            "options": [{"value": v, "label": value_label(dim, v, lang)} for v in
                        sorted(index.domains[dim], key=lambda v: value_label(dim, v, lang))],
            "clear": base + q.query_string(**{dim: None}) if value else "",
        })
    active = [{"label": dimension_label(d, lang), "value": value_label(d, v, lang),
               "clear": base + q.query_string(**{d: None})} for d, v in q.filters.items()]
    if q.year_from is not None or q.year_to is not None:
        active.append({"label": dimension_label(YEAR, lang),
                       "value": f"{q.year_from or '…'}–{q.year_to or '…'}",
                       "clear": base + q.query_string(year_from=None, year_to=None)})
    return {
        "pr": pr, "release": pr.release, "q": q, "form": form, "active": active, "full": full,
        "max_filters": index.max_filters, "threshold": index.threshold, "fewer": suppressed_text(index.threshold),
        "years": list(range(years[0], years[1] + 1)) if years else [], "year_disabled": full and not active,
        "base": base, "query": q.query_string(),
    }


def _no_release(request, template: str):
    return render(request, template, {"release": None}, status=200)


@cached_page
def home(request):
    pr = portal_release("victims")
    if pr is None:
        return _no_release(request, "portal/home.html")
    lang = _lang()
    q = Question()
    index = pr.index
    by_country = chart(pr, q, "country_of_exploitation", lang, kind="map", top=0)
    trend = chart(pr, q, YEAR, lang)
    by_type = chart(pr, q, "exploitation_types", lang)
    years = index.years()
    figures = {
        "cases": fmt(index.total_count) if index.total_count >= index.threshold else suppressed_text(index.threshold),
        "nationalities": sum(1 for r in chart(pr, q, "citizenship", lang)["rows"] if r["count"] is not None),
        "countries": sum(1 for r in by_country["rows"] if r["count"] is not None),
        "years": f"{years[0]}–{years[1]}" if years else _("not published"),
    }
    return render(request, "portal/home.html", {
        "pr": pr, "release": pr.release, "figures": figures,
        "contributors": contributors_by_type(pr.release.summary.get("contributors_by_type")), "charts": [by_country, trend, by_type],
        "threshold": index.threshold, "fewer": suppressed_text(index.threshold),
        "query": "?",
    })


@cached_page
def explore(request):
    pr = portal_release("victims")
    if pr is None:
        return _no_release(request, "portal/explore.html")
    lang = _lang()
    q = parse_question(request.GET, pr)
    context = _common(pr, q, lang, "/explore/")
    context["charts"] = [chart(pr, q, dim, lang) for dim in DIMENSIONS]
    context["total"] = _total(pr, q)
    return render(request, "portal/explore.html", context)


def _total(pr, q: Question) -> str:
    from ctdc.web.portal.figures import FigureQueryError
    from ctdc.web.portal.selectors import portal_figures

    try:
        _pr, figures = portal_figures(dataset=pr.release.dataset, filters=q.filters, year_from=q.year_from,
                                      year_to=q.year_to)
    except FigureQueryError as exc:
        return exc.message
    return fmt(figures.total.count) if figures.total.count is not None else suppressed_text(figures.threshold)


@cached_page
def geography(request):
    pr = portal_release("victims")
    if pr is None:
        return _no_release(request, "portal/map.html")
    lang = _lang()
    q = parse_question(request.GET, pr)
    view = request.GET.get("view") if request.GET.get("view") in COUNTRY_DIMS else "country_of_exploitation"
    context = _common(pr, q, lang, "/map/")
    context.update(view=view, views=[{"dim": d, "label": dimension_label(d, lang),
                                      "href": "/map/" + q.query_string() + f"&view={d}"} for d in COUNTRY_DIMS],
                   map=chart(pr, q, view, lang, base="/map/", kind="map", top=0), flows=flows(pr, q, lang))
    return render(request, "portal/map.html", context)


@cached_page
def country(request, iso: str):
    pr = portal_release("victims")
    iso = iso.upper()
    if pr is None:
        if numeric_iso(iso) is None:
            return _no_release(request, "portal/country.html")
        # Published government-response figures need no case release to be shown.
        return render(request, "portal/country.html", {
            "release": None, "iso": iso, "name": value_label("citizenship", iso, _lang()),
            "government": government_response_profile(iso, _lang()), "routes": _country_routes(iso, _lang()),
            "fees": _country_fees(iso, _lang())})
    if numeric_iso(iso) is None:
        raise Http404("No such country code.")
    lang = _lang()
    sections = []
    for role, dim, others in (("destination", "country_of_exploitation", ("citizenship", "exploitation_types", YEAR)),
                              ("origin", "citizenship", ("country_of_exploitation", "exploitation_types", YEAR))):
        q = Question(filters={dim: iso})
        charts = [chart(pr, q, other, lang, base=f"/countries/{iso}/") for other in others]
        for c in charts:  # in a profile, a value's link opens the explorer with both filters
            for r in c["rows"]:
                r["href"] = "/explore/" + q.query_string(**({"year_from": r["value"], "year_to": r["value"]}
                                                            if c["dim"] == YEAR else {c["dim"]: r["value"]}))
        total = _total(pr, q)
        sections.append({"role": role, "dim": dim, "charts": charts, "total": total,
                         "explore": "/explore/" + q.query_string()})
    return render(request, "portal/country.html", {
        "pr": pr, "release": pr.release, "iso": iso, "name": value_label("citizenship", iso, lang),
        "sections": sections, "threshold": pr.index.threshold, "fewer": suppressed_text(pr.index.threshold),
        "query": "?", "government": government_response_profile(iso, lang), "routes": _country_routes(iso, lang),
        "fees": _country_fees(iso, lang)})


def _country_fees(iso: str, lang: str) -> dict | None:
    from ctdc.web.portal.fees import country_fees

    return country_fees(iso, lang)


def _country_routes(iso: str, lang: str) -> dict | None:
    from ctdc.web.portal.routes import country_routes

    return country_routes(iso, lang)


def chart_download(request, dim: str, fmt_: str):
    """A chart's rows as CSV or JSON: exactly what the page shows, with the release version and citation."""
    if dim not in DIMENSIONS or fmt_ not in ("csv", "json"):
        raise Http404("No such chart.")
    pr = portal_release("victims")
    if pr is None:
        raise Http404("No published release.")
    lang = _lang()
    q = parse_question(request.GET, pr)
    c = chart(pr, q, dim, lang)
    if c["unpublished"]:  # an empty file would read as "no victims"; the release says nothing about the field
        return HttpResponse(_("This release does not publish %(field)s.") % {"field": c["title"]}, status=404,
                            content_type="text/plain; charset=utf-8")
    if c["error"]:
        return HttpResponse(c["error"], status=400, content_type="text/plain; charset=utf-8")
    payload = chart_payload(pr, c, q, lang)
    name = f"ctdc-{pr.release.dataset}-{pr.release.version}-{dim}"
    if fmt_ == "json":
        response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 1})
    else:
        out = io.StringIO()
        out.write(f"# {payload['citation']}\n")
        filters = ", ".join(f"{k}={v}" for k, v in payload["filters"].items()) or _("none")
        years = f"{payload['year_from'] or ''}-{payload['year_to'] or ''}" if (payload["year_from"] or
                                                                               payload["year_to"]) else _("all")
        out.write(f"# release {payload['version']}; filters: {filters}; registration years: {years}; an empty "
                  f"count means {payload['suppressed_means']}\n")
        w = csv.writer(out, lineterminator="\n")
        w.writerow([dim, "label", "count"])
        for r in payload["rows"]:  # labels are text a spreadsheet must not run (ctdc.formulas)
            w.writerow([defuse(r["value"]), defuse(r["label"]), "" if r["count"] is None else r["count"]])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt_}"'
    return response


def flows_download(request, fmt_: str):
    """The flows' corridors as CSV or JSON: exactly the rows the map page lists, with the release and citation."""
    if fmt_ not in ("csv", "json"):
        raise Http404("No such format.")
    pr = portal_release("victims")
    if pr is None:
        raise Http404("No published release.")
    lang = _lang()
    q = parse_question(request.GET, pr)
    f = flows(pr, q, lang)
    if f["error"]:
        return HttpResponse(f["error"], status=400, content_type="text/plain; charset=utf-8")
    filters = {d: v for d, v in q.filters.items() if d not in COUNTRY_DIMS}
    payload = {
        "dataset": pr.release.dataset, "version": pr.release.version, "method": pr.release.method,
        "citation": pr.citation, "chart": "flows", "filters": filters, "year_from": q.year_from, "year_to": q.year_to,
        "threshold": f.get("threshold"), "suppressed_means": suppressed_text(f.get("threshold") or 0),
        "not_listed": _("corridors with fewer cases than the threshold, or beyond the 25 largest"),
        "rows": [{"citizenship": r["from"], "citizenship_label": r["from_label"],
                  "country_of_exploitation": r["to"], "country_of_exploitation_label": r["to_label"],
                  "count": r["count"]} for r in f["rows"]],
    }
    name = f"ctdc-{pr.release.dataset}-{pr.release.version}-flows"
    if fmt_ == "json":
        response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 1})
    else:
        out = io.StringIO()
        out.write(f"# {payload['citation']}\n")
        shown = ", ".join(f"{k}={v}" for k, v in filters.items()) or _("none")
        years = f"{q.year_from or ''}-{q.year_to or ''}" if (q.year_from or q.year_to) else _("all")
        out.write(f"# release {payload['version']}; filters: {shown}; registration years: {years}; not listed: "
                  f"{payload['not_listed']}\n")
        w = csv.writer(out, lineterminator="\n")
        w.writerow(list(payload["rows"][0]) if payload["rows"] else
                   ["citizenship", "citizenship_label", "country_of_exploitation", "country_of_exploitation_label",
                    "count"])
        for r in payload["rows"]:
            w.writerow(r.values())
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt_}"'
    return response


def language(request, code: str):
    """Switch the interface language (a cookie, nothing stored on the server) and go back where the reader was."""
    from django.conf import settings
    from django.http import HttpResponseRedirect
    from django.utils.http import url_has_allowed_host_and_scheme

    if code not in dict(settings.LANGUAGES):
        raise Http404("No such language.")
    next_url = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return _with_language(HttpResponseRedirect(next_url), code)


def language_prefix(request, code: str, rest: str):
    """`/fr/explore/?…`: a link that opens any page in a language (what people paste in e-mails and reports). The
    language goes into the same cookie as the switcher's, and the reader lands on the page without the prefix:
    pages keep one address whatever the language."""
    from django.http import HttpResponseRedirect

    # "/fr//elsewhere.example" must not become a protocol-relative redirect to another site.
    target = "/" + rest.lstrip("/\\")
    if request.META.get("QUERY_STRING"):
        target += "?" + request.META["QUERY_STRING"]
    return _with_language(HttpResponseRedirect(target), code)


def _with_language(response, code: str):
    """`response` setting the interface language (the cookie Django's locale middleware reads)."""
    from django.conf import settings

    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE,
                        samesite=settings.LANGUAGE_COOKIE_SAMESITE, httponly=True)
    return response


@cached_page
def method(request):
    """One page on how the portal's numbers are protected (linked from every "fewer than" note)."""
    pr = portal_release("victims")
    return render(request, "portal/method.html", {
        "pr": pr, "release": pr.release if pr else None, "threshold": pr.index.threshold if pr else None,
        "length": pr.index.length if pr else None, "query": "?"})


# --- steward: usage and "used in" -----------------------------------------------------------------------------
def usage(request):
    """Usage per day (charts and tables) and the publications citing each release; stewards only."""
    from ctdc.web.portal.models import ReleaseUse
    from ctdc.web.portal.services import release_use_add
    from ctdc.web.portal.usage_selectors import usage_summary
    from ctdc.web.releases.models import Release

    error = ""
    if request.method == "POST":
        p = request.POST
        try:
            release_use_add(release=p.get("release", ""), title=p.get("title", ""), authors=p.get("authors", ""),
                            link=p.get("link", ""), date=p.get("date", ""))
        except CtdcError as exc:
            error = exc.message
        else:
            from django.shortcuts import redirect

            return redirect("steward-usage")
    days = int(request.GET.get("days", "30")) if request.GET.get("days", "30").isdigit() else 30
    summary = usage_summary(days=min(days, 366))
    return render(request, "portal/usage.html", {
        **summary, "days": days, "error": error, "uses": ReleaseUse.objects.all()[:200],
        "releases": Release.objects.filter(status=Release.Status.PUBLISHED).order_by("-created_at"),
        "form": request.POST if error else {}, "query": "?"})


def usage_csv(request):
    from ctdc.web.portal.models import UsageCount

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["day", "kind", "name", "count"])
    for row in UsageCount.objects.order_by("day", "kind", "name").values_list("day", "kind", "name", "count"):
        w.writerow([row[0].isoformat(), *map(defuse, row[1:])])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ctdc-usage.csv"'
    return response


def perpetrators(request):
    """Perpetrators: roles, relation to the victim and profile by region, from the latest published release
    (`portal.perpetrators`)."""
    from django.utils.translation import gettext as _

    from ctdc.web.portal.perpetrators import perpetrator_profile

    profile = perpetrator_profile(_lang())
    tables = []
    if profile:
        tables = [(_("Roles in the trafficking process"), "perpetrators-roles", profile["roles"]),
                  (_("Relation to the victim"), "perpetrators-relations", profile["relations"]),
                  (_("Gender"), "perpetrators-gender", profile["gender"]),
                  (_("Age band"), "perpetrators-ages", profile["ages"]),
                  (_("Region of citizenship"), "perpetrators-citizenship", profile["citizenship"]),
                  (_("The victim paid the perpetrator"), "perpetrators-paid", profile["paid"])]
    return render(request, "portal/perpetrators.html", {"profile": profile, "tables": tables,
                                                        "release": profile["release"] if profile else None})


def fees(request):
    """Recruitment fees: corridors compared by the quartiles of what their victims paid, in one currency and year,
    filterable by sector (`portal.fees`)."""
    from ctdc.web.portal.fees import fee_comparison

    data = fee_comparison(_lang(), sector=request.GET.get("sector", ""))
    return render(request, "portal/fees.html", {"fees": data, "release": data["release"] if data else None})


def routes(request):
    """Route map: corridors origin -> transit -> destination as arcs weighted by protected counts, and the table
    of the top corridors, filterable by exploitation type and period (`portal.routes`)."""
    from ctdc.web.portal.routes import route_map

    data = route_map(_lang(), exploitation_type=request.GET.get("type", ""), period=request.GET.get("period", ""))
    return render(request, "portal/routes.html", {"map": data, "release": data["release"] if data else None})
