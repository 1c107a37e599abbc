"""Writes to the audit trail. Called by the services that carry out a decision, inside their transaction, so a
decision and its record commit together or not at all."""

from __future__ import annotations

from typing import Any

from ctdc.web.audit.models import AuditEvent


def actor_name(user) -> str:
    """Who to record: the signed-in user's name, or 'cli' when a command ran without one."""
    if user is None:
        return "cli"
    if isinstance(user, str):
        return user or "cli"
    return user.get_username() if getattr(user, "is_authenticated", False) else "anonymous"


def audit_record(*, actor, action: str, target_type: str, target_id: Any, note: str = "",
                 details: dict[str, Any] | None = None) -> AuditEvent:
    return AuditEvent.objects.create(actor=actor_name(actor)[:150], action=action, target_type=target_type,
                                     target_id=str(target_id)[:64], note=note, details=details or {})
