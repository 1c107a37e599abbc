"""The perpetrator page in a real browser (Debian's Chromium, Playwright), from a published perpetrators release of
the public CTDC victim-perpetrator layout; its screenshot is saved for people to look at."""

import pytest

from ctdc.fixtures import ctdc_vp
from tests.web.browser import SHOTS, portal_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_perpetrator_page_shows_roles_relations_and_regions_from_the_published_release(live_server, run_cli,
                                                                                          tmp_path):
    vp = tmp_path / "ctdc-vp-simulated.csv"
    vp.write_text(ctdc_vp.text(ctdc_vp.simulate(1500, seed=7)), encoding="ascii")
    run_cli("org", "create", "ctdc-public", "--name", "CTDC public data")
    assert run_cli("ingest", str(vp), "--org", "ctdc-public", "--approve").exit_code == 0
    built = run_cli("release", "build", "--dataset", "perpetrators", "--method", "dp-synthetic", "--k", "2",
                    "--publish")
    assert built.exit_code == 0, built.output
    with portal_page() as (page, errors):
        page.goto(live_server.url + "/perpetrators/")
        assert "at most 3 links" in page.locator("#perpetrators-unit").inner_text()
        for section in ("#perpetrators-roles", "#perpetrators-relations", "#perpetrators-by-region"):
            assert page.locator(section).is_visible(), section
        # Counts above the threshold are shown: the roles' table has a row per role group.
        assert page.locator("#perpetrators-roles tbody tr").count() == 4
        assert page.locator("#perpetrators-by-region h3").count() >= 1
        page.screenshot(path=str(SHOTS / "perpetrators.png"), full_page=True)
        assert errors == []
