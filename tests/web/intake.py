"""Helpers shared by the intake web tests: accounts, uploads and the real background worker."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command

from ctdc.web.accounts.models import Membership, Organisation
from ctdc.web.accounts.services import organisation_create

PASSWORD = "correct horse battery staple"
ORGS = (("lakeside-helpline", "Lakeside Helpline", "hotline"), ("harbour-light", "Harbour Light", "case_management"),
        ("open-roads", "Open Roads", "case_management"))


def make_people() -> dict[str, object]:
    """One contributor per fictional organisation (user name = org slug) and a steward."""
    User = get_user_model()
    people = {}
    for slug, name, kind in ORGS:
        org, _ = organisation_create(slug=slug, name=name, kind=kind)
        user = User.objects.create_user(username=slug, password=PASSWORD)
        Membership.objects.create(user=user, organisation=org, role=Membership.Role.CONTRIBUTOR)
        people[slug] = user
    steward = User.objects.create_user(username="steward", password=PASSWORD)
    Membership.objects.create(user=steward, organisation=None, role=Membership.Role.STEWARD)
    people["steward"] = steward
    return people


def upload(client, path: Path, org: str, mapping: str = "detect"):
    """POST the upload form as the signed-in user; returns the response (a redirect on success)."""
    organisation = Organisation.objects.get(slug=org)
    with path.open("rb") as fh:
        return client.post("/intake/submissions/new/", {"organisation": organisation.pk, "dataset": "victims",
                                                        "mapping": mapping, "file": fh})


def run_worker() -> None:
    """Run every queued task with the real django-tasks-db worker, then return (as `ctdc manage db_worker --batch`)."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def simulated_hotline(run_cli, folder: Path, *, cases: int, seed: int) -> tuple[Path, dict]:
    """The simulator's files in `folder`, and the hotline's victims approved through the CLI; returns the folder
    and the manifest entry of the hotline's linked files (perpetrators, links, journeys, fees) for a test to
    ingest next."""
    from ctdc.fixtures.simulate import simulate

    org = ORGS[0][0]
    manifest = simulate(folder, cases=cases, seed=seed)
    run_cli("org", "create", org, "--name", "Lakeside", "--kind", "hotline")
    victims = run_cli("ingest", str(folder / f"{org}.csv"), "--org", org, "--mapping",
                      str(folder / f"{org}.mapping.yml"), "--approve", "--json")
    assert victims.exit_code == 0, victims.output
    return folder, next(f for f in manifest["files"] if f["org"] == org)["linked"]


def published_hotline_dataset(run_cli, folder: Path, *, linked: str, dataset: str, method: str, k: int,
                              cases: int = 1500, seed: int = 11) -> None:
    """`simulated_hotline`, then the hotline's `linked` file (a key of its manifest entry: journeys, fees, ...)
    ingested as `dataset`, approved, and released with `method` and published."""
    out, files = simulated_hotline(run_cli, folder, cases=cases, seed=seed)
    ingested = run_cli("ingest", str(out / files[linked]["file"]), "--org", ORGS[0][0], "--dataset", dataset,
                       "--approve")
    assert ingested.exit_code == 0, ingested.output
    built = run_cli("release", "build", "--dataset", dataset, "--method", method, "--k", str(k), "--publish")
    assert built.exit_code == 0, built.output
