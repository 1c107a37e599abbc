"""`ctdc codebook template`: the Excel template and the XLSForm are generated from the standard and accepted."""

import shutil

import pytest
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from ctdc.errors import CodebookError
from ctdc.standard import load_standard
from ctdc.standard.codebook import template
from ctdc.standard.codebook.xlsform import xlsform_sheets


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = template("xlsx", tmp_path_factory.mktemp("tpl") / "template.xlsx")
    return load_workbook(path)


def test_the_excel_template_has_a_readme_a_sheet_per_dataset_type_and_the_lists(workbook):
    assert workbook.sheetnames == ["README", *load_standard().datasets, "Lists"]


def test_each_dataset_sheet_has_the_machine_names_in_row_1(workbook):
    for ds in load_standard().datasets.values():
        header = [c.value for c in workbook[ds.name][1]]
        assert header == list(ds.field_names)


def _validation_of(ws, column_letter):
    for dv in ws.data_validations.dataValidation:
        if str(dv.sqref).startswith(f"{column_letter}2:"):
            return dv
    raise AssertionError(f"no validation on column {column_letter}")


def test_coded_columns_get_drop_downs_from_the_code_lists(workbook):
    ws = workbook["victims"]
    names = [c.value for c in ws[1]]
    letter = ws.cell(1, names.index("gender") + 1).column_letter
    dv = _validation_of(ws, letter)
    assert dv.type == "list" and dv.formula1.startswith("'Lists'!$")
    column = dv.formula1.split("!$")[1].split("$")[0]
    lists = workbook["Lists"]
    codes = [c.value for c in lists[column][1:] if c.value]
    assert codes == list(load_standard().codelist("gender").codes)
    multi = _validation_of(ws, ws.cell(1, names.index("means_of_control") + 1).column_letter)
    assert multi.errorStyle == "information"
    year = _validation_of(ws, ws.cell(1, names.index("registration_year") + 1).column_letter)
    assert (year.type, year.formula1, year.formula2) == ("whole", "2000", "2030")


def test_age_band_cells_are_text_so_spreadsheets_do_not_turn_them_into_dates(workbook):
    ws = workbook["victims"]
    letter = ws.cell(
        1, list(load_standard().dataset("victims").field_names).index("age_band") + 1
    ).column_letter
    assert ws.column_dimensions[letter].number_format == "@"


def test_the_readme_sheet_explains_the_roles_and_carries_the_attribution(workbook):
    text = "\n".join(str(c.value) for row in workbook["README"].iter_rows() for c in row if c.value)
    assert "Direct identifier" in text and "separated by ;" in text and "CC BY 4.0" in text


@pytest.mark.parametrize("dataset", list(load_standard().datasets))
def test_the_xlsform_of_every_dataset_type_converts_with_pyxform_without_warnings(tmp_path, dataset):
    path = template("xlsform", tmp_path / f"{dataset}.xlsx", datasets=(dataset,))
    warnings: list[str] = []
    # ODK Validate (a Java program shipped with pyxform) runs too where Java is installed.
    result = convert(str(path), warnings=warnings, validate=shutil.which("java") is not None)
    assert warnings == []
    assert f"ctdc_{dataset}" in result.xform


def test_the_victims_xlsform_offers_codes_with_french_and_spanish_labels(tmp_path):
    path = template("xlsform", tmp_path / "victims.xlsx", datasets=("victims",))
    xform = convert(str(path)).xform
    assert 'lang="French (fr)"' in xform and "Travail forcé" in xform and "Trabajo forzoso" in xform
    sheets = xlsform_sheets(load_standard(), "victims")
    types = {row[1]: row[0] for row in sheets["survey"][1:]}
    assert types["exploitation_types"] == "select_multiple exploitation_type"
    assert types["gender"] == "select_one gender" and "victim_id" not in types


def test_an_xlsform_for_two_dataset_types_is_refused(tmp_path):
    with pytest.raises(CodebookError):
        template("xlsform", tmp_path / "x.xlsx", datasets=("victims", "perpetrators"))
