"""Reads of the audit trail: the history of one target, and the administrators' filtered list."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from ctdc.web.audit.models import AuditEvent


def audit_events_for(*, target_type: str, target_id) -> QuerySet[AuditEvent]:
    """A target's decisions, oldest first (its history as it happened)."""
    return AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("at", "pk")


def audit_event_list(*, limit: int = 200) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()[:limit]


def audit_filters(params) -> dict[str, str]:
    """The filters of the administrators' page from its query string (bounded, unknown keys ignored)."""
    return {k: params.get(k, "").strip()[:150] for k in ("actor", "action", "organisation", "since", "until")}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def audit_event_filter(*, actor: str = "", action: str = "", organisation: str = "", since: str = "",
                       until: str = "") -> QuerySet[AuditEvent]:
    """Events newest first; `action` matches a prefix ("submission." gives every submission action); dates are
    days (YYYY-MM-DD), `until` included. A date that does not parse is ignored."""
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(actor=actor)
    if action:
        events = events.filter(action__startswith=action)
    if organisation:
        events = events.filter(organisation=organisation)
    if (d := _day(since)) is not None:
        events = events.filter(at__date__gte=d)
    if (d := _day(until)) is not None:
        events = events.filter(at__date__lte=d)
    return events
