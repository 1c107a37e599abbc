"""The codebook pages and downloads (issue 5), through Django's test client."""

import io
import re
import zipfile

import pytest

from ctdc.standard import load_standard


def _html(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_index_links_every_dataset_type_and_field(client):
    html = _html(client, "/codebook/")
    for ds in load_standard().datasets.values():
        assert f'href="/codebook/{ds.name}/?lang=en"' in html
        for f in ds.fields:
            assert f'href="/codebook/{ds.name}/{f.name}/?lang=en"' in html


def test_pages_carry_no_inline_style_or_script_so_the_portals_csp_holds(client):
    for url in (
        "/codebook/",
        "/codebook/victims/",
        "/codebook/victims/gender/",
        "/codebook/codelists/country/",
    ):
        html = _html(client, url)
        assert "<script" not in html and "<style" not in html and not re.search(r"\sstyle=", html), url


def test_the_search_finds_fields_in_any_language(client):
    html = _html(client, "/codebook/?q=nationalit%C3%A9&lang=fr")
    assert 'href="/codebook/victims/citizenship/?lang=fr"' in html
    assert "Aucun champ" not in html
    assert "Aucun champ ne correspond." in _html(client, "/codebook/?q=zzzz&lang=fr")


def test_the_language_switch_keeps_the_page_and_the_query(client):
    html = _html(client, "/codebook/?q=gender")
    assert (
        'href="/codebook/?q=gender&amp;lang=fr"' in html and 'href="/codebook/?q=gender&amp;lang=es"' in html
    )


@pytest.mark.parametrize(("lang", "title", "label"), [("en", "Gender", "Female"), ("fr", "Genre", "Femme"),
                                                     ("es", "Género", "Mujer")])  # fmt: skip
def test_a_field_page_shows_labels_values_role_and_sources_in_the_chosen_language(client, lang, title, label):
    html = _html(client, f"/codebook/victims/gender/?lang={lang}")
    assert f'<html lang="{lang}">' in html and f"<h1>{title} <code>victims.gender</code></h1>" in html
    assert label in html and "Femme" in html and "Mujer" in html  # the values table shows all three
    assert "prs_Gender" in html and "ageBroad" not in html and "quasi_identifier" in html


def test_a_country_field_links_to_the_full_code_list(client):
    html = _html(client, "/codebook/victims/citizenship/")
    assert 'href="/codebook/codelists/country/?lang=en"' in html
    assert _html(client, "/codebook/codelists/country/?lang=es").count("<tr>") == 251


def test_unknown_dataset_field_or_code_list_is_a_404(client):
    assert client.get("/codebook/victimz/").status_code == 404
    assert client.get("/codebook/victims/nope/").status_code == 404
    assert client.get("/codebook/codelists/nope/").status_code == 404
    assert client.get("/codebook/download/pdf").status_code == 404


@pytest.mark.parametrize("fmt", ["html", "csv", "xlsx", "json", "datapackage"])
def test_every_export_format_downloads_as_an_attachment(client, fmt):
    response = client.get(f"/codebook/download/{fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content)
    if fmt == "datapackage":
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert "datapackage.json" in names and "victims.csv" in names
    else:
        assert len(body) > 1000


def test_contributor_templates_download(client):
    for url in ("/codebook/template/xlsx", "/codebook/template/xlsform?dataset=perpetrators"):
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"
    assert client.get("/codebook/template/xlsform?dataset=nope").status_code == 404
