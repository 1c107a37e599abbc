"""Reads for the intake pages: who may see what, reports, data quality.

Access rule: a steward (a `Membership` with role steward, or a superuser) sees every organisation; a contributor
sees only the organisations they are a member of. Everything a view shows goes through these functions.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from ctdc.errors import MappingError
from ctdc.standard import load_standard
from ctdc.web.accounts.models import Membership, Organisation
from ctdc.web.cases.models import Victim
from ctdc.web.submissions.models import DuplicateFlag, Problem, QuarantinedRow, SavedMapping, Submission


def user_is_steward(*, user) -> bool:
    """A steward or administrator acting as one now (ctdc.web.accounts.roles: second factor given if required)."""
    from ctdc.web.accounts.roles import user_is_steward as is_steward

    return is_steward(user)


def organisation_list_for(*, user) -> QuerySet[Organisation]:
    """Organisations `user` may act for."""
    if user_is_steward(user=user):
        return Organisation.objects.all()
    return Organisation.objects.filter(memberships__user=user, memberships__role=Membership.Role.CONTRIBUTOR
                                       ).distinct()


def organisation_get_for(*, user, slug: str) -> Organisation:
    org = organisation_list_for(user=user).filter(slug=slug).first()
    if org is None:  # 404, not 403: another organisation's existence is not disclosed either
        raise Http404("No such organisation.")
    return org


def submission_list_for(*, user) -> QuerySet[Submission]:
    return Submission.objects.filter(organisation__in=organisation_list_for(user=user)).select_related("organisation")


def submission_get_for(*, user, pk: int) -> Submission:
    submission = submission_list_for(user=user).filter(pk=pk).first()
    if submission is None:
        raise Http404("No such submission.")
    return submission


def mapping_latest(*, organisation: Organisation, name: str) -> SavedMapping:
    saved = SavedMapping.objects.filter(organisation=organisation, name=name).order_by("-created_at", "-pk").first()
    if saved is None:
        raise MappingError(f"{organisation.slug} has no saved mapping '{name}'.", {"mapping": name})
    return saved


def mapping_list_latest(*, organisation: Organisation) -> list[SavedMapping]:
    """The newest version of each of the organisation's saved mappings."""
    seen: dict[str, SavedMapping] = {}
    for m in SavedMapping.objects.filter(organisation=organisation).order_by("name", "-created_at", "-pk"):
        seen.setdefault(m.name, m)
    return list(seen.values())


def mapping_suggestion_for(*, submission: Submission) -> str:
    """A suggested mapping spec (YAML with reasons as comments) from the submission's kept raw file.

    Read only: the file is decrypted into a temporary folder for the suggestion and nothing is stored. The YAML
    names columns and echoes only values of coded columns (for their value -> code lines), as the report may."""
    from ctdc.ingest.suggest import suggest_mapping
    from ctdc.web.submissions.rawstore import raw_open

    with raw_open(name=submission.raw_path, filename=submission.filename) as path:
        return suggest_mapping(path, dataset=submission.dataset).yaml


def field_label(name: str, dataset: str = "victims") -> str:
    """A field's label in the standard (its name when the standard has no such field)."""
    ds = load_standard().dataset(dataset)
    return ds.field(name).label if name in ds.field_names else name


def report_problems(*, submission: Submission, code: str = "", field: str = "", severity: str = "") -> QuerySet[Problem]:
    problems = submission.problems.all()
    if code:
        problems = problems.filter(code=code)
    if field:
        problems = problems.filter(field=field)
    if severity:
        problems = problems.filter(severity=severity)
    return problems.order_by("row", "column", "pk")


def quarantine_rows(*, submission: Submission, code: str = "") -> QuerySet[QuarantinedRow]:
    """The submission's quarantined rows, in file order; with `code`, only rows held back for that problem."""
    rows = submission.quarantine.all()
    if code:
        rows = rows.filter(Q(codes=code) | Q(codes__startswith=f"{code};") | Q(codes__endswith=f";{code}")
                           | Q(codes__contains=f";{code};"))
    return rows.order_by("row", "pk")


def quarantine_codes(*, submission: Submission) -> list[str]:
    """The problem codes that hold rows of the submission back (for the quarantine filter)."""
    return sorted(submission.problems.filter(severity="error").values_list("code", flat=True).distinct())


def report_counts(*, submission: Submission) -> dict[str, list[dict[str, Any]]]:
    """Problems per rule (with errors and warnings apart) and per field."""
    by_rule = list(submission.problems.values("code").annotate(
        total=Count("pk"), errors=Count("pk", filter=Q(severity="error")),
        warnings=Count("pk", filter=Q(severity="warning"))).order_by("-total", "code"))
    by_field = list(submission.problems.values("field").annotate(total=Count("pk")).order_by("-total", "field"))
    return {"by_rule": by_rule, "by_field": by_field}


def cross_org_match_count(*, submission: Submission) -> int:
    """Steward only: how many of a validated submission's staged records share a keyed identity hash with
    another organisation's record. Never stored on the submission nor shown to its contributor: a yes/no on a
    guessed identity would tell them whether someone else holds that person."""
    import io

    import polars as pl
    from django.core.files.storage import default_storage

    if (submission.status != Submission.Status.VALIDATED or not submission.staged_path
            or not default_storage.exists(submission.staged_path)):
        return 0
    with default_storage.open(submission.staged_path, "rb") as fh:
        hashes = pl.read_parquet(io.BytesIO(fh.read()), columns=["identity_hash"])["identity_hash"]
    hashes = hashes.drop_nulls().unique().to_list()
    found = 0
    for start in range(0, len(hashes), 5000):
        found += (Victim.objects.filter(identity_hash__in=hashes[start:start + 5000])
                  .exclude(organisation=submission.organisation).values("identity_hash").distinct().count())
    return found


def duplicate_flag_list(*, status: str = "") -> QuerySet[DuplicateFlag]:
    flags = DuplicateFlag.objects.select_related("record__organisation", "other__organisation", "submission")
    return flags.filter(status=status) if status else flags


# Always filled by the pipeline or the repository: their completeness says nothing about the contributor's data.
# registration_year is the table's other axis: records without one (standard 0.3.0) are its own row, "no year".
_QUALITY_SKIP = {"registration_year", "data_source", "victim_id"}


def _filled(name: str) -> Count:
    """Count of records with a value: text fields count only non-empty values."""
    if isinstance(Victim._meta.get_field(name), models.CharField):
        return Count("pk", filter=Q(**{f"{name}__isnull": False}) & ~Q(**{name: ""}))
    return Count(name)


def quality_for(*, organisation: Organisation) -> dict[str, Any]:
    """Completeness by field and registration year of the organisation's approved records, and its most
    frequent problems over all its submissions."""
    fields = [f for f in load_standard().dataset("victims").stored_fields if f.name not in _QUALITY_SKIP]
    aggregates = {f.name: _filled(f.name) for f in fields}
    rows = list(Victim.objects.filter(organisation=organisation).values("registration_year")
                .annotate(records=Count("pk"), **aggregates)
                .order_by(F("registration_year").asc(nulls_last=True)))
    years = [{"year": r["registration_year"], "records": r["records"],
              "cells": [round(100 * r[f.name] / r["records"]) for f in fields]} for r in rows]
    totals = Victim.objects.filter(organisation=organisation).aggregate(records=Count("pk"), **aggregates)
    overall = [round(100 * totals[f.name] / totals["records"]) if totals["records"] else 0 for f in fields]
    problems = list(Problem.objects.filter(submission__organisation=organisation).values("code", "field")
                    .annotate(total=Count("pk")).order_by("-total", "code", "field")[:15])
    submissions = list(organisation.submissions.exclude(rows_read=0).order_by("created_at", "pk")
                       .values("pk", "filename", "created_at", "status", "rows_read", "accepted", "quarantined",
                               "duplicates"))
    for s in submissions:
        s["quarantined_percent"] = round(100 * s["quarantined"] / s["rows_read"], 1)
    by_field = [{"name": f.name, "label": f.label, "overall": overall[i],
                 "cells": [(y["year"], y["cells"][i]) for y in years]} for i, f in enumerate(fields)]
    known = [y["year"] for y in years if y["year"] is not None]
    return {"fields": [f.label for f in fields], "field_names": [f.name for f in fields], "years": years,
            "first_year": known[0] if known else None, "last_year": known[-1] if known else None,
            "without_year": sum(y["records"] for y in years if y["year"] is None),
            "by_field": by_field,
            "overall": overall, "records": totals["records"], "problems": problems, "submissions": submissions}
