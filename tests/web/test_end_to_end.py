"""The foundation's thin slice, through the real CLI and the real database: simulate -> ingest -> release -> page."""

import json
import logging
import re
from pathlib import Path

import polars as pl
import pytest
from django.apps import apps
from django.conf import settings

from ctdc.fixtures.population import simulate_cases
from ctdc.ingest.identity import record_id_hash
from ctdc.web.accounts.models import Organisation
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import Submission
from ctdc.web.submissions.services import record_id_owner
from tests.conftest import SIM_CASES, SIM_SEED

pytestmark = pytest.mark.django_db


def _load_demo(run_cli, folder: Path) -> dict:
    assert run_cli("init").exit_code == 0
    for slug, kind in (("lakeside-helpline", "hotline"), ("harbour-light", "case_management"),
                       ("open-roads", "case_management")):
        assert run_cli("org", "create", slug, "--name", slug.title(), "--kind", kind).exit_code == 0
    out = {}
    for args in (
        ("lakeside-helpline.csv", "--org", "lakeside-helpline", "--mapping", str(folder / "lakeside-helpline.mapping.yml")),
        ("harbour-light.xlsx", "--org", "harbour-light"),
        ("open-roads.csv", "--org", "open-roads"),
    ):
        result = run_cli("ingest", str(folder / args[0]), *args[1:], "--approve", "--json")
        assert result.exit_code == 0, result.output
        out[args[2]] = json.loads(result.stdout)
    return out


def test_files_from_three_organisations_become_a_published_release_and_a_page(run_cli, simulated, client):
    folder, manifest = simulated
    results = _load_demo(run_cli, folder)
    for f in manifest["files"]:
        r = results[f["org"]]
        assert r["rows_read"] == r["accepted"] + r["quarantined"] + r["duplicates"] == f["rows"]
        assert r["status"] == "approved"
    assert Victim.objects.count() == sum(r["accepted"] for r in results.values())
    assert results["harbour-light"]["cross_org_flags"] > 0 and results["lakeside-helpline"]["cross_org_flags"] == 0

    result = run_cli("release", "build", "--publish", "--json")
    assert result.exit_code == 0, result.output
    release = json.loads(result.stdout)
    # The privacy unit is one person: records sharing an identity hash (no verdict yet) count once.
    people = (Victim.objects.exclude(identity_hash=None).values("identity_hash").distinct().count()
              + Victim.objects.filter(identity_hash=None).count())
    assert "input_records" not in release  # an exact fact about the input: in the steward report only
    steward = json.loads(run_cli("release", "steward-report", release["version"]).stdout)
    assert steward["input"]["records"] == people < Victim.objects.count() and release["records"] <= people
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    # The portal's figures are the release's protected aggregates (the k-rounded record count here).
    aggregates = pl.read_csv(Path(settings.CTDC_RELEASES_DIR) / "victims" / release["version"] / "aggregates.csv",
                             infer_schema=False)
    total = int(aggregates.filter(pl.col("length") == "0")["count"][0])
    assert f'id="fig-cases">{total:,}<' in html and total <= release["records"]
    assert release["summary"]["nationalities"] > 5 and release["summary"]["countries_of_exploitation"] > 5
    assert 'id="chart-exploitation_types"' in html and "Forced labour" in html


def test_re_ingesting_the_same_file_changes_no_count(run_cli, simulated):
    folder, _ = simulated
    _load_demo(run_cli, folder)
    before = (Victim.objects.count(), Submission.objects.count())
    again = run_cli("ingest", str(folder / "open-roads.csv"), "--org", "open-roads", "--approve", "--json")
    assert json.loads(again.stdout)["new"] is False
    assert (Victim.objects.count(), Submission.objects.count()) == before


def test_a_resubmitted_record_updates_instead_of_duplicating(run_cli, simulated, tmp_path):
    folder, _ = simulated
    _load_demo(run_cli, folder)
    kobo = pl.read_csv(folder / "open-roads.csv", infer_schema=False)
    first = kobo.row(0, named=True)
    changed = kobo.head(5).with_columns(pl.lit("Masculine").alias("prs_Gender"))
    changed.write_csv(tmp_path / "resubmitted.csv")
    before = Victim.objects.count()
    keys = dict(Victim.objects.values_list("pk", "victim_id"))
    result = run_cli("ingest", str(tmp_path / "resubmitted.csv"), "--org", "open-roads", "--approve", "--json")
    assert json.loads(result.stdout)["accepted"] == 5
    assert Victim.objects.count() == before
    # Stored only as a keyed hash bound to the organisation; the update found the record by it.
    assert not Victim.objects.filter(record_id=first["_uuid"]).exists()
    org = Organisation.objects.get(slug="open-roads")
    key = record_id_hash(pl.Series([first["_uuid"]]), settings.CTDC_IDENTITY_KEY.encode(), record_id_owner(org))[0]
    updated = Victim.objects.get(record_id=key, organisation=org)
    assert updated.gender == "male" and updated.submission.filename == "resubmitted.csv"
    # The repository's own key is set once, when a record first arrives: an update keeps it.
    assert dict(Victim.objects.values_list("pk", "victim_id")) == keys


def _identifiers() -> dict[str, set[str]]:
    people = simulate_cases(SIM_CASES, SIM_SEED)
    births = people["birth_date"]
    return {
        "names": set(people["full_name"].to_list()) | set(
            people.select(pl.concat_str([pl.col("last_name").str.to_uppercase(), pl.lit(" "), pl.col("first_name")]))
            .to_series().to_list()),
        "phones": set(people["phone"].to_list()),
        "births": set(births.dt.strftime("%Y-%m-%d").to_list()) | set(births.dt.strftime("%d/%m/%Y").to_list()),
    }


def _database_text() -> str:
    chunks = []
    for model in apps.get_models():
        for row in model.objects.values_list():
            chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def _files_text(root: Path) -> str:
    chunks = []
    for p in root.rglob("*"):
        if p.suffix == ".parquet":
            chunks.append(pl.read_parquet(p).write_csv())
        elif p.is_file():
            chunks.append(p.read_text(errors="ignore"))
    return "\n".join(chunks)


def test_no_name_phone_or_birth_date_reaches_the_database_releases_or_logs(run_cli, simulated, caplog):
    folder, _ = simulated
    caplog.set_level(logging.DEBUG)
    _load_demo(run_cli, folder)
    assert run_cli("release", "build", "--publish").exit_code == 0
    haystacks = {"database": _database_text(), "releases": _files_text(settings.CTDC_RELEASES_DIR),
                 "uploads": _files_text(Path(settings.MEDIA_ROOT)), "logs": caplog.text}
    assert len(haystacks["database"]) > 100_000 and "uploads" in str(settings.MEDIA_ROOT)
    ids = _identifiers()
    for where, text in haystacks.items():
        found = _leaks(text, ids)
        assert not any(found.values()), f"identifiers found in {where}: { {k: sorted(v)[:3] for k, v in found.items()} }"


_WORD = re.compile(r"[^\W\d_]+")


def _leaks(text: str, ids: dict[str, set[str]]) -> dict[str, set[str]]:
    """Identifiers of `ids` present in `text`. Candidates are extracted once (word runs, phone-shaped and
    date-shaped strings), then intersected: thousands of substring scans would take minutes. A run of words can
    only be a name where it starts with a name's first word, so only those runs are joined (every k-word run of
    the text was before: most of the leak check's time, the same answer)."""
    words = _WORD.findall(text)
    names = {" ".join(_WORD.findall(n)) for n in ids["names"]}
    sizes = {len(n.split()) for n in names}
    firsts = {n.split()[0] for n in names if n}
    grams = {" ".join(words[i:i + k]) for i, w in enumerate(words) if w in firsts for k in sizes
             if i + k <= len(words)}
    phones = set(re.findall(r"\+\d{2,3} \d{9}", text))
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}", text))
    return {"names": grams & names, "phones": phones & ids["phones"], "births": dates & ids["births"]}


def test_the_leak_search_finds_each_kind_of_identifier(simulated):
    # Guard against a search that cannot fail (a hyphenated name included, when the simulation has one).
    ids = _identifiers()
    name = max(ids["names"], key=lambda n: ("-" in n, len(n)))
    phone, born = (sorted(ids[k])[0] for k in ("phones", "births"))
    found = _leaks(f"id 7; note: {name}, tel {phone}; born {born}.", ids)
    assert found == {"names": {" ".join(_WORD.findall(name))}, "phones": {phone}, "births": {born}}
