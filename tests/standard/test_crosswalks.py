"""Crosswalks: every HTCDS 2.0 field is accounted for; the public CTDC layouts read and write back (issue 5)."""

import csv
from pathlib import Path

import pytest

from ctdc.errors import CodebookError
from ctdc.standard import load_standard
from ctdc.standard.crosswalk import FieldMapping, load_field_crosswalk, load_layout

HTCDS = Path(__file__).parent / "data" / "htcds"  # unchanged copies of the HTCDS 2.0 sheets (CC BY 4.0)


def _read(name):
    with open(HTCDS / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def htcds_fields():
    return [r["Field Name Prefix"] + r["Field Name"] for r in _read("fields.csv")]


def test_every_htcds_field_is_mapped_or_deliberately_not_kept_exactly_once(htcds_fields):
    cw = load_field_crosswalk("htcds-2.0")
    assert len(htcds_fields) == 84
    assert sorted(cw.sources) == sorted(htcds_fields)
    assert all(len(n.reason) >= 10 for n in cw.not_kept)


def test_every_htcds_picklist_value_has_a_ctdc_code_or_is_explicitly_not_recorded():
    cw = load_field_crosswalk("htcds-2.0")
    picklists: dict[str, list[str]] = {}
    for r in _read("picklist_values.csv"):
        picklists.setdefault(r["field"], []).append(r["value_name"])
    for source, values in picklists.items():
        m = cw.mapping(source)
        if isinstance(m, FieldMapping):
            assert sorted(m.values) == sorted(values), source


def test_the_htcds_crosswalk_points_only_at_fields_and_codes_the_standard_defines():
    assert load_field_crosswalk("htcds-2.0").problems(load_standard()) == []


def test_the_htcds_crosswalk_carries_the_cc_by_attribution():
    attribution = load_field_crosswalk("htcds-2.0").source["attribution"]
    assert "HTCDS) 2.0 by IOM" in attribution and "CC BY 4.0" in attribution and "3c2f653" in attribution


def test_htcds_sources_are_attached_to_the_ctdc_fields():
    victims = load_standard().dataset("victims")
    assert victims.field("labour_sectors_isic").sources["htcds-2.0"] == ("vic_ForcedLabourIndustry",)
    assert victims.field("full_name").sources["htcds-2.0"] == (
        "prs_FirstName",
        "prs_MiddleName",
        "prs_SecondName",
    )


K_ANON_HEADER = (
    "yearOfRegistration Datasource gender ageBroad majorityStatus majorityStatusAtExploit majorityEntry citizenship "
    + " ".join(
        "meansOfControl" + n
        for n in [
            "DebtBondage",
            "TakesEarnings",
            "RestrictsFinancialAccess",
            "Threats",
            "PsychologicalAbuse",
            "PhysicalAbuse",
            "SexualAbuse",
            "FalsePromises",
            "PsychoactiveSubstances",
            "RestrictsMovement",
            "RestrictsMedicalCare",
            "ExcessiveWorkingHours",
            "UsesChildren",
            "ThreatOfLawEnforcement",
            "WithholdsNecessities",
            "WithholdsDocuments",
            "Other",
            "NotSpecified",
            "Concatenated",
        ]
    )
    + " isForcedLabour isSexualExploit isOtherExploit isSexAndLabour isForcedMarriage isForcedMilitary "
    "isOrganRemoval isSlaveryAndPractices typeOfExploitConcatenated "
    + " ".join(
        "typeOfLabour" + n
        for n in [
            "Agriculture",
            "Aquafarming",
            "Begging",
            "Construction",
            "DomesticWork",
            "Hospitality",
            "IllicitActivities",
            "Manufacturing",
            "MiningOrDrilling",
            "Peddling",
            "Transportation",
            "Other",
            "NotSpecified",
            "Concatenated",
        ]
    )
    + " typeOfSexProstitution typeOfSexPornography typeOfSexRemoteInteractiveServices "
    "typeOfSexPrivateSexualServices typeOfSexConcatenated isAbduction RecruiterRelationship CountryOfExploitation "
    "recruiterRelationIntimatePartner recruiterRelationFriend recruiterRelationFamily recruiterRelationOther "
    "recruiterRelationUnknown"
).split()


def test_the_k_anonymized_layout_has_the_63_published_columns_in_file_order():
    layout = load_layout("ctdc-public-k-anonymized")
    assert len(K_ANON_HEADER) == 63
    assert layout.header == tuple(K_ANON_HEADER)
    assert (layout.delimiter, layout.notice_column, layout.flag_false) == (";", True, "0")


def test_the_synthetic_layout_has_27_columns_and_accepts_the_renamed_sector_columns():
    layout = load_layout("ctdc-public-synthetic")
    assert len(layout.header) == 27
    rec = layout.read_row({"sectorOfLabourAgriculture": "1", "typeOfLabourConstruction": ""})
    assert rec["labour_sectors"] == ("agriculture",)


@pytest.mark.parametrize("name", ["ctdc-public-k-anonymized", "ctdc-public-synthetic"])
def test_the_public_layouts_point_only_at_fields_and_codes_the_standard_defines(name):
    assert load_layout(name).problems(load_standard()) == []


VICTIM = {
    "registration_year": 2019,
    "data_source": "hotline",
    "gender": "female",
    "age_band": "9-17",
    "majority_status": "minor",
    "majority_status_at_exploitation": "minor",
    "majority_status_at_entry": "minor",
    "citizenship": "PH",
    "means_of_control": ("debt_bondage", "threats", "not_specified"),
    "exploitation_types": ("forced_labour", "sexual_exploitation"),
    "labour_sectors": ("domestic_work",),
    "sexual_exploitation_types": (),
    "is_abduction": False,
    "recruiter_relations": ("family",),
    "country_of_exploitation": "MY",
}


def test_a_victim_written_in_the_k_anonymized_layout_reads_back_unchanged():
    layout = load_layout("ctdc-public-k-anonymized")
    row = layout.write_record(VICTIM)
    assert row["ageBroad"] == "9--17" and row["isSexAndLabour"] == "1" and row["typeOfSexProstitution"] == "0"
    assert row["typeOfExploitConcatenated"] == (
        "Forced labour;Sexual exploitation;Combined sexual and labour exploitation"
    )
    assert row["RecruiterRelationship"] == "Family/Relative"
    assert layout.read_row(row) == VICTIM


def test_a_victim_written_in_the_synthetic_layout_reads_back_at_the_synthetic_granularity():
    layout = load_layout("ctdc-public-synthetic")
    victim = {
        **VICTIM,
        "trafficking_duration": "13-24m",
        "means_of_control_groups": ("debt_or_earnings", "threats"),
    }
    row = layout.write_record(victim)
    assert (row["citizenship"], row["ageBroad"], row["gender"]) == ("PHL", "09--17", "Woman")
    assert row["typeOfSexProstitution"] == "" and row["meansThreats"] == "1"
    back = layout.read_row(row)
    assert back["citizenship"] == "PH" and back["means_of_control_groups"] == ("debt_or_earnings", "threats")
    assert back["trafficking_duration"] == "13-24m" and back["sexual_exploitation_types"] is None


def test_an_empty_flag_group_reads_as_not_recorded_and_a_zero_group_as_none():
    layout = load_layout("ctdc-public-k-anonymized")
    assert layout.read_row({})["means_of_control"] is None
    zeros = {
        c: "0" for c in K_ANON_HEADER if c.startswith("meansOfControl") and c != "meansOfControlConcatenated"
    }
    assert layout.read_row(zeros)["means_of_control"] == ()


def test_an_unknown_spelling_in_a_coded_column_is_an_error_naming_the_column():
    with pytest.raises(CodebookError) as err:
        load_layout("ctdc-public-k-anonymized").read_row({"ageBroad": "9-17"})
    assert err.value.extra == {"layout": "ctdc-public-k-anonymized", "column": "ageBroad"}


def test_the_victim_perpetrator_layout_has_its_16_columns_and_points_at_real_fields_levels_and_codes():
    from ctdc.standard.crosswalk import load_export_layout

    layout = load_export_layout()
    assert layout.header == (
        "yearRegister", "gender", "majorityStatus", "isForcedLabour", "isSexualExploit", "UN_COO_Region",
        "UN_COE_Region", "IP_Exploiter", "IP_Gender", "IP_ageBroad", "IP_citizen_UNRegion", "IP_Relation",
        "IP_PayMoney", "IP_RecruiterBroker", "IP_TransactionProcess", "IP_ControlAbuseKidnap",
    )  # fmt: skip
    assert layout.problems(load_standard()) == []
    used = {c["role_group"] for c in layout.columns if "role_group" in c}
    groups = {
        e.extra["ctdc_group"]
        for e in load_standard().codelist("perpetrator_role").entries
        if "ctdc_group" in e.extra
    }
    assert used == groups
    assert load_standard().dataset("perpetrators").field("age_band").sources[
        "ctdc-public-victim-perpetrator"
    ] == ("IP_ageBroad",)


def test_a_victim_perpetrator_column_at_a_level_outside_the_fields_hierarchy_is_reported():
    from dataclasses import replace

    from ctdc.standard.crosswalk import load_export_layout

    layout = load_export_layout()
    broken = replace(layout, columns=({"column": "gender", "source": "victims.gender", "level": "region"},))
    assert broken.problems(load_standard()) == [
        "gender: level region is not in the hierarchy of victims.gender"
    ]
