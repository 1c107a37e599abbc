"""A release's report as a person reads it: plain words, labelled tables, numbers in the reader's language.

`report.json` is written for programs (nested dicts, floats, column lists). The release page (`/data/<dataset>/
<version>/`) is for people who cite a figure, journalists first (issue 15, item 10): nothing here may reach the page
as JSON or a Python repr. Every value is turned into text or a table by `readable_value`; every key gets a label
(a known one from `LABELS`, else the key in words); every check gets an explanation and a verdict worded for a
published release (an advisory check that is not met is explained, never shown as a red "failed").

The texts that say which release to use for what (`METHOD_GUIDE`) are shared by `/data/` and the release pages.
"""

from __future__ import annotations

from typing import Any

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ctdc.standard import load_standard

# What each privacy method gives a reader, its best use and its limits (plain words, no jargon beyond "k").
METHOD_GUIDE = {
    "k-anonymity": {
        "name": _("k-anonymized records"),
        "what": _("Real case records with details generalised or removed, so that every combination of the "
                   "identifying fields (year, gender, age, citizenship, country of exploitation) is shared by at "
                   "least k victims."),
        "use": _("Counting and cross-tabulating the fields kept, when you need rows that come from real cases."),
        "limits": _("Rare values are replaced by “*”, so small groups are undercounted or missing, and some fields "
                     "are coarser than in other releases (an age band may become adult or minor). Never try to link "
                     "a row to a person."),
    },
    "k-synthetic": {
        "name": _("k-synthetic rows"),
        "what": _("Synthetic rows, made to reproduce the release's protected counts of every combination of a few "
                   "values that at least k victims share. No row is a real person's record."),
        "use": _("Tables and charts of two or three fields at a time; the protected counts themselves are in the "
                  "file aggregates.csv."),
        "limits": _("Combinations of more values than the release publishes, and combinations held by fewer than k "
                     "victims, are not reproduced: analyses across many fields at once can mislead."),
    },
    "dp-synthetic": {
        "name": _("differentially private synthetic rows"),
        "what": _("Synthetic rows drawn from a statistical model fitted with differential privacy, a mathematical "
                   "guarantee that limits what anyone can learn about one victim. No row is a real person's "
                   "record."),
        "use": _("Your own analyses of the rows: cross-tables, models, exploratory work."),
        "limits": _("Every number carries random noise: small counts are unreliable, and patterns among more than "
                     "a few fields may be weakened. Report large groups, not exact small numbers."),
    },
    # Government response (issue 17): figures others already published, about no person (ctdc.release.published).
    "as-published": {
        "name": _("figures released as published"),
        "what": _("Country and year figures that governments and international bodies have already published (for "
                   "example victims detected, prosecutions and convictions in UNODC's country data), gathered in one "
                   "table as they were published, with their source. They describe no person, so no protection is "
                   "added and nothing is rounded; a figure published as a range (“<5”) stays a range."),
        "use": _("The authorities' response next to the case data: comparing countries and years, and citing a "
                  "figure together with its original source. Country profiles show them."),
        "limits": _("They are the publishers' figures, not counts of the case data: definitions and coverage differ "
                     "between countries and years, and a year without a figure means nothing was published, not "
                     "zero. Cite the original source as well as the release."),
    },
}

CHECK_TEXT = {
    "quasi-identifier-k": _("Every combination of identifying fields (year, gender, age, citizenship, country) in "
                             "the rows is shared by at least k victims, so no row stands out."),
    "rare-combinations": _("No combination of a few values describes between one and k − 1 victims."),
    "unique-record-copies": _("No published row is a copy of a real record that is unique among the cases."),
}
CHECK_TITLES = {
    "quasi-identifier-k": _("Identifying fields shared by at least k victims"),
    "rare-combinations": _("No rare combination of values"),
    "unique-record-copies": _("No copy of a unique real record"),
}
INPUT_DETAIL = "Counted on the input: the counts are in the steward report."

SECTIONS = {
    "guarantee": (_("How the rows are protected"), ""),
    "output": (_("What the rows contain"), ""),
    "risk_output": (_("Re-identification risk in the published rows"),
                    _("Measured on the published rows alone: how many rows share their identifying fields with "
                       "fewer than k rows.")),
    "risk_synthetic": (_("Uniqueness among the synthetic rows"),
                       _("Synthetic rows are not real people: a row that is unique among them is not a real victim. "
                          "These figures describe the rows, for comparison with other releases.")),
    "synthetic_rows_vs_published": (
        _("How closely the rows reproduce the protected counts"),
        _("For combinations of 1, 2 and 3 values (one table row each): how many counts the rows reproduce, miss "
           "or invent, and the typical error.")),
}

LABELS = {
    "method": _("Method"), "privacy_unit": _("Privacy unit"), "k": _("k (smallest group)"),
    "resolution": _("Counts rounded to a multiple of"), "aggregates_protection": _("Protection of the counts"),
    "k_synthetic_check": _("k-synthetic check"), "quasi_identifiers": _("Identifying fields (quasi-identifiers)"),
    "levels": _("Detail kept for each identifying field"), "records_retained": _("Rows kept"),
    "rare_combinations": _("Rare combinations (held by 1 to k − 1 rows), by number of values"), "records": _("Rows"),
    "length": _("Values per published combination, at most (L)"), "seed": _("Random seed"),
    "columns": _("Columns"), "mechanism": _("Mechanism"), "epsilon": _("Privacy loss ε (epsilon)"),
    "delta": _("Failure probability δ (delta)"), "delta_rule": _("How δ was chosen"),
    "domain_public": _("Value lists from the standard, not from the data"), "domain": _("Value lists"),
    "aggregates": _("Published counts"), "n_records": _("Rows"), "k_threshold": _("k required"),
    "n_classes": _("Groups of rows with identical identifying fields"),
    "records_at_risk": _("Rows in a group smaller than k"), "share_at_risk": _("Share of rows in a group smaller "
                                                                                 "than k"),
    "sample_uniques": _("Rows unique on their identifying fields"), "share_unique": _("Share of unique rows"),
    "class_sizes": _("Group sizes"), "sizes": _("Group size"), "classes": _("Groups"),
    "record_risk": _("Re-identification risk per row"),
    "expected_reidentifications": _("Expected re-identifications, if someone knew every identifying field"),
    "original_combinations": _("Protected counts"), "output_combinations": _("Combinations in the rows"),
    "preserved": _("Reproduced"), "suppressed": _("Missing"), "fabricated": _("Invented"),
    "fabricated_share": _("Share invented"), "error_by_bucket": _("Error by size of the count"),
    "bucket": _("Count"), "combinations": _("Combinations"), "mean_absolute_error": _("Mean absolute error"),
    "mean_relative_error": _("Mean relative error"), "mean": _("mean"), "p50": _("median"),
    "p90": _("90th percentile"), "p99": _("99th percentile"), "max": _("maximum"),
    "rows in the release": _("Rows in the release"), "l_diversity": _("l-diversity"), "l_diverse_share": _("Share l-diverse"), "rounds": _("Rounds"),
}
HIDDEN_KEYS = {"extra"}  # always empty placeholders of the risk report
# Internals a statistician may check but a reader needs not: folded under "Technical details" on the page.
TECHNICAL = {"one_way_measurement", "rounds", "model", "domain", "record_count", "compressed_sizes", "cliques",
             "epsilon_spent", "seed"}
FIELD_LISTS = {"quasi_identifiers", "columns"}  # lists of field names: shown with the codebook's labels
FIELD_KEYS = {"levels", "domain", "one_way_measurement", "compressed_sizes", "rho_per_column"}  # dicts keyed by field name


def label(key: Any) -> str:
    key = str(key)
    return str(LABELS[key]) if key in LABELS else key.replace("__", ": ").replace("_", " ").capitalize()


def field_label(name: str) -> str:
    """A released column's name in the reader's language (a flag column `field__code` as "Field: value")."""
    lang = (get_language() or "en")[:2]
    lang = lang if lang in ("en", "fr", "es") else "en"
    ds = load_standard().dataset("victims")
    base, _sep, code = name.partition("__")
    if base not in ds:
        return label(name)
    f = ds.field(base)
    text = f.label_in(lang)
    if code:
        cl = f.codelist
        text += ": " + (cl.label_of(code, lang) if cl is not None and code in cl else code.replace("_", " "))
    return text


def fmt_number(value: float | int, *, percent: bool = False) -> str:
    """A number in the reader's language: 19,855 / 19 855 / 19.855; shares as percentages."""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if percent:
        return number_format(round(value * 100, 1), decimal_pos=1, force_grouping=True) + " %"
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return number_format(int(value), force_grouping=True)
    if abs(value) >= 10:
        return number_format(round(value, 1), decimal_pos=1, force_grouping=True)
    if abs(value) >= 1e-3:
        return number_format(round(value, 3), decimal_pos=3, force_grouping=True).rstrip("0").rstrip(",.")
    return f"{value:.2e}".replace("e-0", " × 10^-").replace("e-", " × 10^-")


def _values(n: str) -> str:
    """"3 values": a combination's length, as the risk report keys its counts."""
    return ngettext("%(n)s value", "%(n)s values", int(n)) % {"n": n} if str(n).isdigit() else label(n)


def _is_percent(key: str) -> bool:
    """Shares and probabilities (0..1) read as percentages."""
    return "share" in key or "relative" in key or key in ("preserved", "suppressed", "record_risk")


def _scalar(value: Any, key: str = "", percent: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float):
        return fmt_number(value, percent=(percent or _is_percent(key)) and isinstance(value, float))
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(field_label(str(v)) if key in FIELD_LISTS else _scalar(v) for v in value)
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        name = field_label if key in FIELD_KEYS else _values if key == "rare_combinations" else label
        return "; ".join(f"{name(str(k))}: {_scalar(v, str(k), percent or _is_percent(key))}"
                         for k, v in value.items())
    if isinstance(value, list | dict):  # deeper: a line per item, never JSON
        items = value.items() if isinstance(value, dict) else enumerate(value, 1)
        name = field_label if key in FIELD_KEYS else label
        return " · ".join(f"{name(str(k))}: {_scalar(v, str(k))}" for k, v in items)
    return str(value)


def _table(rows: list[dict], first: tuple[str, list] | None = None) -> dict:
    """A table of dicts (one per row); `first` adds a leading column (its header and values)."""
    cols: list[str] = []
    for r in rows:
        cols.extend(c for c in r if c not in cols)
    head = ([first[0]] if first else []) + [label(c) for c in cols]
    body = []
    for i, r in enumerate(rows):
        cells = [_scalar(r.get(c), c) for c in cols]
        body.append(([first[1][i]] if first else []) + cells)
    return {"head": head, "rows": body}


def _level(name: str, level: Any) -> str:
    """How much of an identifying field a k-anonymity release kept: as collected, replaced by a coarser field, or
    removed."""
    if level == "suppressed":
        return gettext("removed")
    if level == name:
        return gettext("as collected")
    return gettext("replaced by %(field)s") % {"field": field_label(str(level))}


def readable_value(key: str, value: Any) -> dict:
    """One report value as the page shows it: {"text": ...} or {"table": {head, rows}} or {"list": [...]}."""
    if key == "levels" and isinstance(value, dict):
        return {"table": {"head": [gettext("Field"), label(key)],
                          "rows": [[field_label(str(k)), _level(str(k), v)] for k, v in value.items()]}}
    if isinstance(value, dict) and len(value) > 6 and all(not isinstance(v, dict | list) for v in value.values()):
        name = field_label if key in FIELD_KEYS else label
        return {"table": {"head": [gettext("Field") if key in FIELD_KEYS else "", label(key)],
                          "rows": [[name(str(k)), _scalar(v, str(k))] for k, v in value.items()]}}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return {"table": _table(value)}
    if isinstance(value, list) and len(value) > 12:  # long column lists: folded on the page
        names = [field_label(str(v)) if key in FIELD_LISTS else _scalar(v) for v in value]
        return {"list": names, "summary": gettext("%(n)s items") % {"n": fmt_number(len(value))}}
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        name = field_label if key in FIELD_KEYS else label
        return {"table": _table(list(value.values()), (label(key), [name(str(k)) for k in value]))}
    return {"text": _scalar(value, key)}


def readable_section(name: str, data: Any) -> dict:
    """One section of the engine's report: a title, a plain introduction and labelled items."""
    title, intro = SECTIONS.get(name, (label(name), ""))
    if not isinstance(data, dict):
        data = {"value": data}
    if name == "synthetic_rows_vs_published" and all(isinstance(v, dict) for v in data.values()):
        # One row per combination length; the error by bucket is a table of its own under it.
        lengths = list(data)
        flat = [{k: v for k, v in d.items() if k != "error_by_bucket"} for d in data.values()]
        items = [{"label": "", "table": _table(flat, (gettext("Values combined"), lengths))}]
        for length, d in data.items():
            if d.get("error_by_bucket"):
                items.append({"label": gettext("Error by size of the count, combinations of %(n)s") % {"n": _values(length)},
                              "table": _table(d["error_by_bucket"])})
        return {"id": name, "title": str(title), "intro": str(intro), "items": items, "technical": []}
    items: list[dict] = []
    technical: list[dict] = []
    for key, value in data.items():
        if key in HIDDEN_KEYS or value in ({}, [], None, ""):
            continue
        if key == "model" and isinstance(value, dict):  # the fitted model's parts, each technical
            _add(technical, [(k, v) for k, v in value.items()])
        elif key in TECHNICAL or key.startswith(("rho", "sigma")):
            _add(technical, [(key, value)])
        else:
            _add(items, [(key, value)])
    return {"id": name, "title": str(title), "intro": str(intro), "items": items, "technical": technical}


def _add(items: list[dict], pairs: list[tuple[str, Any]]) -> None:
    """Append values to a section's items: a table stands alone, consecutive facts share one list."""
    for key, value in pairs:
        if value in ({}, [], None, ""):
            continue
        item = {"label": label(key), **readable_value(key, value)}
        if "table" in item:
            items.append(item)
        elif items and "facts" in items[-1]:
            items[-1]["facts"].append(item)
        else:
            items.append({"facts": [item]})


def readable_check(check: dict, *, published: bool) -> dict:
    """A disclosure check for people: what it means, and a verdict that never calls a published release failed."""
    passed = bool(check.get("passed"))
    blocking = bool(check.get("blocking"))
    if passed:
        verdict, css = gettext("Passed"), "pass"
    elif not blocking:
        verdict, css = gettext("Advisory: not met. It informs the data stewards and does not decide publication."), \
            "advisory"
    elif published:  # cannot happen (a database constraint), but never shown as a red failure to the public
        verdict, css = gettext("Not met"), "advisory"
    else:
        verdict, css = gettext("Failed: the release cannot be published"), "fail"
    detail = check.get("detail", "")
    if detail == INPUT_DETAIL:
        detail = gettext("Checked on the real case records; the figures describe those records, so only the data "
                   "stewards see them.")
    title = CHECK_TITLES.get(check.get("id")) or check.get("title") or label(check.get("id", ""))
    return {"id": check.get("id", ""), "title": str(title),
            "means": str(CHECK_TEXT.get(check.get("id"), "")), "verdict": verdict, "css": css, "detail": detail,
            "blocking": blocking}


def readable_report(report: dict, *, published: bool) -> dict:
    """The whole report.json as the release page shows it."""
    engine = report.get("engine") or {}
    order = ["guarantee", "output", "synthetic_rows_vs_published", "risk_output", "risk_synthetic"]
    names = [n for n in order if n in engine] + [n for n in engine if n not in order]
    return {
        "checks": [readable_check(c, published=published) for c in report.get("checks", [])],
        "sections": [readable_section(n, engine[n]) for n in names],
        "records": [{"label": label(k), "text": _scalar(v, str(k))}
                    for k, v in (report.get("records") or {}).items()],
    }


def _kind_count(kind: str, n: int) -> str:
    """'2 case-management organisations', '1 hotline': one organisation type (accounts.Organisation.Kind)."""
    if kind == "hotline":
        text = ngettext("%(n)s hotline", "%(n)s hotlines", n)
    elif kind == "case_management":
        text = ngettext("%(n)s case-management organisation", "%(n)s case-management organisations", n)
    else:
        return f"{fmt_number(n)} {kind.replace('_', ' ')}"
    return text % {"n": fmt_number(n)}


def contributors_by_type(by_type: dict[str, int] | None) -> dict | None:
    """The release's statement of its contributing organisations by type, ready for a page; None for a release
    that states none (built before releases stated it). Organisations, never records: see build_release."""
    if by_type is None:
        return None
    kinds = [{"kind": k, "count": fmt_number(n), "label": _kind_count(k, n)}
             for k, n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"total": fmt_number(sum(by_type.values())), "kinds": kinds}
