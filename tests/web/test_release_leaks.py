"""An adversary reads every public byte of a release, before and after withdrawal, for facts about the input
(issue 13, finding 2): the exact record count, the counts by contributor type, the number of distinct input
combinations, a delta that inverts to n. Stewards, and only they, see those facts in the steward report."""

from __future__ import annotations

import json
import math
import re

import polars as pl
import pytest
from django.contrib.auth import get_user_model

from ctdc.privacy.aggregates import count_combinations
from ctdc.privacy.risk import assess_risk
from ctdc.privacy.table import encode_table
from ctdc.release.build import build_release, released_columns
from ctdc.release.methods import as_text, to_flags
from ctdc.standard import load_standard
from ctdc.web.accounts.services import steward_ensure
from ctdc.web.cases.models import Victim
from ctdc.web.releases.models import Release
from ctdc.web.releases.selectors import release_snapshot
from ctdc.web.releases.services import release_build, release_publish, release_withdraw

pytestmark = pytest.mark.django_db
DS = load_standard().dataset("victims")
# Files whose numbers are data (protected counts, rows): searched for the facts in their text columns only.
DATA_FILES = {"microdata.csv", "microdata.xlsx", "microdata.parquet", "ctdc-public.csv", "aggregates.csv"}
# Files made from the standard alone, identical in every release whatever its input (checked below): a number
# in them (a code, a bound) can equal an input count by chance without saying anything about the input.
STANDARD_FILES = {"standard.json", "codebook.html", "TERMS.md"}


@pytest.fixture
def repository(run_cli, simulated):
    """Approved records of a hotline and a case-management organisation, trimmed so that no count the
    adversary looks for is a multiple of 10 (k-rounding would hide it by chance) or shared by two facts."""
    folder, _ = simulated
    for slug, kind in (("lakeside-helpline", "hotline"), ("open-roads", "case_management")):
        assert run_cli("org", "create", slug, "--name", slug.title(), "--kind", kind).exit_code == 0
    for args in (("lakeside-helpline.csv", "--org", "lakeside-helpline", "--mapping",
                  str(folder / "lakeside-helpline.mapping.yml")), ("open-roads.csv", "--org", "open-roads")):
        assert run_cli("ingest", str(folder / args[0]), *args[1:], "--approve", "--json").exit_code == 0
    for _ in range(40):
        frame, inputs = release_snapshot()
        kinds = inputs["records_by_contributor_type"]
        counts = list(kinds.values())
        bad = [k for k, n in kinds.items() if n % 10 == 0 or n == frame.height or counts.count(n) > 1]
        if not bad and frame.height % 10:
            break
        newest = Victim.objects.filter(organisation__kind=(bad or list(kinds))[0]).order_by("-pk").first()
        newest.delete()
    frame, inputs = release_snapshot()
    assert frame.height % 10 and len(inputs["records_by_contributor_type"]) == 2
    return frame, inputs


def _input_facts(frame: pl.DataFrame, inputs: dict) -> dict[str, int]:
    """Exact facts about the input an adversary could use (numbers of at least 3 digits, so a chance match in
    unrelated text is unlikely): the record count, the counts by contributor type, distinct combinations."""
    facts = {"input records": frame.height}
    facts.update({f"records from {k}": n for k, n in inputs["records_by_contributor_type"].items()})
    table = encode_table(to_flags(as_text(frame.select(released_columns(frame, DS))), DS))
    original = count_combinations(table, 3)
    for length in (2, 3):
        facts[f"distinct input combinations of length {length}"] = original.n_combinations(length)
    return {name: n for name, n in facts.items() if n >= 100}


def _integers(value) -> list[int]:
    """Every whole number inside a JSON value."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _integers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _integers(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def _model_record_counts(value) -> list[float]:
    """The noisy record counts a DP release's report publishes (`protection.model.record_count`)."""
    if isinstance(value, dict):
        found = [value["model"]["record_count"]] if isinstance(value.get("model"), dict) and \
            "record_count" in value["model"] else []
        return found + [x for v in value.values() for x in _model_record_counts(v)]
    if isinstance(value, list):
        return [x for v in value for x in _model_record_counts(v)]
    return []


def _hits(text: str, facts: dict[str, int], n: int) -> list[str]:
    """The facts found in `text` as whole numbers (also written 1,234), and any number close to 1/(n ln n)."""
    found = [name for name, value in facts.items()
             if re.search(rf"(?<![0-9A-Za-z.,]){value:,}(?![0-9A-Za-z])".replace(",", ",?"), text)]
    delta = 1 / (n * math.log(n))
    for m in re.finditer(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", text):
        try:
            x = float(m.group())
        except ValueError:
            continue
        if x and abs(x - delta) / delta < 5e-3:
            found.append(f"delta 1/(n ln n) = {m.group()}")
    return found


def _public_bytes(client, release: Release) -> dict[str, str]:
    """Everything the public can fetch about a release: pages, API answers, portal and every file."""
    v = release.version
    seen = {url: client.get(url).content.decode("utf-8", "replace") for url in (
        "/", "/explore/", "/map/", "/about/figures/", "/data/", f"/data/victims/{v}/", "/api/v1/releases",
        f"/api/v1/releases/victims/{v}", "/api/v1/releases/victims/latest")}
    client.post("/data/terms/", {"accept": "yes"})
    for f in release.files:
        if f["name"] in STANDARD_FILES:
            continue
        resp = client.get(f"/data/victims/{v}/files/{f['name']}")
        if resp.status_code != 200:
            continue
        raw = b"".join(resp.streaming_content)
        if f["name"] in DATA_FILES:
            if f["name"] == "aggregates.csv":
                raw = "\n".join(pl.read_csv(raw, infer_schema=False)["protection"].unique().to_list()).encode()
            elif f["name"] != "microdata.csv":
                continue  # binary or the same rows again
            else:
                raw = b""  # rows of values, no counts
        seen[f["name"]] = raw.decode("utf-8", "replace")
    return seen


@pytest.mark.parametrize("method", ["k-anonymity", "k-synthetic", "dp-synthetic"])
def test_no_public_byte_of_a_release_states_an_exact_input_fact(repository, client, method, tmp_path):
    frame, inputs = repository
    facts = _input_facts(frame, inputs)
    release = release_build(method=method)
    release_publish(dataset="victims", version=release.version)
    release.refresh_from_db()
    micro = pl.read_parquet(release_storage_path(release) / "microdata.parquet")
    # The report's risk numbers are counted on the published rows, so anyone can recompute them from the file
    # (checked here, number for number); one may equal an input count by chance without saying anything.
    report = json.loads((release_storage_path(release) / "report.json").read_text())
    risk = report["engine"]["risk_output" if method == "k-anonymity" else "risk_synthetic"]
    rows = as_text(micro) if method == "k-anonymity" else to_flags(as_text(micro), DS)
    recount = assess_risk(rows, risk["quasi_identifiers"], k=risk["k_threshold"],
                          length=max(int(n) for n in risk["rare_combinations"])).as_dict()
    assert json.loads(json.dumps(recount)) == risk
    shown = set(_integers(risk))
    # So can the number of distinct combinations the published rows hold (the synthetic reports compare them).
    held = count_combinations(encode_table(rows), 3)
    shown |= {held.n_combinations(length) for length in (1, 2, 3)}
    if method == "k-anonymity":
        # k-anonymous rows are real records: what they show (their number, their data sources) is published
        # by the rows themselves and may be described; nothing else.
        shown |= {micro.height, *micro["data_source"].value_counts()["count"].to_list()}
    facts = {name: n for name, n in facts.items() if n not in shown}
    # A protected count (rounded, or noisy: DP) may equal an exact one by chance; publishing it is the method's
    # job. Only a number that no protected count carries would be a leak.
    agg = pl.read_csv(release_storage_path(release) / "aggregates.csv", infer_schema=False)
    protected = {int(n) for n in agg["count"].to_list()} | {release.record_count}
    # The DP model's noisy record count is published as a decimal (1627.4); its whole part (or rounded) is protected
    # too, and equals the exact count by chance in about one run in ten.
    protected |= {f(x) for x in _model_record_counts(report) for f in (math.floor, round)}
    assert bool(_model_record_counts(report)) == (method == "dp-synthetic")
    facts = {name: n for name, n in facts.items() if n not in protected}
    assert "input records" in facts or method != "k-synthetic"
    # The files left out of the search are the same for any input: those of a release of other records.
    other = build_release(frame.tail(300), root=tmp_path, dataset="victims", version=release.version)
    for name in STANDARD_FILES:
        assert (other.path / name).read_bytes() == (release_storage_path(release) / name).read_bytes(), name
    for when in ("published", "withdrawn"):
        leaks = {where: hits for where, text in _public_bytes(client, release).items()
                 if (hits := _hits(text, facts, frame.height))}
        assert leaks == {}, f"{method} release ({when}) states input facts: {leaks}"
        if when == "published":
            release_withdraw(dataset="victims", version=release.version, reason="Test of what stays visible")
            release.refresh_from_db()
    # The steward report holds them, and only a steward may read it.
    url = f"/data/steward/victims/{release.version}/"
    assert client.get(url).status_code in (302, 403)
    user, _ = steward_ensure(username="steward", password="pw-steward-1")
    client.force_login(user)
    page = client.get(url).content.decode()
    assert f"{frame.height:,}" in page  # numbers as the reader's language writes them (1,627)
    assert all(f"{n:,}" in page for n in inputs["records_by_contributor_type"].values())
    steward_json = json.loads(client.get(url + "?format=json").content)
    assert steward_json["input"]["records"] == frame.height
    other = get_user_model().objects.create_user(username="contributor", password="pw-contributor-1")
    client.force_login(other)
    assert client.get(url).status_code == 403


def release_storage_path(release: Release):
    from django.conf import settings

    return settings.CTDC_RELEASES_DIR / release.path
