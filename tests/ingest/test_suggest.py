from pathlib import Path

import yaml

from ctdc.ingest.mapping import parse_mapping
from ctdc.ingest.pipeline import ingest_file
from ctdc.ingest.suggest import suggest_mapping

DATA = Path(__file__).parent.parent / "data"


def test_columns_are_matched_by_name_in_french_and_english(simulated):
    folder, _ = simulated
    suggested = suggest_mapping(folder / "lakeside-helpline.csv")
    spec = yaml.safe_load(suggested.yaml)
    assert spec["record_id"] == "N° dossier"
    assert spec["reader"] == {"format": "csv", "delimiter": ";", "encoding": "cp1252"}
    fields = {col: m["field"] for col, m in spec["columns"].items()}
    assert fields == {
        "Date appel": "registration_date", "Nom complet": "full_name", "Date de naissance": "birth_date",
        "Âge": "age", "Téléphone": "phone", "Sexe": "gender", "Nationalité": "citizenship",
        "Pays d'exploitation": "country_of_exploitation", "Type d'exploitation": "exploitation_types",
        "Secteur": "labour_sectors", "Moyens de contrôle": "means_of_control", "Lien recruteur": "recruiter_relations",
        "Enlèvement": "is_abduction", "Durée": "trafficking_duration", "Résumé": "narrative",
    }
    # Values are suggested only where they resemble a code; the rest are left for a person to decide.
    assert spec["columns"]["Moyens de contrôle"]["values"]["DETTE"] == "debt_bondage"
    assert "EXP-TRAV" not in (spec["columns"]["Type d'exploitation"].get("values") or {})


def test_the_htcds_label_row_is_recognised_and_skipped(simulated):
    folder, _ = simulated
    spec = yaml.safe_load(suggest_mapping(folder / "harbour-light.xlsx").yaml)
    assert spec["reader"]["skip_rows"] == 1 and spec["record_id"] == "Case ID"
    assert spec["columns"]["prs_Citizenship"]["field"] == "citizenship"


def test_columns_without_a_telling_name_are_matched_by_their_values(tmp_path):
    (tmp_path / "f.csv").write_text("c1,c2,c3\nPhilippines,2019-01-02,x\nUkraine,2020-02-03,y\nPHL,2021-03-04,z\n")
    spec = yaml.safe_load(suggest_mapping(tmp_path / "f.csv").yaml)
    assert spec["columns"] == {"c1": {"field": "citizenship"}, "c2": {"field": "registration_date"}}


def test_a_suggestion_is_a_valid_spec_that_ingests(simulated):
    folder, _ = simulated
    text = suggest_mapping(DATA / "problems.csv").yaml
    result = ingest_file(DATA / "problems.csv", parse_mapping(text), identity_key=b"k")
    assert result.report.stats["rows_read"] == 6 and result.report.stats["accepted"] >= 1


def test_the_separator_of_multi_valued_columns_is_suggested(simulated, tmp_path):
    folder, _ = simulated
    hotline = yaml.safe_load(suggest_mapping(folder / "lakeside-helpline.csv").yaml)["columns"]
    assert hotline["Moyens de contrôle"]["separator"] == "|"
    assert "separator" not in hotline["Secteur"]  # "Travail domestique" is one value, not two
    (tmp_path / "kobo.csv").write_text("_uuid,means_of_control\na,threats false_promises\nb,debt_bondage\nc,threats\n")
    kobo = yaml.safe_load(suggest_mapping(tmp_path / "kobo.csv").yaml)["columns"]
    assert kobo["means_of_control"]["separator"] == " "
