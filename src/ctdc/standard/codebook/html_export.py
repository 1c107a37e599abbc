"""The printable HTML codebook: one self-contained page with a table of contents, every dataset type and field,
value labels, disclosure roles, hierarchies and source fields, the code lists in English, French and Spanish,
and the HTCDS 2.0 fields deliberately not kept. No scripts, no external resources; prints cleanly (A4).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from ctdc.standard.codebook.dictionary import INLINE_CODES_MAX, attribution_lines
from ctdc.standard.crosswalk import load_field_crosswalk
from ctdc.standard.model import LANGUAGES, ROLE_DESCRIPTIONS, ROLE_LABELS, Field, Standard, role_description

UI = {
    "en": {"title": "ctdc data standard: codebook", "contents": "Contents", "roles": "Disclosure roles",
           "codelists": "Code lists", "not_kept": "HTCDS 2.0 fields not kept", "field": "Field", "type": "Type",
           "required": "Required", "role": "Disclosure role", "description": "Description and values",
           "hierarchy": "Generalization", "sources": "Source fields", "unit": "unit", "yes": "yes",
           "privacy_unit": "Privacy unit", "code": "Code", "reason": "Reason", "about": "Sources and licence",
           "version": "Version", "since": "since"},
    "fr": {"title": "Norme de données ctdc : livre de codes", "contents": "Sommaire", "roles": "Rôles de divulgation",
           "codelists": "Listes de codes", "not_kept": "Champs HTCDS 2.0 non retenus", "field": "Champ", "type": "Type",
           "required": "Obligatoire", "role": "Rôle de divulgation", "description": "Description et valeurs",
           "hierarchy": "Généralisation", "sources": "Champs sources", "unit": "unité", "yes": "oui",
           "privacy_unit": "Unité de confidentialité", "code": "Code", "reason": "Motif",
           "about": "Sources et licence", "version": "Version", "since": "depuis"},
    "es": {"title": "Norma de datos ctdc: libro de códigos", "contents": "Índice", "roles": "Funciones de divulgación",
           "codelists": "Listas de códigos", "not_kept": "Campos de HTCDS 2.0 no conservados", "field": "Campo",
           "type": "Tipo", "required": "Obligatorio", "role": "Función de divulgación",
           "description": "Descripción y valores", "hierarchy": "Generalización", "sources": "Campos de origen",
           "unit": "unidad", "yes": "sí", "privacy_unit": "Unidad de privacidad", "code": "Código", "reason": "Motivo",
           "about": "Fuentes y licencia", "version": "Versión", "since": "desde"},
}  # fmt: skip
LANG_NAMES = {"en": "English", "fr": "Français", "es": "Español"}

CSS = """
body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:1.5rem;color:#1b1b1b}
h1{font-size:1.7rem}h2{border-bottom:2px solid #234;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.6rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{border:1px solid #bbb;padding:.3rem .45rem;
vertical-align:top;text-align:left;overflow-wrap:break-word}th{background:#eef1f4}code{font-size:.92em}.role{display:inline-block;
padding:.05rem .4rem;border-radius:.6rem;font-size:.85em;white-space:nowrap}
.direct_identifier{background:#fbd5d5}.quasi_identifier{background:#fde9c4}.sensitive{background:#dcd5fb}
.non_identifying{background:#d8f0dc}ul.values{margin:.3rem 0 0;padding-left:1.1rem}nav ol{columns:2}
.muted{color:#555}table.fields{table-layout:fixed}.fields col.c1{width:16%}.fields col.c2{width:9%}
.fields col.c3{width:8%}.fields col.c4{width:11%}.fields col.c5{width:29%}.fields col.c6{width:11%}.fields col.c7{width:16%}
@media print{body{max-width:none;padding:0;font-size:9pt}nav ol{columns:1}h2.ds,h2#codelists{break-before:page}
table{table-layout:fixed}td{overflow-wrap:anywhere}th{hyphens:auto}
tr,li{break-inside:avoid}.role{white-space:normal}a{color:inherit;text-decoration:none}@page{margin:15mm}}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def field_anchor(dataset: str, field: str) -> str:
    return f"f-{dataset}-{field}"


def _role(role: str, lang: str) -> str:
    return f'<span class="role {role}">{_e(ROLE_LABELS[role][lang])}</span>'


def _field_row(ds: str, f: Field, lang: str, t: dict[str, str]) -> str:
    name = f'<a id="{field_anchor(ds, f.name)}"></a><code>{_e(f.name)}</code><br>{_e(f.label_in(lang))}'
    typ = _e(f.type) + (f"<br><span class='muted'>{t['unit']}: {_e(f.unit)}</span>" if f.unit else "")
    if f.min is not None or f.max is not None:
        typ += f"<br><span class='muted'>{_e('' if f.min is None else f.min)}..{_e('' if f.max is None else f.max)}</span>"
    desc = _e(f.description_in(lang))
    if f.codelist is not None:
        if len(f.codelist) > INLINE_CODES_MAX:
            desc += (
                f'<br><a href="#cl-{_e(f.codelist.name)}">{_e(f.codelist.label_in(lang))}</a>'
                f" ({len(f.codelist)} {_e(t['code'].lower())}s)"
            )
        else:
            items = "".join(
                f"<li><code>{_e(e.code)}</code> {_e(e.label_in(lang))}</li>" for e in f.codelist.entries
            )
            desc += f'<ul class="values">{items}</ul>'
    if f.since != "0.1.0":
        desc += f"<br><span class='muted'>{t['since']} {_e(f.since)}</span>"
    sources = "<br>".join(
        f"<span class='muted'>{_e(k)}:</span> {_e(', '.join(v))}" for k, v in sorted(f.sources.items())
    )
    return (
        f"<tr><td>{name}</td><td>{typ}</td><td>{t['yes'] if f.required else ''}</td>"
        f"<td>{_role(f.role, lang)}</td><td>{desc}</td><td>{_e(' > '.join(f.hierarchy))}</td><td>{sources}</td></tr>"
    )


def render_html(standard: Standard, lang: str = "en") -> str:
    """The codebook page as one HTML string."""
    t = UI[lang]
    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(t['title'])} {_e(standard.version)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(t['title'])}</h1><p>{t['version']} <strong>{_e(standard.version)}</strong> · "
        + " · ".join(LANG_NAMES[lang_] for lang_ in LANGUAGES)
        + "</p>",
        f"<nav><h2 style='break-before:auto'>{t['contents']}</h2><ol>",
        f'<li><a href="#roles">{t["roles"]}</a></li>',
    ]
    for ds in standard.datasets.values():
        out.append(f'<li><a href="#ds-{ds.name}">{_e(ds.label_in(lang))}</a> <code>{ds.name}</code></li>')
    out += [
        f'<li><a href="#codelists">{t["codelists"]}</a></li>',
        f'<li><a href="#not-kept">{t["not_kept"]}</a></li>',
        f'<li><a href="#about">{t["about"]}</a></li></ol></nav>',
        f'<h2 id="roles">{t["roles"]}</h2><table><tbody>',
    ]
    for role in ROLE_DESCRIPTIONS:
        text = role_description(role, lang)
        out.append(f"<tr><td>{_role(role, lang)}</td><td><code>{role}</code></td><td>{_e(text)}</td></tr>")
    out.append("</tbody></table>")
    for ds in standard.datasets.values():
        out.append(
            f'<h2 class="ds" id="ds-{ds.name}">{_e(ds.label_in(lang))} <code>{ds.name}</code></h2><p>{_e(ds.description_in(lang))}</p>'
            f"<p><strong>{t['privacy_unit']}:</strong> {_e(ds.privacy_unit)}</p>"
            '<table class="fields"><colgroup>'
            + "".join(f'<col class="c{i}">' for i in range(1, 8))
            + "</colgroup>"
            f"<thead><tr><th>{t['field']}</th><th>{t['type']}</th><th>{t['required']}</th><th>{t['role']}</th>"
            f"<th>{t['description']}</th><th>{t['hierarchy']}</th><th>{t['sources']}</th></tr></thead><tbody>"
        )
        out += [_field_row(ds.name, f, lang, t) for f in ds.fields]
        out.append("</tbody></table>")
    out.append(f'<h2 id="codelists">{t["codelists"]}</h2>')
    for cl in standard.used_codelists():
        out.append(
            f'<h3 id="cl-{_e(cl.name)}">{_e(cl.label_in(lang))} <code>{_e(cl.name)}</code></h3>'
            f"<table><thead><tr><th>{t['code']}</th>"
            + "".join(f"<th>{LANG_NAMES[lang_]}</th>" for lang_ in LANGUAGES)
            + "</tr></thead><tbody>"
        )
        for e in cl.entries:
            cells = "".join(f"<td>{_e(e.label_in(lang_))}</td>" for lang_ in LANGUAGES)
            out.append(f"<tr><td><code>{_e(e.code)}</code></td>{cells}</tr>")
        out.append("</tbody></table>")
    cw = load_field_crosswalk("htcds-2.0")
    out.append(
        f'<h2 id="not-kept">{t["not_kept"]}</h2><table><thead><tr><th>HTCDS 2.0</th><th>{t["reason"]}</th></tr>'
        "</thead><tbody>"
    )
    out += [f"<tr><td><code>{_e(n.source)}</code></td><td>{_e(n.reason)}</td></tr>" for n in cw.not_kept]
    out.append("</tbody></table>")
    out.append(f'<h2 id="about">{t["about"]}</h2>')
    out += [f"<p>{_e(line)}</p>" for line in attribution_lines()]
    out.append("</body></html>")
    return "\n".join(out)


def write_html(standard: Standard, path: Path, *, lang: str = "en") -> None:
    Path(path).write_text(render_html(standard, lang), encoding="utf-8")
