"""Reads for the account pages: who may invite, the invitations they see, a person's intake overview."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ctdc.web.accounts.models import Agreement, Invitation, Organisation


def user_may_invite(*, user) -> bool:
    """Administrators and data stewards invite contributors (the page's rule is in ctdc.web.security.access)."""
    from ctdc.web.accounts.roles import user_is_steward

    return user_is_steward(user)


def agreement_current(*, organisation: Organisation) -> Agreement | None:
    """The organisation's data-sharing agreement in force: the latest signed."""
    return organisation.agreements.order_by("-signed_on", "-pk").first()


def agreement_overview() -> list[dict]:
    """Every organisation with its current agreement (None: files from it are refused) and how many it signed."""
    latest: dict[int, Agreement] = {}
    counts: dict[int, int] = {}
    for a in Agreement.objects.select_related("recorded_by").order_by("signed_on", "pk"):
        latest[a.organisation_id] = a
        counts[a.organisation_id] = counts.get(a.organisation_id, 0) + 1
    return [{"organisation": org, "current": latest.get(org.pk), "signed": counts.get(org.pk, 0)}
            for org in Organisation.objects.order_by("name")]


def agreement_list() -> QuerySet[Agreement]:
    return Agreement.objects.select_related("organisation", "recorded_by")[:200]


def invitation_list() -> QuerySet[Invitation]:
    return Invitation.objects.select_related("organisation", "invited_by", "accepted_by", "revoked_by")[:200]


def intake_overview(*, organisations: QuerySet[Organisation]) -> list[dict]:
    """Per organisation: its submissions counted by status (for the /intake/ page)."""
    from ctdc.web.submissions.models import Submission

    counts: dict[int, dict[str, int]] = {}
    for row in (Submission.objects.filter(organisation__in=organisations).values("organisation", "status")
                .annotate(n=Count("pk"))):
        counts.setdefault(row["organisation"], {})[row["status"]] = row["n"]
    labels = dict(Submission.Status.choices)
    return [{"organisation": org, "counts": [(labels[s], n) for s, n in counts.get(org.pk, {}).items()],
             "total": sum(counts.get(org.pk, {}).values())} for org in organisations]
