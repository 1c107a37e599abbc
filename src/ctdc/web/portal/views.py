"""Public portal pages. They read the latest published release only."""

from __future__ import annotations

from django.shortcuts import render

from ctdc.ingest.countries import country_name
from ctdc.standard import load_standard
from ctdc.web.portal.charts import bar_chart
from ctdc.web.releases.selectors import release_latest


def _label(codelist: str, code: str) -> str:
    cl = load_standard().codelist(codelist)
    return cl.label_of(code) if code in cl else code


def home(request):
    release = release_latest(dataset="victims")
    context = {"release": release}
    if release is not None:
        s = release.summary
        context["by_type"] = bar_chart([(_label("exploitation_type", d["value"]), d["count"]) for d in s["by_exploitation_type"]])
        context["by_citizenship"] = bar_chart([(country_name(d["value"]), d["count"]) for d in s["top_citizenships"]])
    return render(request, "portal/home.html", context)
