"""Formula injection: every prefix a spreadsheet program reads as a formula start is defused in what we write."""

import csv
import io

import polars as pl
import pytest

from ctdc.formulas import FORMULA_PREFIXES, defuse, defuse_frame

HOSTILE = {"=": "=HYPERLINK(\"http://x\")", "+": "+33 1 23", "-": "-2+3", "@": "@SUM(A1:A9)",
           "\t": "\t=1+1", "\r": "\r=1+1"}


def test_the_six_prefixes_are_the_ones_the_issue_names():
    assert set(FORMULA_PREFIXES) == set(HOSTILE) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.mark.parametrize("prefix", sorted(HOSTILE))
def test_a_text_cell_starting_with_each_prefix_is_written_as_text_in_a_csv(prefix):
    out = io.StringIO()
    csv.writer(out).writerow([defuse(HOSTILE[prefix]), defuse("plain"), defuse(-5)])
    back = next(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert back == ["'" + HOSTILE[prefix], "plain", "-5"]


@pytest.mark.parametrize("prefix", sorted(HOSTILE))
def test_a_polars_text_column_is_defused_and_numbers_are_not(prefix):
    frame = pl.DataFrame({"label": [HOSTILE[prefix], "ok", None], "count": [-1, 0, 3]})
    out = defuse_frame(frame)
    assert out["label"].to_list() == ["'" + HOSTILE[prefix], "ok", None]
    assert out["count"].to_list() == [-1, 0, 3]
    assert out.write_csv().splitlines()[1].startswith('"\'') or out.write_csv().splitlines()[1].startswith("'")


def test_text_in_the_middle_of_a_cell_is_left_alone():
    assert defuse("a=b") == "a=b" and defuse("") == ""
