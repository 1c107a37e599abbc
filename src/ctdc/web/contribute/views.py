"""Public pages: read only the standard and the settings, never any case data."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from ctdc.standard import load_standard
from ctdc.standard.codebook import EXPORT_FORMATS

FORMAT_TITLES = {"html": "Codebook (HTML, printable)", "csv": "Codebook (CSV)", "xlsx": "Codebook (Excel)",
                 "json": "Codebook (JSON)", "datapackage": "The standard as a Frictionless Data Package (zip)"}


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


def contribute(request):
    return render(request, "contribute/index.html", _context())


def agreement(request):
    return render(request, "contribute/agreement.html", _context())
