"""The per-row problems of a validation report in the reader's language.

The pipeline stores each problem with its English message (what report.json and the CSV download carry) and the
context the registry words it from (`ctdc.ingest.problems`): the code, the value shown, the field, the column and
what was expected. The report page words it again here, at render time, in the active language: the message of
its code (`MESSAGES`, one per registry code, with the registry's placeholders), the field's label in the standard's
translation, and what was expected (`expected_for_people`: a fixed phrase of the registry, or a range, a list of
codes, a separator, said in the reader's words; data such as codes and row numbers stay as they are).

In English, and for problems stored before their context was (`expected` null), the stored message is shown.

>>> from django.utils import translation
>>> with translation.override("fr"):
...     expected_for_people("0 to 110 years")
'0 à 110 ans'
"""

from __future__ import annotations

import re

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ctdc.ingest import problems as P
from ctdc.standard import load_standard

# One message per registry code, with the registry's placeholders as %(name)s (tests/web/test_report_words.py
# checks that each says what the registry's English template says, and that French and Spanish exist).
MESSAGES = {
    "unknown-code": gettext_lazy(
        "%(value)s is not a valid value for %(label)s. Expected %(expected)s. Fix the value, or add it to the "
        "mapping's values for column '%(column)s'."),
    "unknown-country": gettext_lazy(
        "%(value)s is not a country we recognise. Expected an ISO 3166 code or a country name in English, French "
        "or Spanish."),
    "bad-date": gettext_lazy("%(value)s is not a valid date. Expected %(expected)s."),
    "not-a-number": gettext_lazy("%(value)s is not %(expected)s."),
    "out-of-range": gettext_lazy("%(value)s is outside the allowed range %(expected)s."),
    "impossible-age": gettext_lazy(
        "The age computed or given here is impossible (%(expected)s). Check the birth date and the registration "
        "date."),
    "censored-value": gettext_lazy(
        "%(value)s is a censored value: the source gives only an interval (%(expected)s). Kept as that interval "
        "(%(label)s blank, its lower and upper bounds set, flagged as censored)."),
    "thousands-separator": gettext_lazy(
        "%(value)s is written with a thousands separator (%(expected)s); read as the whole number."),
    "flags-text-disagree": gettext_lazy(
        "%(value)s lists other values than the flag columns set (%(expected)s); the flags were used."),
    "missing-required": gettext_lazy("%(label)s is required on every record and is missing."),
    "inconsistent-majority": gettext_lazy(
        "The age band and the majority status contradict each other (%(expected)s)."),
    "unknown-reference": gettext_lazy(
        "This row refers to a record of %(expected)s that is not in the central repository nor in this file (the "
        "id is not shown). Send that record first, or correct the id; the row is held back, not dropped."),
    "unconvertible-amount": gettext_lazy(
        "The amount cannot be converted to %(expected)s: %(value)s in this row's year has no exchange rate in the "
        "shipped ECB table, or the year has no deflator (or is blank). Kept as given and counted, but left out of "
        "released amounts; check the currency and year (docs/standard.md, Money)."),
    "duplicate-record-id": gettext_lazy(
        "This record id already appeared on row %(expected)s of the file; this row was not imported."),
    "duplicate-row": gettext_lazy("This row is an exact copy of row %(expected)s; it was not imported again."),
    "conflicting-values": gettext_lazy(
        "Rows %(rows)s have the same %(key)s but different values; none of them was imported. Keep the right one "
        "and send the file again."),
    "not-a-country": gettext_lazy("%(value)s is not one country (%(expected)s). The row is held back for a steward."),
    "country-mismatch": gettext_lazy(
        "%(value)s names another country than the ISO code of the row. Expected %(expected)s."),
    "country-from-name": gettext_lazy(
        "The row has no ISO code; its country was read from the name %(value)s. Expected %(expected)s."),
    "category-read-as": gettext_lazy(
        "%(value)s is %(expected)s: read as the country it names (category_country); the text is kept in "
        "category."),
    "encoding-damage": gettext_lazy("%(value)s lost characters to a wrong text encoding (U+FFFD). %(expected)s"),
    "own-nationals": gettext_lazy(
        "%(value)s means the reporting country's own nationals: read as the reporting country (category_country)."),
    "subtotal-category": gettext_lazy(
        "%(value)s is a subtotal among the categories: kept, marked as a subtotal (category_status), never to be "
        "added to the other categories."),
    "unmapped-category": gettext_lazy(
        "%(value)s names no single %(expected)s: kept as published in category, not mapped, never guessed."),
    "implausible-value": gettext_lazy(
        "%(value)s is not plausible as %(expected)s. Held back for a steward; never published."),
    "exact-copy-row": gettext_lazy(
        "This row is an exact copy of row %(expected)s. Normal in this layout (synthetic data: several victims can "
        "share every value): kept as its own record."),
    "condensed-values": gettext_lazy(
        "%(value)s joins the values of several perpetrators. Kept as one condensed record listing them all "
        "(%(expected)s); which value belongs to which perpetrator is not in the file and is never guessed."),
    "missing-required-column": gettext_lazy("no column is mapped to %(expected)s, which every %(label)s needs"),
}

# The registry's titles, for the per-rule table.
TITLES = {
    "unknown-code": gettext_lazy("Unknown code"), "unknown-country": gettext_lazy("Unknown country"),
    "bad-date": gettext_lazy("Bad date"), "not-a-number": gettext_lazy("Not a number"),
    "out-of-range": gettext_lazy("Out of range"), "impossible-age": gettext_lazy("Impossible age"),
    "censored-value": gettext_lazy("Censored value"), "thousands-separator": gettext_lazy("Thousands separator"),
    "flags-text-disagree": gettext_lazy("Flags and text disagree"),
    "missing-required": gettext_lazy("Missing required value"),
    "inconsistent-majority": gettext_lazy("Inconsistent majority status"),
    "unknown-reference": gettext_lazy("Unknown reference"),
    "unconvertible-amount": gettext_lazy("Unconvertible amount"),
    "duplicate-record-id": gettext_lazy("Duplicate record id"), "duplicate-row": gettext_lazy("Duplicate row"),
    "conflicting-values": gettext_lazy("Conflicting values"), "not-a-country": gettext_lazy("Not a country"),
    "country-mismatch": gettext_lazy("Country mismatch"),
    "country-from-name": gettext_lazy("Country read from its name"),
    "category-read-as": gettext_lazy("Category read as a country"),
    "encoding-damage": gettext_lazy("Encoding damage"), "own-nationals": gettext_lazy("Own nationals"),
    "subtotal-category": gettext_lazy("Subtotal category"), "unmapped-category": gettext_lazy("Unmapped category"),
    "implausible-value": gettext_lazy("Implausible value"), "exact-copy-row": gettext_lazy("Exact copy kept"),
    "condensed-values": gettext_lazy("Condensed values"),
    "missing-required-column": gettext_lazy("Missing required column"),
}

# The registry's fixed phrases of what a rule expected.
PHRASES = {
    P.WHOLE_NUMBER: gettext_lazy("a whole number"),
    P.DECIMAL_NUMBER: gettext_lazy("a number (a point before decimals: 1200.50)"),
    P.YES_NO: gettext_lazy("yes/no (true/false)"),
    P.A_COUNTRY: gettext_lazy("a country"),
    P.FLAG_VALUES: gettext_lazy("1, 0 or empty"),
    P.ANY_DATE: gettext_lazy("YYYY-MM-DD or DD/MM/YYYY"),
    P.AN_EARLIER_ROW: gettext_lazy("an earlier row"),
    P.ALL_PERPETRATORS: gettext_lazy("one record for all the victim's perpetrators"),
    P.ONE_COUNTRY: gettext_lazy(
        "one country (a region, a group or a list of places is an aggregate, not a reporting country)"),
    P.ISO_CODE_COUNTRY: gettext_lazy("the country its ISO code names"),
    P.ISO3_IN_COLUMN: gettext_lazy("an ISO 3166-1 alpha-3 code in Iso3_code"),
    P.DEMONYM: gettext_lazy("a demonym (singular or plural, in English, French or Spanish)"),
    P.DECORATED: gettext_lazy("a country's name with more around it (in parentheses, after a comma)"),
    P.LISTED: gettext_lazy("a spelling listed in unodc-glotip.values.json (checked by hand)"),
    P.WILDCARD_MATCH: gettext_lazy(
        "With each lost character as a wildcard it matches one country's name only, and was read as that country "
        "(category_country)."),
    P.COUNTRY: gettext_lazy("country"),
    P.FORM_OF_EXPLOITATION: gettext_lazy("form of exploitation"),
}

_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"^({_NUMBER}) to ({_NUMBER}|any)( years)?$")
_INTERVAL = re.compile(rf"= ({_NUMBER}) to ({_NUMBER})")
_IMPLAUSIBLE = re.compile(r"^" + re.escape(P.IMPLAUSIBLE).replace(re.escape("{ratio}"), f"({_NUMBER})") + "$")


def _range(low: str, high: str, years: bool = False) -> str:
    if high == "any":
        return _("%(low)s or more") % {"low": low}
    if years:
        return _("%(low)s to %(high)s years") % {"low": low, "high": high}
    return _("%(low)s to %(high)s") % {"low": low, "high": high}


def expected_for_people(expected: str) -> str:
    """What a rule expected, in the active language: a registry phrase, or a known shape with its data kept."""
    if expected in PHRASES:
        return str(PHRASES[expected])
    if m := _RANGE.match(expected):
        return _range(m[1], m[2], bool(m[3]))
    if expected.startswith("one of "):
        return _("one of %(codes)s") % {"codes": expected.removeprefix("one of ")}
    if expected.startswith("flags: "):
        return _("flags: %(columns)s") % {"columns": expected.removeprefix("flags: ")}
    if m := re.match(r"^'(.+)' every three digits$", expected):
        return _("'%(separator)s' every three digits") % {"separator": m[1]}
    if m := re.match(r"^(.+) are minors$", expected):
        return _("%(bands)s are minors") % {"bands": m[1].replace(" and ", _(" and "))}
    if m := re.match(r"^([A-Z]{3}) of (\d{4})$", expected):
        return _("%(currency)s of %(year)s") % {"currency": m[1], "year": m[2]}
    if m := _IMPLAUSIBLE.match(expected):
        return _("a count of persons or offences (at most %(ratio)s times the country's own total for the "
                 "indicator; a category like Q6.1_2s_2019 is a questionnaire cell reference)") % {"ratio": m[1]}
    if _INTERVAL.search(expected):  # censoring markers: "'<5' = 1 to 4, ..."
        return _INTERVAL.sub(lambda m: "= " + _range(m[1], m[2]), expected)
    if expected in load_standard().datasets:  # an unknown reference names the dataset it points at
        return load_standard().dataset(expected).label_in(_lang()).lower()
    return expected  # data: date formats, row numbers, codes


def _lang() -> str:
    return (get_language() or "en")[:2]


def _label(field: str, dataset: str) -> str:
    """The field's label in the active language: in the submission's dataset, or in a linked one (a perpetrator
    field of the victim-perpetrator file)."""
    std = load_standard()
    names = [dataset, *(n for n in std.datasets if n != dataset)] if dataset in std.datasets \
        else list(std.datasets)
    for name in names:
        ds = std.dataset(name)
        if field in ds.field_names:
            return ds.field(field).label_in(_lang())
    return field


def problem_for_people(*, code: str, value: str | None, field: str, column: str, expected: str | None,
                       message: str, dataset: str) -> str:
    """A stored problem's message in the active language (the stored English `message` in English, or when the
    problem has no stored context or an unknown code)."""
    if _lang() == "en" or expected is None or code not in MESSAGES or code not in P.PROBLEMS:
        return message
    t = P.problem(code)
    words = P.context(code, value=value, label=_label(field, dataset) if "label" in t.fields else "",
                      column=column, expected=expected,
                      not_shown=_("The value (not shown: it could identify someone)"))
    if not t.parts:  # the parts of a several-part context are data (row numbers, column names)
        words["expected"] = expected_for_people(expected)
    return str(MESSAGES[code]) % words


def title_for_people(code: str) -> str:
    return str(TITLES.get(code, P.PROBLEMS[code].title if code in P.PROBLEMS else code))


# One message per file-level note code (`ctdc.ingest.problems.NOTES`), with its placeholders as %(name)s.
NOTE_MESSAGES = {
    "no-release-date": gettext_lazy(
        "The file has no title rows (the CSV conversion drops them), so it does not say when UNODC released these "
        "figures: release_date is left blank."),
    "title-rows": gettext_lazy(
        "Rows 1 to %(last)s are title rows above the header (row %(header)s); they hold no figures and were not "
        "read as data."),
    "release-date": gettext_lazy(
        "Row %(row)s gives the source's release date, %(cell)s: kept as release_date (%(date)s) on every row."),
    "wrong-sheet-dimension": gettext_lazy(
        "The sheet says it spans %(span)s (up to row %(stored_last)s), but it holds cells down to row "
        "%(last_read)s: every cell was read, not the stored dimension."),
    "formula-without-value": gettext_lazy(
        "Cell %(ref)s holds a formula with no stored value: read as empty, never evaluated."),
    "region-only": gettext_lazy(
        "Places are given as UN regions (UN_COO_Region, UN_COE_Region), not countries: citizenship and "
        "country_of_exploitation stay blank, never guessed; the regions are kept in citizenship_region and "
        "exploitation_region (code list ctdc_region, the Americas and Oceania as one)."),
    "no-linked-record": gettext_lazy(
        "%(count)s accepted row(s) record no %(label)s: no %(label)s record was made for them (nothing to keep), "
        "the rest of the row was."),
}


def note_for_people(note: dict) -> str:
    """A stored file-level note in the active language (its stored English message in English, or when it was
    stored without its context or has an unknown code)."""
    code, words, message = note.get("code"), note.get("context"), note.get("message", "")
    if _lang() == "en" or words is None or code not in NOTE_MESSAGES or code not in P.NOTES:
        return message
    words = dict(words)
    if words.get("dataset") in load_standard().datasets:  # a dataset's label, in the reader's language
        words["label"] = load_standard().dataset(words["dataset"]).label_in(_lang()).lower()
    return str(NOTE_MESSAGES[code]) % words
