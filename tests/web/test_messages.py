"""Every refusal of the intake, in words for its page (issue 19, item 4): no command-line option, no source file,
and the same stable code as the CLI's JSON."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ctdc.errors import IngestError, MappingError, MappingNeeded, NotATable
from ctdc.web.submissions.messages import for_people

SRC = Path(__file__).resolve().parents[2] / "src" / "ctdc" / "ingest"
CASES = [
    MappingNeeded("cli words --mapping", {"file": "a.csv", "preset": "ctdc-public",
                                          "missed": [{"column": "age", "field": "age"}]}),
    MappingNeeded("cli words --preset", {"file": "a.csv", "preset": "htcds", "missed": [], "matched": 3,
                                         "columns": 9, "coverage": 0.33}),
    MappingError("cli words --mapping FILE --preset", {"file": "a.csv", "reason": "no-preset-matches"}),
    NotATable("x", {"file": "a.pdf", "looks_like": "a PDF document"}),
    *[IngestError(f"cli words {reason} --mapping", {"file": "a.csv", "reason": reason, "delimiter": ";",
                                                    "sheet": "Cases", "sheets": ["One"], "row": 2,
                                                    "encoding": "utf-8", "mapping": "m", "mapping_dataset": "x",
                                                    "dataset": "victims"})
      for reason in ("missing-required-column", "no-mapped-columns", "empty", "not-text", "bad-csv",
                     "bad-spreadsheet", "no-sheet", "no-header", "bad-encoding", "wrong-dataset")],
]


@pytest.mark.parametrize("error", CASES, ids=lambda e: e.extra.get("reason") or type(e).__name__)
def test_each_refusal_is_worded_for_the_page(error):
    text = for_people(error, filename="cases.csv")
    assert "--" not in text and ".py" not in text and "cli words" not in text
    assert ("cases.csv" in text or "The mapping" in text) and text.endswith(".")


# Reasons whose core message already fits a page (it names rows and what to fix, no option of the CLI), and one
# the web never meets (it always has the file).
# Upload limits (ctdc.ingest.limits) are worded for people in the core already: what the limit is and what to do.
AS_THEY_ARE = {"extra-cells", "misplaced-quote", "not-found", "file-too-large", "too-many-rows", "unpacked-too-large",
               "too-many-entries", "zip-bomb"}


def test_every_reason_the_core_gives_has_words_for_the_page():
    given = set(re.findall(r'"reason": "([a-z-]+)"', "".join(p.read_text() for p in SRC.glob("*.py"))))
    worded = {e.extra.get("reason") for e in CASES}
    assert given and given <= worded | AS_THEY_ARE, given - worded - AS_THEY_ARE


def test_a_core_message_already_worded_for_people_is_shown_as_it_is(tmp_path):
    from ctdc.ingest.readers import read_table

    bad = tmp_path / "cases.csv"
    bad.write_text('name,age\n"Ann,3\nBob,4\n')
    with pytest.raises(IngestError) as info:
        read_table(bad)
    assert info.value.extra["reason"] in AS_THEY_ARE
    text = for_people(info.value, filename="cases.csv")
    assert text == info.value.message and "--" not in text


@pytest.mark.parametrize("error", CASES, ids=lambda e: e.extra.get("reason") or type(e).__name__)
@pytest.mark.parametrize("language", ["fr", "es"])
def test_each_refusal_is_worded_in_the_readers_language_from_what_the_submission_stored(error, language):
    """The worker stores the English words with the code and context; the page words them again for its reader."""
    from django.utils import translation

    from ctdc.web.submissions.messages import stored_for_people

    english = for_people(error, filename="cases.csv")
    with translation.override(language):
        text = stored_for_people(message=english, code=error.code, extra=error.extra, filename="cases.csv")
    assert text != english
    assert "%(" not in text and "--" not in text
    assert stored_for_people(message=english, code=error.code, extra=error.extra, filename="cases.csv") == english


def test_an_error_without_words_of_its_own_keeps_the_stored_message():
    from django.utils import translation

    from ctdc.web.submissions.messages import stored_for_people

    with translation.override("fr"):
        assert stored_for_people(message="Row 4 has more cells than the header.", code="ingest-error",
                                 extra={"reason": "extra-cells"}, filename="a.csv") == \
            "Row 4 has more cells than the header."
        assert stored_for_people(message="kept", code="no-such-code", extra={}, filename="a.csv") == "kept"
