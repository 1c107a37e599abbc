"""Reads for the account pages: who may invite, the invitations they see, a person's intake overview."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from ctdc.web.accounts.models import Invitation, Membership, Organisation


def user_may_invite(*, user) -> bool:
    """Administrators (superusers) and data stewards invite contributors."""
    return user.is_authenticated and (user.is_superuser or Membership.objects.filter(
        user=user, organisation=None, role=Membership.Role.STEWARD).exists())


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
