"""`ctdc codebook export`: every format is written from the standard; the Data Package passes frictionless."""

import csv
import json
from html.parser import HTMLParser

import pytest
from frictionless import validate
from openpyxl import load_workbook

from ctdc.errors import CodebookError
from ctdc.standard import load_standard
from ctdc.standard.codebook import export
from ctdc.standard.codebook.html_export import field_anchor

N_FIELDS = sum(len(ds.fields) for ds in load_standard().datasets.values())


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.hrefs = set(), set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.hrefs.add(a["href"][1:])


def test_the_html_codebook_has_a_working_table_of_contents_and_every_field(tmp_path):
    text = export("html", tmp_path / "codebook.html").read_text(encoding="utf-8")
    parser = _Anchors()
    parser.feed(text)
    assert parser.hrefs <= parser.ids
    std = load_standard()
    for ds in std.datasets.values():
        assert f"ds-{ds.name}" in parser.hrefs
        for f in ds.fields:
            assert field_anchor(ds.name, f.name) in parser.ids
    assert "Quasi-identifier" in text and "Direct identifier" in text
    assert "Debt bondage" in text and "Servidumbre por deudas" in text
    assert "licensed under CC BY 4.0" in text and "@media print" in text
    assert "<script" not in text and "http://" not in text.replace("https://", "")


def test_the_html_codebook_can_be_written_in_french(tmp_path):
    text = export("html", tmp_path / "codebook.html", lang="fr").read_text(encoding="utf-8")
    assert '<html lang="fr">' in text and "Sommaire" in text and "Quasi-identifiant" in text
    assert "Nationalité" in text


def test_the_csv_dictionary_has_one_row_per_field_with_labels_roles_and_sources(tmp_path):
    with open(export("csv", tmp_path / "codebook.csv"), encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == N_FIELDS
    gender = next(r for r in rows if (r["dataset"], r["field"]) == ("victims", "gender"))
    assert gender["label_es"] == "Género" and gender["role"] == "quasi_identifier"
    assert gender["htcds_2_0"] == "prs_Gender" and gender["ctdc_public_k_anonymized"] == "gender"
    assert gender["values"].startswith("female=Female | male=Male")


def test_the_xlsx_dictionary_has_fields_values_and_the_htcds_fields_not_kept(tmp_path):
    wb = load_workbook(export("xlsx", tmp_path / "codebook.xlsx"), read_only=True)
    assert wb.sheetnames == ["README", "Fields", "Values", "HTCDS not kept"]
    assert wb["Fields"].max_row == N_FIELDS + 1
    values = {(r[0], r[1]): r[2:] for r in wb["Values"].iter_rows(min_row=2, values_only=True)}
    assert values[("gender", "female")] == ("Female", "Femme", "Mujer")


def test_the_json_export_holds_the_whole_standard(tmp_path):
    data = json.loads(export("json", tmp_path / "codebook.json").read_text(encoding="utf-8"))
    assert data["version"] == load_standard().version
    assert [d["name"] for d in data["datasets"]] == list(load_standard().datasets)
    assert len(data["codelists"]["country"]["codes"]) == 250
    sector = next(c for c in data["codelists"]["labour_sector"]["codes"] if c["code"] == "hospitality")
    assert sector["isic"] == ["I"] and sector["labels"]["fr"] == "Hôtellerie et restauration"


def test_the_data_package_validates_with_frictionless(tmp_path):
    descriptor = export("datapackage", tmp_path / "dp")
    report = validate(str(descriptor))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert len(report.tasks) == len(load_standard().datasets)


def _victims_rows(tmp_path, row, dataset="victims"):
    descriptor = export("datapackage", tmp_path / "dp")
    names = load_standard().dataset(dataset).field_names
    with open(tmp_path / "dp" / f"{dataset}.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow([row.get(n, "") for n in names])
    return validate(str(descriptor))


def test_a_valid_victim_row_passes_the_table_schema(tmp_path):
    row = {"victim_id": "v1", "registration_year": "2020", "gender": "female", "age_band": "9-17",
           "exploitation_types": "forced_labour;sexual_exploitation", "is_abduction": "no", "citizenship": "PH"}  # fmt: skip
    report = _victims_rows(tmp_path, row)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_unknown_codes_and_missing_required_values_fail_the_table_schema(tmp_path):
    row = {"victim_id": "v1", "gender": "f", "exploitation_types": "forced_labour;flying"}
    report = _victims_rows(tmp_path, row)
    assert not report.valid
    errors = sorted((e[0], e[1]) for e in report.flatten(["fieldName", "type"]))
    # No registration year is fine (standard 0.3.0: no victims field is required); the unknown codes are not.
    assert errors == [
        ("exploitation_types", "constraint-error"),
        ("gender", "constraint-error"),
    ]
    fee = _victims_rows(tmp_path / "fees", {"fee_id": "f1", "victim_id": "v1", "currency": "USD"},
                        dataset="recruitment_fees")
    assert ("amount", "constraint-error") in [(e[0], e[1]) for e in fee.flatten(["fieldName", "type"])]


def test_an_unknown_format_is_a_codebook_error(tmp_path):
    with pytest.raises(CodebookError):
        export("pdf", tmp_path / "x.pdf")
