"""The `ctdc-public` preset reads both published CTDC flavours and reports each documented quirk."""

from pathlib import Path

import polars as pl

from ctdc.ingest.mapping import load_preset
from ctdc.ingest.pipeline import ingest_file

DATA = Path(__file__).parent.parent / "data"
SPEC = load_preset("ctdc-public")


def _rows(result, *cols):
    return result.records.sort("source_row").select(*cols).rows()


def test_the_k_anonymized_layout_is_read_with_its_notice_cell_and_leading_empty_field():
    result = ingest_file(DATA / "ctdc-public-kanon-quirks.csv", SPEC, identity_key=b"k")
    assert result.read_info["delimiter"] == ";"
    assert result.ignored_columns == []  # the notice column is dropped, not "ignored"
    assert result.report.flatten() == [(4, "meansOfControlConcatenated", "flags-text-disagree"),
                                       (5, "majorityStatus", "inconsistent-majority")]
    s = result.report.stats
    assert (s["rows_read"], s["accepted"], s["quarantined"], s["duplicates"]) == (6, 5, 1, 0)


def test_flags_are_the_structured_truth_and_not_recorded_stays_distinct_from_no():
    result = ingest_file(DATA / "ctdc-public-kanon-quirks.csv", SPEC, identity_key=b"k")
    assert _rows(result, "source_row", "means_of_control", "labour_sectors", "recruiter_relations") == [
        (2, "threats;false_promises;restricts_movement", "construction", "friend"),
        (3, "takes_earnings;physical_abuse", None, "intimate_partner"),  # 1/empty encoding; labour group empty
        (4, "debt_bondage", "aquafarming", "unknown"),  # text says "Threats" too: flags win, a warning
        (6, None, None, "family;other"),  # multi-valued "Family/Relative; Other"
        (7, "threats;false_promises;restricts_movement", "construction", "friend"),  # exact duplicate: normal
    ]
    # The coarser groups of the synthetic flavour are derived from the finer codes.
    assert _rows(result, "means_of_control_groups")[0] == ("threats;false_promises;other",)
    rules = result.report.stats["flag_encodings"]["means_of_control"]
    assert (rules["zero_one"], rules["one_empty"], rules["not_recorded"]) == (3, 1, 2)


def test_a_recorded_group_with_no_flag_set_is_empty_not_null(tmp_path):
    text = (DATA / "ctdc-public-kanon-quirks.csv").read_text()
    # Make row 5 consistent so it is accepted: it has all five recruiter flags 0.
    fixed = text.replace(";2020;Case Management;Male;9--17;Adult;", ";2020;Case Management;Male;9--17;Minor;")
    (tmp_path / "f.csv").write_text(fixed)
    result = ingest_file(tmp_path / "f.csv", SPEC, identity_key=b"k")
    row = result.records.filter(pl.col("source_row") == 5).row(0, named=True)
    assert row["recruiter_relations"] == "" and row["means_of_control"] is None


def test_the_synthetic_flavour_with_alpha3_countries_and_padded_bands():
    result = ingest_file(DATA / "ctdc-public-synthetic.csv", SPEC, identity_key=b"k")
    assert (result.read_info["encoding"], result.read_info["delimiter"]) == ("utf-8-sig", ",")
    assert result.report.flatten() == []
    assert _rows(result, "gender", "age_band", "citizenship", "country_of_exploitation", "trafficking_duration",
                 "sexual_exploitation_types") == [
        ("female", "9-17", "PH", "PH", "0-12m", "prostitution"),
        ("male", "30-38", "UA", "RU", "25m+", None),
        ("trans_nonconforming", "18-20", None, "US", None, None),
    ]
    # Flags merging several codes of the standard fill only the coarser groups field.
    assert result.ignored_columns == []
    assert _rows(result, "means_of_control", "means_of_control_groups")[1] == (
        "withholds_documents", "debt_or_earnings;withhold_documents")


def _public_file_with_blanks(path, rows=400):
    """A public-layout file (notice cell, `;`, CRLF) written by the release exporter, with blanks where a
    k-anonymized file suppresses values: every 7th year, every 5th age band (and its majority statuses), every
    3rd gender."""
    from ctdc.fixtures.population import simulate_cases
    from ctdc.release.ctdc_public import write_ctdc_public

    frame = simulate_cases(rows, seed=7).with_row_index("i").with_columns(
        pl.when(pl.col("i") % 7 == 0).then(None).otherwise(pl.col("registration_year")).alias("registration_year"),
        *[pl.when(pl.col("i") % 5 == 0).then(None).otherwise(pl.col(c)).alias(c)
          for c in ("age_band", "majority_status", "majority_status_at_exploitation")],
        pl.when(pl.col("i") % 3 == 0).then(None).otherwise(pl.col("gender")).alias("gender"),
    )
    write_ctdc_public(frame.drop("i"), path)
    return frame


def test_blank_years_ages_and_genders_of_a_public_file_are_accepted_and_counted(tmp_path):
    frame = _public_file_with_blanks(tmp_path / "public.csv")
    result = ingest_file(tmp_path / "public.csv", SPEC, identity_key=b"k")
    s = result.report.stats
    # The layout has no record id: rows are known by their number, so no row is a duplicate; every row goes in.
    assert (s["rows_read"], s["accepted"], s["quarantined"], s["duplicates"], s["errors"]) == (400, 400, 0, 0, 0)
    assert result.records.height == 400 and "missing-required" not in s["errors_by_rule"]
    blanks = s["blanks_by_column"]
    assert blanks["yearOfRegistration"] == frame["registration_year"].null_count() == 58
    assert blanks["ageBroad"] == frame["age_band"].null_count() == 80
    # The layout writes trans/non-conforming as an empty gender too: the blanks count what the file holds.
    assert blanks["gender"] == frame.filter(~pl.col("gender").is_in(["female", "male"]).fill_null(False)).height
    assert blanks["gender"] >= 134
    # The records went in with those fields missing, not dropped and not invented.
    records = result.records.sort("source_row")
    assert records["registration_year"].null_count() == 58
    assert records["registration_year"].to_list() == frame["registration_year"].to_list()
    assert records["age_band"].null_count() == 80 and records["gender"].null_count() == blanks["gender"]


def test_a_registration_year_after_this_one_is_out_of_range_not_accepted(tmp_path):
    """The standard's bound (2030) is for the standard's lifetime; a case cannot be registered next year."""
    from datetime import date

    from ctdc.fixtures.population import simulate_cases
    from ctdc.release.ctdc_public import write_ctdc_public

    next_year = date.today().year + 1
    frame = simulate_cases(30, seed=3).with_row_index("i").with_columns(
        pl.when(pl.col("i") == 4).then(next_year).otherwise(pl.col("registration_year")).alias("registration_year"))
    write_ctdc_public(frame.drop("i"), tmp_path / "public.csv")
    result = ingest_file(tmp_path / "public.csv", SPEC, identity_key=b"k")
    s = result.report.stats
    assert (s["rows_read"], s["accepted"], s["quarantined"]) == (30, 29, 1)
    problem = result.report.problems.filter(pl.col("code") == "out-of-range").row(0, named=True)
    assert problem["value"] == str(next_year) and f"2000 to {date.today().year}" in problem["message"]
