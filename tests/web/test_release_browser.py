"""The data catalogue and release pages in a real browser: Debian's Chromium driven by Playwright (never
`playwright install`). Pages for people (issue 15, item 10): which release to use for what, a report a journalist
can read (no JSON, no red "failed" on a published release), `/data/<dataset>/latest/`, the terms as a page, one zip
per release, downloads saved under their datapackage.json paths (a package saved from the browser validates),
numbers in the reader's language; axe-core on every page; screenshots in var/screenshots/.
"""

import json
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from frictionless import validate

from ctdc.web.accounts.services import steward_ensure
from ctdc.web.releases.models import Release
from tests.web.browser import SHOTS, chromium_page
from tests.web.test_browser import _axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
METHODS = ("k-anonymity", "k-synthetic", "dp-synthetic")
RAW = re.compile(r"[{}\[\]]|': |\": |\bTrue\b|\bFalse\b|\bNone\b|\d\.\d{5,}")  # JSON, Python reprs, raw floats


@pytest.fixture
def releases(run_cli, simulated) -> dict[str, Release]:
    folder, _ = simulated
    run_cli("org", "create", "open-roads", "--name", "Open Roads")
    run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve")
    for method in METHODS:
        assert run_cli("release", "build", "--method", method, "--publish").exit_code == 0
    steward_ensure(username="steward", password="pw-steward-1")
    return {r.method: r for r in Release.objects.all()}


def test_release_pages_read_as_reports_and_a_package_saved_from_the_browser_validates(live_server, releases,
                                                                                       tmp_path):
    base = live_server.url
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        outside, errors = [], []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _check_catalogue(base, page, releases)
        for method, release in releases.items():
            _check_report(base, page, release, method)
        _check_terms_and_downloads(base, page, releases["k-synthetic"], tmp_path)
        _check_languages(base, page, releases["k-synthetic"])
        _check_steward_report(base, page, releases["k-anonymity"])
        assert outside == [] and errors == []


def _check_catalogue(base, page, releases):
    page.goto(base + "/data/")
    guide = page.locator("#which-release")
    assert guide.locator(".use").count() == 5  # figures, then one per method (as-published included)
    assert "None published yet." in guide.locator("#use-as-published").inner_text()
    assert "dashboards" in guide.locator("#use-figures").inner_text()
    for method, release in releases.items():
        use = guide.locator(f"#use-{method}")
        assert "Use it for:" in use.inner_text() and "Limits:" in use.inner_text()
        assert use.locator("a").get_attribute("href") == f"/data/victims/{release.version}/"
    assert page.locator("article.release").count() == 3
    assert [m.get_attribute("data-method") for m in page.locator("dd.method").all()] == list(reversed(METHODS))
    assert "k = 11" in page.locator("article.release").last.inner_text()
    assert page.locator("#terms-box").is_visible()
    assert _axe(page) == []
    page.screenshot(path=str(SHOTS / "data.png"), full_page=True)
    # /data/victims/latest/ is the newest published release's page.
    page.goto(base + "/data/victims/latest/")
    assert page.url == base + f"/data/victims/{releases['dp-synthetic'].version}/"


def _check_report(base, page, release, method):
    page.goto(base + f"/data/victims/{release.version}/")
    main = page.locator("main").inner_text()
    assert not RAW.findall(main), (method, RAW.findall(main)[:5])  # no JSON, dict or raw float for a reader
    assert "failed" not in main.lower() and page.locator("td.fail").count() == 0
    assert "Cite as:" in main
    report = json.loads((Path(settings.CTDC_RELEASES_DIR) / release.path / "report.json").read_text())
    rows = report["release"]["records"]
    assert f"{rows:,} rows" in page.locator("#in-short").inner_text()
    if method == "dp-synthetic":
        assert "differential privacy" in page.locator("#checks").inner_text()
    else:
        assert page.locator("table.checks td.pass").count() == len(report["checks"]) == 3
        assert "required for publication" in page.locator("table.checks").inner_text()
    if method != "k-anonymity":  # the synthetic rows against the published counts: one labelled row per length
        table = page.locator("#section-synthetic_rows_vs_published table").first
        assert table.locator("tbody tr").count() == 3
        two = report["engine"]["synthetic_rows_vs_published"]["2"]["original_combinations"]
        assert table.locator("tbody tr").nth(1).locator("td").nth(1).inner_text() == f"{two:,}"
    assert _axe(page) == [], method
    page.screenshot(path=str(SHOTS / f"data-report-{method}.png"), full_page=True)


def _check_terms_and_downloads(base, page, release, tmp_path):
    # The terms are a page, not Markdown source.
    page.goto(base + "/data/terms/")
    terms = page.locator("article.terms")
    assert terms.locator("h1").inner_text() == "Terms of use" and terms.locator("ol > li").count() == 5
    assert "**" not in terms.inner_text() and "# " not in terms.inner_text()
    assert _axe(page) == []
    page.screenshot(path=str(SHOTS / "data-terms.png"), full_page=True)
    # The first download asks for the terms, then goes on.
    page.goto(base + f"/data/victims/{release.version}/")
    with page.expect_navigation():
        page.locator("#files a.button").click()
    assert "/data/terms/" in page.url
    with page.expect_download() as dl:
        page.locator("#accept-terms").click()
    zipped = dl.value
    assert zipped.suggested_filename == f"ctdc-victims-{release.version}.zip"
    zipped.save_as(tmp_path / zipped.suggested_filename)
    with zipfile.ZipFile(tmp_path / zipped.suggested_filename) as zf:
        zf.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / f"ctdc-victims-{release.version}"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f["name"] for f in release.files)
    assert validate(folder / "datapackage.json").valid
    # One file at a time: each saved under the name the browser suggests, the path datapackage.json gives it.
    page.goto(base + f"/data/victims/{release.version}/")
    descriptor = json.loads((folder / "datapackage.json").read_text())
    saved = tmp_path / "saved"
    saved.mkdir()
    for name in ["datapackage.json", *(r["path"] for r in descriptor["resources"])]:
        with page.expect_download() as dl:
            page.locator(f"#files a[href$='/files/{name}']").click()
        assert dl.value.suggested_filename == name
        dl.value.save_as(saved / dl.value.suggested_filename)
    report = validate(saved / "datapackage.json")
    assert report.valid, report.flatten(["type", "note"])[:5]


def _check_languages(base, page, release):
    """Numbers follow the reader's language: 3,522 / 3 522 / 3.522."""
    report = json.loads((Path(settings.CTDC_RELEASES_DIR) / release.path / "report.json").read_text())
    three = report["engine"]["synthetic_rows_vs_published"]["3"]["original_combinations"]
    assert three >= 1000
    for lang, sep, heading in (("fr", "\u202f", "Quelle publication utiliser ?"),
                               ("es", ".", "¿Qué publicación usar?")):
        page.goto(base + f"/data/victims/{release.version}/")
        with page.expect_navigation():
            page.locator(f"nav.language a[lang={lang}]").click()
        cell = page.locator("#section-synthetic_rows_vs_published table").first.locator("tbody tr").nth(2)
        assert cell.locator("td").nth(1).inner_text() in (f"{three:,}".replace(",", sep),
                                                          f"{three:,}".replace(",", "\xa0"))
        assert _axe(page) == [], lang
        page.screenshot(path=str(SHOTS / f"data-report-{lang}.png"), full_page=True)
        page.goto(base + "/data/")
        assert page.locator("#which-release-title").inner_text() == heading
    page.goto(base + "/language/en/?next=/data/")


def _check_steward_report(base, page, report):
    """The public report has no input counts; a steward, logged in, reads them on the steward report."""
    page.goto(base + f"/data/victims/{report.version}/")
    assert "For data stewards only" not in page.content()
    page.goto(base + f"/accounts/login/?next=/data/steward/victims/{report.version}/")
    page.fill("#id_username", "steward")
    page.fill("#id_password", "pw-steward-1")
    with page.expect_navigation():
        page.locator("form [type=submit]").first.click()
    assert "For data stewards only" in page.content()
    records = page.locator("#records dt", has_text="Records").first
    assert records.is_visible() and f"{report.input_count:,}" in page.content()
    page.screenshot(path=str(SHOTS / "data-steward-report.png"), full_page=True)
