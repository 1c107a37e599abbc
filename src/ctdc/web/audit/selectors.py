"""Reads of the audit trail for the pages that show who decided what."""

from __future__ import annotations

from django.db.models import QuerySet

from ctdc.web.audit.models import AuditEvent


def audit_events_for(*, target_type: str, target_id) -> QuerySet[AuditEvent]:
    """A target's decisions, oldest first (its history as it happened)."""
    return AuditEvent.objects.filter(target_type=target_type, target_id=str(target_id)).order_by("at", "pk")


def audit_event_list(*, limit: int = 200) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()[:limit]
