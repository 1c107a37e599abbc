"""Codebook pages. Each view parses the request, calls one or two selectors, renders. No business logic here."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from ctdc.errors import CodebookError
from ctdc.standard.codebook import EXPORT_FORMATS, TEMPLATE_FORMATS, export, template
from ctdc.standard.codebook.html_export import UI
from ctdc.web.codebook import selectors

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "datapackage": "application/zip",
}
MORE_UI = {
    "en": {"search": "Search the codebook", "go": "Search", "results": "Results for", "none": "No field matches.",
           "datasets": "Dataset types", "downloads": "Downloads", "templates": "Contributor templates",
           "labels": "Labels", "values": "Values", "matched": "matched in", "back": "Codebook",
           "fields": "fields", "all_codes": "All codes"},
    "fr": {"search": "Rechercher dans le livre de codes", "go": "Rechercher", "results": "Résultats pour",
           "none": "Aucun champ ne correspond.", "datasets": "Types de jeux de données", "downloads": "Téléchargements",
           "templates": "Modèles pour les contributeurs", "labels": "Libellés", "values": "Valeurs",
           "matched": "trouvé dans", "back": "Livre de codes", "fields": "champs", "all_codes": "Tous les codes"},
    "es": {"search": "Buscar en el libro de códigos", "go": "Buscar", "results": "Resultados para",
           "none": "Ningún campo coincide.", "datasets": "Tipos de conjuntos de datos", "downloads": "Descargas",
           "templates": "Plantillas para contribuyentes", "labels": "Etiquetas", "values": "Valores",
           "matched": "encontrado en", "back": "Libro de códigos", "fields": "campos", "all_codes": "Todos los códigos"},
}  # fmt: skip


def _switch(request: HttpRequest, lang: str) -> str:
    """This page's URL in another language (the query string kept, `lang` replaced)."""
    params = request.GET.copy()
    params["lang"] = lang
    return f"{request.path}?{params.urlencode()}"


def _context(request: HttpRequest, **extra) -> dict:
    # ?lang= wins; without it, the portal's language (its cookie, else the browser's), so the site reads in one language.
    lang = selectors.codebook_lang_get(request.GET.get("lang") or (get_language() or "en")[:2])
    return {
        "lang": lang,
        "t": {**UI[lang], **MORE_UI[lang]},
        "languages": [
            {"code": c, "name": n, "current": c == lang, "url": _switch(request, c)}
            for c, n in selectors.LANG_NAMES.items()
        ],
        "version": selectors.codebook_version(),
        **extra,
    }


@require_GET
def codebook_index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    ctx = _context(
        request,
        query=query,
        results=selectors.codebook_search(query) if query else None,
        datasets=selectors.codebook_dataset_list(),
        export_formats=EXPORT_FORMATS,
        template_formats=TEMPLATE_FORMATS,
    )
    ctx["roles"] = selectors.codebook_roles_list(ctx["lang"])
    ctx["attribution"] = selectors.codebook_attribution()
    ctx["not_kept"] = selectors.codebook_htcds_not_kept()
    return render(request, "codebook/index.html", ctx)


@require_GET
def codebook_dataset(request: HttpRequest, dataset: str) -> HttpResponse:
    try:
        ds = selectors.codebook_dataset_get(dataset)
    except CodebookError as exc:
        raise Http404(exc.message) from None
    ctx = _context(request, dataset=ds)
    ctx["roles"] = {r["code"]: r["label"] for r in selectors.codebook_roles_list(ctx["lang"])}
    return render(request, "codebook/dataset.html", ctx)


@require_GET
def codebook_field(request: HttpRequest, dataset: str, field: str) -> HttpResponse:
    ctx = _context(request)
    try:
        ctx["page"] = selectors.codebook_field_get(dataset, field, ctx["lang"])
    except CodebookError as exc:
        raise Http404(exc.message) from None
    return render(request, "codebook/field.html", ctx)


@require_GET
def codebook_codelist(request: HttpRequest, name: str) -> HttpResponse:
    try:
        cl = selectors.codebook_codelist_get(name)
    except CodebookError as exc:
        raise Http404(exc.message) from None
    return render(request, "codebook/codelist.html", _context(request, codelist=cl))


@require_GET
def codebook_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The codebook in one export format, as an attachment (the data package as a zip)."""
    if fmt not in EXPORT_FORMATS:
        raise Http404(f"Unknown codebook format {fmt!r}.")
    lang = selectors.codebook_lang_get(request.GET.get("lang"))
    version = selectors.codebook_version()
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "datapackage":
            folder = Path(tmp) / "datapackage"
            export(fmt, folder)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
                for p in sorted(folder.iterdir()):
                    zf.write(p, p.name)
            content, name = buffer.getvalue(), f"ctdc-standard-{version}-datapackage.zip"
        else:
            path = export(fmt, Path(tmp) / f"codebook.{fmt}", lang=lang)
            content, name = path.read_bytes(), f"ctdc-codebook-{version}.{fmt}"
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt]
    )


@require_GET
def codebook_template_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """A contributor template: xlsx (all dataset types, or ?dataset=...) or xlsform (?dataset=, default victims)."""
    if fmt not in TEMPLATE_FORMATS:
        raise Http404(f"Unknown template format {fmt!r}.")
    lang = selectors.codebook_lang_get(request.GET.get("lang"))
    datasets = tuple(request.GET.getlist("dataset")) or (("victims",) if fmt == "xlsform" else ())
    version = selectors.codebook_version()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = template(fmt, Path(tmp) / "template.xlsx", datasets=datasets, lang=lang)
        except CodebookError as exc:
            raise Http404(exc.message) from None
        content = path.read_bytes()
    suffix = "template" if fmt == "xlsx" else f"{datasets[0]}-xlsform"
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"ctdc-{version}-{suffix}.xlsx",
        content_type=CONTENT_TYPES["xlsx"],
    )
