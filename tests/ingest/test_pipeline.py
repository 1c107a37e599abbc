from pathlib import Path

import polars as pl
import pytest

from ctdc.errors import IngestError, MappingError
from ctdc.fixtures.population import simulate_cases
from ctdc.ingest.detect import detect_preset
from ctdc.ingest.identity import record_id_hash
from ctdc.ingest.mapping import load_mapping, load_preset, parse_mapping
from ctdc.ingest.pipeline import ingest_file
from ctdc.standard import load_standard

DATA = Path(__file__).parent.parent / "data"
KEY = b"test-identity-key"
SMALL = load_mapping(DATA / "small.mapping.yml")


def _rid(ids: list[str]) -> list[str]:
    return record_id_hash(pl.Series(ids), KEY, "").to_list()


def _check_invariant(result):
    s = result.report.stats
    assert s["rows_read"] == s["accepted"] + s["quarantined"] + s["duplicates"]
    assert result.records.height == s["accepted"] and result.quarantine.height == s["quarantined"]


def test_a_small_file_reports_every_problem_at_its_row_and_column():
    result = ingest_file(DATA / "problems.csv", SMALL, identity_key=KEY)
    assert result.report.flatten() == [
        (4, "citizenship", "unknown-country"),
        (4, "registered", "bad-date"),
        (5, "born", "impossible-age"),
        (5, "exploitation", "unknown-code"),
        (6, "id", "duplicate-record-id"),
    ]
    # Row 7 has no registration date: a missing value, not an error (standard 0.3.0); it goes in without a year.
    assert result.report.stats | {"errors_by_rule": None, "problems_by_field": None} == {
        "rows_read": 6, "accepted": 3, "quarantined": 2, "duplicates": 1, "errors": 4, "warnings": 1,
        "errors_by_rule": None, "problems_by_field": None, "flag_encodings": {},
        "blanks_by_column": {"id": 0, "registered": 1, "name": 0, "born": 0, "gender": 0, "citizenship": 0,
                             "exploited_in": 0, "exploitation": 0, "notes": 4},
    }
    _check_invariant(result)
    rec = result.records.sort("source_row")
    # Record ids leave the pipeline only as keyed hashes (issue 13, finding 8).
    assert rec["record_id"].to_list() == _rid(["A1", "A2", "A5"])
    assert rec["citizenship"].to_list() == ["PH", "PH", "CI"]
    assert rec["country_of_exploitation"].to_list() == ["SA", "AE", "DE"]
    assert rec["exploitation_types"].to_list() == ["forced_labour", "forced_labour;sexual_exploitation", "other"]
    # Without a registration date there is no age at registration either: both missing, nothing invented.
    assert rec["age"].to_list() == [28, 18, None] and rec["age_band"].to_list() == ["27-29", "18-20", None]
    assert rec["registration_year"].to_list() == [2019, 2019, None]
    assert result.quarantine.rows() == [(4, _rid(["A3"])[0], "bad-date;unknown-country"),
                                        (5, _rid(["A4"])[0], "impossible-age;unknown-code")]


def test_no_direct_identifier_leaves_the_pipeline():
    result = ingest_file(DATA / "problems.csv", SMALL, identity_key=KEY)
    for banned in ("full_name", "birth_date", "narrative", "registration_date", "phone", "email", "address"):
        assert banned not in result.records.columns
    text = " ".join(str(v) for v in result.records.rows() + result.quarantine.rows() + result.report.problems.rows())
    for value in ("Ana Testa", "Cai Essai", "1990-05-06", "2030-01-01", "called from a shop"):
        assert value not in text
    # The birth date flagged as an impossible age is named by row and column, never echoed.
    age_problem = result.report.problems.filter(pl.col("code") == "impossible-age").row(0, named=True)
    assert age_problem["value"] is None and "2030" not in age_problem["message"]
    assert age_problem["column"] == "born" and age_problem["row"] == 5


def test_coded_values_are_echoed_so_the_steward_can_fix_them():
    result = ingest_file(DATA / "problems.csv", SMALL, identity_key=KEY)
    country = result.report.problems.filter(pl.col("code") == "unknown-country").row(0, named=True)
    assert country["value"] == "Atlantis" and "ISO 3166" in country["message"]


@pytest.mark.parametrize("name, encoding, delimiter", [
    ("bom-utf8.csv", "utf-8-sig", ","),
    ("semicolon-cp1252.csv", "cp1252", ";"),
])
def test_encodings_and_delimiters_are_detected_and_reported(name, encoding, delimiter):
    result = ingest_file(DATA / name, SMALL, identity_key=KEY)
    assert (result.read_info["encoding"], result.read_info["delimiter"]) == (encoding, delimiter)
    assert result.report.stats["quarantined"] == 0
    assert set(result.records["citizenship"].to_list()) <= {"PH", "CI"}
    _check_invariant(result)


def test_formula_looking_cells_stay_text_and_are_never_evaluated():
    result = ingest_file(DATA / "formula-cells.csv", SMALL, identity_key=KEY)
    assert result.records["record_id"].to_list() == _rid(["-F3"])
    assert result.report.flatten() == [(2, "citizenship", "unknown-country"), (3, "citizenship", "unknown-country")]
    assert result.report.problems["value"].to_list() == ["=1+1", "@SUM"]
    assert result.quarantine["record_id"].to_list() == _rid(["F1", "+44"])


@pytest.mark.parametrize("name, expected", [
    ("empty.csv", "is empty"),
    ("not-a-spreadsheet.xlsx", "not a readable spreadsheet"),
    ("wrong-columns.csv", "none of the mapping's columns"),
])
def test_unreadable_files_stop_with_a_clear_message(name, expected):
    with pytest.raises(IngestError) as info:
        ingest_file(DATA / name, SMALL, identity_key=KEY)
    assert expected in info.value.message


def test_a_header_only_file_is_valid_and_empty():
    result = ingest_file(DATA / "header-only.csv", SMALL, identity_key=KEY)
    assert result.report.stats["rows_read"] == 0 and result.report.valid


def test_a_mapping_to_a_field_the_standard_lacks_is_refused():
    with pytest.raises(MappingError) as info:
        parse_mapping("columns:\n  x: {field: shoe_size}\n")
    assert "shoe_size" in info.value.message


def test_each_simulated_contributor_format_ingests_with_the_invariant(simulated):
    folder, manifest = simulated
    specs = {"lakeside-helpline": load_mapping(folder / "lakeside-helpline.mapping.yml"),
             "harbour-light": load_preset("htcds"), "open-roads": load_preset("kobo-htcds")}
    for f in manifest["files"]:
        result = ingest_file(folder / f["file"], specs[f["org"]], identity_key=KEY)
        _check_invariant(result)
        s = result.report.stats
        assert s["rows_read"] == f["rows"]
        assert s["duplicates"] == f["duplicates"]
        # Every deliberately malformed row, and nothing else, is quarantined.
        assert s["quarantined"] == sum(f["malformed"].values()), (f["org"], s["errors_by_rule"])
        for kind, n in f["malformed"].items():
            assert s["errors_by_rule"][kind] == n, (f["org"], kind)
        assert result.records["registration_year"].null_count() == 0
        # Coded fields come as categories (memory, issue 14), and their codes are the standard's.
        assert result.records.schema["citizenship"] == pl.Categorical
        assert result.records["citizenship"].drop_nulls().cast(pl.String).str.len_chars().eq(2).all()
        gender = load_standard().dataset("victims").field("gender").codelist
        assert set(result.records["gender"].drop_nulls().to_list()) <= set(gender.codes)


def test_harmonized_values_match_the_simulated_truth(simulated):
    folder, _ = simulated
    from tests.conftest import SIM_CASES, SIM_SEED

    truth = simulate_cases(SIM_CASES, SIM_SEED).select(
        record_id_hash("HL-" + pl.Series(simulate_cases(SIM_CASES, SIM_SEED)["person_id"].cast(pl.String)
                                         .str.zfill(7)), KEY, "").alias("record_id"), "gender", "age_band", "exploitation_types",
        "country_of_exploitation")
    result = ingest_file(folder / "lakeside-helpline.csv", load_mapping(folder / "lakeside-helpline.mapping.yml"),
                         identity_key=KEY)
    got = result.records.join(truth, on="record_id", suffix="_truth")
    assert got.height > 0.9 * result.records.height
    for col in ("gender", "age_band", "exploitation_types", "country_of_exploitation"):
        agree = (got[col] == got[f"{col}_truth"]) | (got[col].is_null() & got[f"{col}_truth"].is_null())
        assert agree.mean() > 0.99, col


def test_the_preset_is_detected_from_the_header(simulated):
    folder, _ = simulated
    assert detect_preset(folder / "harbour-light.xlsx").name == "htcds"
    assert detect_preset(folder / "open-roads.csv").name == "kobo-htcds"
    with pytest.raises(MappingError):
        detect_preset(DATA / "wrong-columns.csv")


def test_an_export_of_the_ctdc_xlsform_maps_one_to_one(tmp_path):
    cases = simulate_cases(300, seed=4)
    export = cases.select(
        pl.col("person_id").cast(pl.String).alias("_uuid"), "full_name", pl.col("birth_date").cast(pl.String),
        pl.col("registration_date").cast(pl.String), "gender", "citizenship", "country_of_exploitation",
        pl.col("exploitation_types").str.replace_all(";", " "), pl.col("means_of_control").str.replace_all(";", " "),
        pl.when(pl.col("is_abduction")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("is_abduction"),
    )
    export.write_csv(tmp_path / "kobo-ctdc.csv")
    result = ingest_file(tmp_path / "kobo-ctdc.csv", load_preset("kobo-ctdc"), identity_key=KEY)
    assert result.report.flatten() == []
    got = result.records.sort("source_row").select("gender", "exploitation_types", "is_abduction")
    want = cases.select("gender", "exploitation_types", "is_abduction")
    assert got.equals(want)


HTCDS_TEMPLATE = Path(__file__).resolve().parents[3] / "shared/reference/htcds/original/HTCDS Excel Spreadsheet v2.0.xlsx"


def test_the_real_htcds_excel_template_is_recognised_and_reads_empty():
    assert detect_preset(HTCDS_TEMPLATE).name == "htcds"
    result = ingest_file(HTCDS_TEMPLATE, load_preset("htcds"), identity_key=KEY)
    assert result.report.stats["rows_read"] == 0 and result.report.valid


def test_rows_typed_into_the_real_htcds_template_ingest(tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(HTCDS_TEMPLATE)
    ws = wb.worksheets[0]
    names = [c.value for c in ws[1]]
    col = {name: i + 1 for i, name in enumerate(names) if name}
    rows = [
        {"prs_FirstName": "Ana", "prs_SecondName": "Testa", "prs_Birthdate": "1990-05-06", "prs_Gender": "Feminine",
         "prs_Citizenship": "Philippines", "vic_TypeOfExploitation": "Forced labour; Sexual exploitation",
         "vic_TraffickinStatusDecisionMakingOrg": "Police", "cas_IncomingReferralDate": "2021-02-03"},
        {"prs_FirstName": "Bo", "prs_Gender": "Masculine", "prs_Citizenship": "Narnia",
         "cas_IncomingReferralDate": "2022-03-04"},
    ]
    for r, values in enumerate(rows, start=3):
        for name, value in values.items():
            ws.cell(row=r, column=col[name], value=value)
    path = tmp_path / "filled-template.xlsx"
    wb.save(path)
    result = ingest_file(path, load_preset("htcds"), identity_key=KEY)
    assert result.report.flatten() == [(4, "prs_Citizenship", "unknown-country")]
    row = result.records.row(0, named=True)
    assert (row["source_row"], row["gender"], row["citizenship"], row["age"]) == (3, "female", "PH", 30)
    assert row["exploitation_types"] == "forced_labour;sexual_exploitation"
    assert row["trafficking_status_decided_by"] == "police"  # read through the template's misspelt column name


def test_an_opendocument_spreadsheet_reads_like_xlsx(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"id": ["A1", "A2"], "registered": ["2019-03-04", "2020-01-01"], "gender": ["F", "M"],
                          "citizenship": ["Philippines", "Atlantis"]})
    frame.to_excel(tmp_path / "cases.ods", engine="odf", index=False)
    result = ingest_file(tmp_path / "cases.ods", SMALL, identity_key=KEY)
    assert result.read_info["format"] == "ods"
    assert result.report.flatten() == [(3, "citizenship", "unknown-country")]
    assert result.records["gender"].to_list() == ["female"]
