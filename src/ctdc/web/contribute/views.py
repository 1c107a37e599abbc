"""Public pages: read only the standard and the settings, never any case data."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ctdc.standard import load_standard
from ctdc.standard.codebook import EXPORT_FORMATS

FORMAT_TITLES = {"html": _("Codebook (HTML, printable)"), "csv": _("Codebook (CSV)"), "xlsx": _("Codebook (Excel)"),
                 "json": _("Codebook (JSON)"), "datapackage": _("The standard as a Frictionless Data Package (zip)")}


def _context() -> dict:
    standard = load_standard()
    victims = standard.dataset("victims")
    by_role: dict[str, list] = {}
    for field in victims.fields:
        by_role.setdefault(field.role, []).append(field)
    return {
        "version": standard.version,
        "required": [f for f in victims.fields if f.required],
        "identifiers": by_role.get("direct_identifier", []),
        "quasi_identifiers": by_role.get("quasi_identifier", []),
        "sensitive": by_role.get("sensitive", []),
        "codebook_downloads": [(fmt, FORMAT_TITLES.get(fmt, fmt)) for fmt in EXPORT_FORMATS],
        "k": settings.CTDC_SUPPRESSION_K,
        "retention_days": settings.CTDC_RAW_RETENTION_DAYS,
        "contact": settings.CTDC_CONTACT_EMAIL,
    }


def _labels(fields, lang: str) -> str:
    """Field labels in the reader's language, lower case, comma-separated (the page's lists of fields)."""
    return ", ".join(f.label_in(lang).lower() for f in fields)


def contribute(request):
    lang = (get_language() or "en")[:2]
    context = _context()
    context.update({name + "_list": _labels(context[name], lang)
                    for name in ("required", "identifiers", "quasi_identifiers", "sensitive")})
    context["codebook_downloads"] = [(fmt, FORMAT_TITLES.get(fmt, fmt)) for fmt in EXPORT_FORMATS]
    return render(request, "contribute/index.html", context)


def agreement(request):
    return render(request, "contribute/agreement.html", _context())
