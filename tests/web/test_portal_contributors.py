"""Home's "contributing organisations by type" (issue 15, item 2): organisations, not cases, as the release states
them. Counted once per organisation with an approved submission of the dataset, whatever its number of records;
an organisation that only signed up, or contributes another dataset, is not a contributor of the victims data."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from ctdc.web.portal.selectors import portal_cache_clear
from ctdc.web.releases.models import Release
from ctdc.web.releases.selectors import release_contributors

pytestmark = pytest.mark.django_db(transaction=True)
GLOTIP = Path(__file__).resolve().parents[1] / "data" / "unodc-glotip-quirks.xlsx"


def _home_contributors(html: str) -> tuple[str, list[tuple[str, str]]]:
    box = html[html.index('id="fig-contributors"'):]
    box = box[:box.index("</div>")]
    total = re.search(r'class="number">([^<]+)<', box).group(1)
    return total, re.findall(r'<li data-kind="([a-z_]+)">([^<]+)</li>', box)


def test_home_counts_contributing_organisations_by_type_as_the_release_states_them(run_cli, simulated, client):
    folder, _ = simulated
    for slug, kind in (("lakeside-helpline", "hotline"), ("open-roads", "case_management"),
                       ("harbour-light", "case_management"), ("new-shelter", "case_management")):
        assert run_cli("org", "create", slug, "--name", slug.title(), "--kind", kind).exit_code == 0
    run_cli("org", "create", "unodc", "--name", "UNODC (public data)", "--kind", "hotline")
    for args in (("lakeside-helpline.csv", "--org", "lakeside-helpline", "--mapping",
                  str(folder / "lakeside-helpline.mapping.yml")), ("open-roads.csv", "--org", "open-roads"),
                 ("harbour-light.xlsx", "--org", "harbour-light")):
        assert run_cli("ingest", str(folder / args[0]), *args[1:], "--approve", "--json").exit_code == 0
    # A second approved file of the same organisation does not make it two contributors.
    (folder / "open-roads-again.csv").write_text(
        "\n".join((folder / "open-roads.csv").read_text(encoding="utf-8").splitlines()[:30]) + "\n", encoding="utf-8")
    assert run_cli("ingest", str(folder / "open-roads-again.csv"), "--org", "open-roads", "--approve",
                   "--json").exit_code == 0
    # Validated but not approved: not (yet) a contributor.
    assert run_cli("ingest", str(folder / "open-roads.csv"), "--org", "new-shelter", "--json").exit_code == 0
    # Government-response figures are another dataset.
    assert run_cli("ingest", str(GLOTIP), "--dataset", "government_response", "--preset", "unodc-glotip",
                   "--org", "unodc", "--approve", "--json").exit_code == 0
    assert release_contributors(dataset="victims") == {"case_management": 2, "hotline": 1}

    assert run_cli("release", "build", "--publish").exit_code == 0
    release = Release.objects.get(dataset="victims")
    folder = Path(settings.CTDC_RELEASES_DIR) / release.path
    stated = {"case_management": 2, "hotline": 1}
    assert json.loads((folder / "metadata.json").read_text())["contributors_by_type"] == stated
    assert json.loads((folder / "summary.json").read_text())["contributors_by_type"] == stated
    assert "Contributing organisations (organisations, not records): 3 organisations: 2 case management, " \
           "1 hotline." in (folder / "report.html").read_text()

    portal_cache_clear()
    html = client.get("/").content.decode()
    assert _home_contributors(html) == ("3", [("case_management", "2 case-management organisations"),
                                             ("hotline", "1 hotline")])
    report = client.get(f"/data/victims/{release.version}/").content.decode()
    assert re.search(r'id="contributors">3: 2 case-management organisations, 1 hotline<', report)

    # In French and Spanish, words and numbers in the reader's language.
    client.cookies["django_language"] = "fr"
    portal_cache_clear()
    assert _home_contributors(client.get("/").content.decode()) == (
        "3", [("case_management", "2 organisations de prise en charge"), ("hotline", "1 ligne d’assistance")])
    client.cookies["django_language"] = "es"
    portal_cache_clear()
    assert _home_contributors(client.get("/").content.decode()) == (
        "3", [("case_management", "2 organizaciones de gestión de casos"),
              ("hotline", "1 línea de ayuda")])


def test_a_release_that_states_no_contributors_shows_no_such_figure(run_cli, simulated, client):
    folder, _ = simulated
    run_cli("org", "create", "harbour-light", "--name", "Harbour Light")
    run_cli("ingest", str(folder / "harbour-light.xlsx"), "--org", "harbour-light", "--approve")
    assert run_cli("release", "build", "--publish").exit_code == 0
    release = Release.objects.get()
    Release.objects.filter(pk=release.pk).update(summary={k: v for k, v in release.summary.items()
                                                          if k != "contributors_by_type"})
    portal_cache_clear()
    html = client.get("/").content.decode()
    assert 'id="fig-cases"' in html and 'id="fig-contributors"' not in html
