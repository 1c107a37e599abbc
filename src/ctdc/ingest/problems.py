"""The registry of intake problem codes: for each code its title, description, message, severity and outcome.

One place for what a problem code means (issue 14, item 6): the pipeline words its messages from `message`, the
report (`ValidationReport.as_dict`) takes `title` and `description`, the web pages re-word `message` in the
reader's language from the same code and context (`ctdc.web.submissions.messages.problem_for_people`), and
docs/ingest.md lists every code. Codes are part of our public interface: never renamed once released.

A message is a `str.format` template over the problem's context:

- `value`: the offending value as the report shows it, quoted (`'Atlantis'`), or words saying it is not shown
  (a direct identifier, free text, a cell that looks like a whole row);
- `label`: the label of the field the problem is about; `column`: the source column;
- `expected`: what was expected, as the pipeline says it for that flag (a range, a list of codes, a phrase of
  `EXPECTED`). A code whose message varies by more than one thing (`parts`) keeps them in `expected` joined by
  `PART_SEPARATOR` (`conflicting-values`: the rows, then the key columns).

Severity: `error` rows are quarantined (held back for the contributor to fix); `warning` rows go in as they are,
except `duplicate-*` rows, which are not imported again (counted as duplicates); `file` codes refuse the whole
file before any row is read (raised as `IngestError` with the code in `extra`).

NOTE: pure Python; imports nothing of ctdc (the pipeline, the report and the web shell import this).

>>> render("bad-date", value="31/02/2024", expected="DD/MM/YYYY")
"'31/02/2024' is not a valid date. Expected DD/MM/YYYY."
>>> render("conflicting-values", expected=join_parts("2, 5", "Country, Year"))
'Rows 2, 5 have the same Country, Year but different values; none of them was imported. Keep the right one and send the file again.'
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "file"]
PART_SEPARATOR = "\x1f"
NOT_SHOWN = "The value (not shown: it could identify someone)"


@dataclass(frozen=True)
class ProblemType:
    code: str
    title: str
    description: str
    message: str                  # str.format template over value, label, column, expected (or `parts`)
    severity: Severity
    parts: tuple[str, ...] = ()   # names of the parts `expected` holds, when more than one thing varies

    @property
    def quarantines(self) -> bool:
        """True when a row with this problem is held back (quarantined) rather than imported."""
        return self.severity == "error"

    @property
    def fields(self) -> set[str]:
        """The placeholders its message uses."""
        return {name for _text, name, _spec, _conv in string.Formatter().parse(self.message) if name}


def _p(code: str, title: str, description: str, message: str, severity: Severity = "error",
       parts: tuple[str, ...] = ()) -> ProblemType:
    return ProblemType(code, title, description, message, severity, parts)


_TYPES = [
    # Typing and normalising each mapped field.
    _p("unknown-code", "Unknown code", "The value is not in the field's code list nor in the mapping's values.",
       "{value} is not a valid value for {label}. Expected {expected}. Fix the value, or add it to the mapping's "
       "values for column '{column}'."),
    _p("unknown-country", "Unknown country", "The value is not a country code or a country name we recognise.",
       "{value} is not a country we recognise. Expected an ISO 3166 code or a country name in English, French or "
       "Spanish."),
    _p("bad-date", "Bad date", "The value is not a valid date in any accepted format.",
       "{value} is not a valid date. Expected {expected}."),
    _p("not-a-number", "Not a number",
       "The value should be a number (a whole number where the field counts something).",
       "{value} is not {expected}."),
    _p("out-of-range", "Out of range", "The number is outside the range the standard allows.",
       "{value} is outside the allowed range {expected}."),
    _p("impossible-age", "Impossible age",
       "The age is negative or implausibly high (birth date after registration?).",
       "The age computed or given here is impossible ({expected}). Check the birth date and the registration "
       "date."),
    _p("censored-value", "Censored value",
       "The source gives an interval (GLOTIP '<5': 1 to 4, a year bin '2005-2013'), not a number; kept as that "
       "interval, flagged as censored.",
       "{value} is a censored value: the source gives only an interval ({expected}). Kept as that interval "
       "({label} blank, its lower and upper bounds set, flagged as censored).", "warning"),
    _p("thousands-separator", "Thousands separator", "A number written with a thousands separator, read whole.",
       "{value} is written with a thousands separator ({expected}); read as the whole number.", "warning"),
    _p("flags-text-disagree", "Flags and text disagree",
       "The text column lists other values than the flag columns set; the flags were used.",
       "{value} lists other values than the flag columns set ({expected}); the flags were used.", "warning"),
    # Cross-field checks.
    _p("missing-required", "Missing required value", "The standard requires this field on every record.",
       "{label} is required on every record and is missing."),
    _p("inconsistent-majority", "Inconsistent majority status",
       "The age band and the majority status contradict each other (a 9-17 band is a minor).",
       "The age band and the majority status contradict each other ({expected})."),
    _p("unknown-reference", "Unknown reference",
       "A reference to a case or perpetrator neither in the repository nor in the file: held back.",
       "This row refers to a record of {expected} that is not in the central repository nor in this file (the id "
       "is not shown). Send that record first, or correct the id; the row is held back, not dropped."),
    _p("unconvertible-amount", "Unconvertible amount",
       "A fee in a currency or year the shipped exchange rates and deflator do not cover: kept as given, never "
       "converted by guess.",
       "The amount cannot be converted to {expected}: {value} in this row's year has no exchange rate in the "
       "shipped ECB table, or the year has no deflator (or is blank). Kept as given and counted, but left out of "
       "released amounts; check the currency and year (docs/standard.md, Money).", "warning"),
    # Identity: the same record twice in one file.
    _p("duplicate-record-id", "Duplicate record id", "An earlier row of the same file has the same record id.",
       "This record id already appeared on row {expected} of the file; this row was not imported.", "warning"),
    _p("duplicate-row", "Duplicate row", "An exact copy of an earlier row of the same file; not imported again.",
       "This row is an exact copy of row {expected}; it was not imported again.", "warning"),
    _p("conflicting-values", "Conflicting values",
       "Rows with the same key hold different values; none is imported.",
       "Rows {rows} have the same {key} but different values; none of them was imported. Keep the right one and "
       "send the file again.", parts=("rows", "key")),
    # Published aggregates (issue 17; the GLOTIP preset's rules are in ctdc.ingest.sources.unodc_glotip).
    _p("not-a-country", "Not a country",
       "A region, a group or a list of places where one reporting country is expected (a regional aggregate).",
       "{value} is not one country ({expected}). The row is held back for a steward."),
    _p("country-mismatch", "Country mismatch",
       "The country name and the ISO code of the row name different countries.",
       "{value} names another country than the ISO code of the row. Expected {expected}."),
    _p("country-from-name", "Country read from its name", "The row has no ISO code; its country name was read.",
       "The row has no ISO code; its country was read from the name {value}. Expected {expected}.", "warning"),
    _p("category-read-as", "Category read as a country",
       "A demonym, another language's name, a decorated form or a listed spelling, read as one country.",
       "{value} is {expected}: read as the country it names (category_country); the text is kept in category.",
       "warning"),
    _p("encoding-damage", "Encoding damage",
       "Characters lost to a wrong text encoding (U+FFFD); the text matched one country with each lost character "
       "as a wildcard.",
       "{value} lost characters to a wrong text encoding (U+FFFD). {expected}", "warning"),
    _p("own-nationals", "Own nationals", "'Nationals' or 'own country': read as the reporting country.",
       "{value} means the reporting country's own nationals: read as the reporting country (category_country).",
       "warning"),
    _p("subtotal-category", "Subtotal category", "A subtotal among the categories ('TOTAL'): never added to the "
                                                  "others.",
       "{value} is a subtotal among the categories: kept, marked as a subtotal (category_status), never to be "
       "added to the other categories.", "warning"),
    _p("unmapped-category", "Unmapped category",
       "The category names no single country (or form of exploitation): kept as published, not mapped, never "
       "guessed.",
       "{value} names no single {expected}: kept as published in category, not mapped, never guessed.", "warning"),
    _p("implausible-value", "Implausible value",
       "Far above the country's own totals (a questionnaire cell reference leaked in as a number): held back for "
       "a steward, never published.",
       "{value} is not plausible as {expected}. Held back for a steward; never published."),
    # Linked dataset types (issue 17): the public CTDC victim-perpetrator file, perpetrators, links.
    _p("exact-copy-row", "Exact copy kept",
       "In a layout where copies are distinct records (synthetic data), a row equal to an earlier one: kept as "
       "its own record.",
       "This row is an exact copy of row {expected}. Normal in this layout (synthetic data: several victims can "
       "share every value): kept as its own record.", "warning"),
    _p("condensed-values", "Condensed values",
       "A cell joins several perpetrators' values: kept as one condensed record listing them all, never paired by "
       "guess.",
       "{value} joins the values of several perpetrators. Kept as one condensed record listing them all "
       "({expected}); which value belongs to which perpetrator is not in the file and is never guessed.",
       "warning"),
    # The whole file: refused before a row is read.
    _p("missing-required-column", "Missing required column",
       "No column of the file is mapped to a field every record of the dataset needs; the file is refused.",
       "no column is mapped to {expected}, which every {label} needs", "file"),
]
PROBLEMS: dict[str, ProblemType] = {t.code: t for t in _TYPES}

# What a flag expects, in the fixed words the pipeline and the source rules use (the web pages translate each).
WHOLE_NUMBER = "a whole number"
DECIMAL_NUMBER = "a number (a point before decimals: 1200.50)"
YES_NO = "yes/no (true/false)"
A_COUNTRY = "a country"
FLAG_VALUES = "1, 0 or empty"
ANY_DATE = "YYYY-MM-DD or DD/MM/YYYY"
AN_EARLIER_ROW = "an earlier row"
ALL_PERPETRATORS = "one record for all the victim's perpetrators"
ONE_COUNTRY = "one country (a region, a group or a list of places is an aggregate, not a reporting country)"
ISO_CODE_COUNTRY = "the country its ISO code names"
ISO3_IN_COLUMN = "an ISO 3166-1 alpha-3 code in Iso3_code"
DEMONYM = "a demonym (singular or plural, in English, French or Spanish)"
DECORATED = "a country's name with more around it (in parentheses, after a comma)"
LISTED = "a spelling listed in unodc-glotip.values.json (checked by hand)"
WILDCARD_MATCH = ("With each lost character as a wildcard it matches one country's name only, and was read as that "
                  "country (category_country).")
IMPLAUSIBLE = ("a count of persons or offences (at most {ratio} times the country's own total for the indicator; a "
               "category like Q6.1_2s_2019 is a questionnaire cell reference)")
COUNTRY = "country"
FORM_OF_EXPLOITATION = "form of exploitation"
EXPECTED = (WHOLE_NUMBER, DECIMAL_NUMBER, YES_NO, A_COUNTRY, FLAG_VALUES, ANY_DATE, AN_EARLIER_ROW, ALL_PERPETRATORS,
            ONE_COUNTRY, ISO_CODE_COUNTRY, ISO3_IN_COLUMN, DEMONYM, DECORATED, LISTED, WILDCARD_MATCH, COUNTRY,
            FORM_OF_EXPLOITATION)


def problem(code: str) -> ProblemType:
    """The registry entry of `code`; KeyError names a code no one registered (a typo in a rule)."""
    try:
        return PROBLEMS[code]
    except KeyError:
        raise KeyError(f"problem code {code!r} is not in ctdc.ingest.problems.PROBLEMS") from None


def join_parts(*parts: str) -> str:
    """`expected` for a code with several `parts`."""
    return PART_SEPARATOR.join(parts)


def context(code: str, *, value: str | None = None, label: str = "", column: str = "",
            expected: str = "", not_shown: str = NOT_SHOWN) -> dict[str, str]:
    """The placeholders of `code`'s message: `value` quoted (or `not_shown`), the parts of `expected` split."""
    t = problem(code)
    words = {"value": f"'{value}'" if value is not None else not_shown, "label": label, "column": column,
             "expected": expected}
    if t.parts:
        words.update(zip(t.parts, (expected or "").split(PART_SEPARATOR), strict=False))
        words.update({p: "" for p in t.parts if p not in words})
    return words


def render(code: str, *, value: str | None = None, label: str = "", column: str = "", expected: str = "") -> str:
    """The English message of a problem, from its registry template and context."""
    return problem(code).message.format(**context(code, value=value, label=label, column=column, expected=expected))


# File-level notes: facts about the whole file (not problems of a row), one English `str.format` template per code
# over the note's context (data only: row numbers, cell references, counts, a dataset's name). The pipeline stores
# each note as {"code", "message", "context"}; report.json and the CLI show the English message, the web pages word
# it again from the code and context in the reader's language (`ctdc.web.submissions.report_words.NOTE_MESSAGES`).
NOTES: dict[str, str] = {
    "no-release-date": "The file has no title rows (the CSV conversion drops them), so it does not say when UNODC "
                       "released these figures: release_date is left blank.",
    "title-rows": "Rows 1 to {last} are title rows above the header (row {header}); they hold no figures and were "
                  "not read as data.",
    "release-date": "Row {row} gives the source's release date, {cell}: kept as release_date ({date}) on every row.",
    "wrong-sheet-dimension": "The sheet says it spans {span} (up to row {stored_last}), but it holds cells down to "
                             "row {last_read}: every cell was read, not the stored dimension.",
    "formula-without-value": "Cell {ref} holds a formula with no stored value: read as empty, never evaluated.",
    "region-only": "Places are given as UN regions (UN_COO_Region, UN_COE_Region), not countries: citizenship and "
                   "country_of_exploitation stay blank, never guessed; the regions are kept in citizenship_region "
                   "and exploitation_region (code list ctdc_region, the Americas and Oceania as one).",
    # `label` is the linked dataset's label (lower case); `dataset` its name, for re-wording the label.
    "no-linked-record": "{count} accepted row(s) record no {label}: no {label} record was made for them (nothing "
                        "to keep), the rest of the row was.",
}


def note(code: str, **context: str | int) -> dict:
    """A file-level note of registered `code`: its English message and the context it is worded from."""
    try:
        template = NOTES[code]
    except KeyError:
        raise KeyError(f"note code {code!r} is not in ctdc.ingest.problems.NOTES") from None
    words = {k: str(v) for k, v in context.items()}
    return {"code": code, "message": template.format(**words), "context": words}
