"""The public "Contribute data" page and its template agreement: reachable from the navigation, every download
works, the identifiers it lists are the standard's, and it fits the window."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from ctdc.standard import load_standard
from tests.web.browser import SHOTS, chromium_page

pytestmark = pytest.mark.django_db


def test_the_page_lists_the_standards_identifiers_and_every_download_works(client):
    response = client.get("/contribute/")
    assert response.status_code == 200
    html = response.content.decode()
    victims = load_standard().dataset("victims")
    for field in victims.fields:
        if field.role == "direct_identifier":
            assert field.label.lower() in html, field.name
    links = re.findall(r'href="(/codebook/(?:template|download)/[^"]+)"', html)
    assert {"/codebook/template/xlsx", "/codebook/template/xlsform"} <= set(links) and len(links) >= 7
    for link in links:
        download = client.get(link)
        assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment"), link
        assert len(b"".join(download.streaming_content)) > 1000, link
    assert 'href="/contribute/agreement/"' in html and "/codebook/" in html


def test_the_agreement_says_plainly_it_is_a_template(client):
    html = client.get("/contribute/agreement/").content.decode()
    assert "This is a template, not a contract" in html and "not legal advice" in html
    assert html.count('class="placeholder"') > 10


def test_the_contact_address_is_shown_when_set(client, settings):
    assert "mailto:" not in client.get("/contribute/").content.decode()
    settings.CTDC_CONTACT_EMAIL = "data@host.example"
    assert 'href="mailto:data@host.example"' in client.get("/contribute/").content.decode()


@pytest.mark.browser
def test_contribute_is_linked_from_the_navigation_and_fits_the_window(live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        page.goto(live_server.url + "/")
        page.click("header.site nav >> text=Contribute data")
        page.wait_for_selector("#contribute")
        assert page.url == live_server.url + "/contribute/"
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(SHOTS / f"contribute-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("#agreement-link")
        page.wait_for_selector("#template-banner")
        assert "template" in page.locator("#template-banner").inner_text().lower()
        page.screenshot(path=str(SHOTS / "contribute-agreement.png"), full_page=True)


def test_the_page_and_the_codebook_follow_the_readers_language(client):
    client.cookies["django_language"] = "fr"
    html = client.get("/contribute/").content.decode()
    assert "<h1>Contribuer des données</h1>" in html and "Ce qu'il advient de vos données" in html
    victims = load_standard().dataset("victims")
    for field in victims.fields:
        if field.role == "direct_identifier":
            assert escape(field.label_in("fr").lower()) in html, field.name
    assert 'lang="fr"' in client.get("/codebook/").content.decode()  # no ?lang: the portal's language
    assert 'lang="es"' in client.get("/codebook/?lang=es").content.decode()  # ?lang wins
    client.cookies["django_language"] = "es"
    assert "<h1>Aportar datos</h1>" in client.get("/contribute/").content.decode()


def test_a_language_prefix_opens_any_page_in_that_language_and_never_leaves_the_site(client):
    # What people paste into e-mails: ctdc.example/fr/contribute/ (the pages themselves have one address).
    response = client.get("/fr/contribute/?from=newsletter")
    assert response.status_code == 302 and response["Location"] == "/contribute/?from=newsletter"
    assert response.cookies["django_language"].value == "fr"
    assert "<h1>Contribuer des données</h1>" in client.get(response["Location"]).content.decode()
    assert client.get("/es/")["Location"] == "/" and client.cookies["django_language"].value == "es"
    # Never an open redirect: doubled slashes or backslashes after the prefix stay on this site.
    for sneaky in ("/fr//evil.example/", "/fr/\\evil.example/", "/fr/%2F%2Fevil.example/"):
        location = client.get(sneaky)["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (sneaky, location)
    assert client.get("/de/contribute/").status_code == 404  # not a language of the site
