"""Writes to the audit trail. Called by the services that carry out a decision, inside their transaction, so a
decision and its record commit together or not at all."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from ctdc.web.audit.models import AuditEvent

# The signed-in user of the request being served (set by ctdc.web.security.access.AccessMiddleware), for events
# recorded where no user is passed along (signals on memberships and users).
_ACTOR: ContextVar[object | None] = ContextVar("ctdc_audit_actor", default=None)


def current_actor():
    return _ACTOR.get()


def actor_set(user):
    """Record `user` as the actor of what follows in this context; returns a token for `actor_reset`."""
    return _ACTOR.set(user)


def actor_reset(token) -> None:
    _ACTOR.reset(token)


def actor_name(user) -> str:
    """Who to record: the signed-in user's name, or 'cli' when a command ran without one."""
    if user is None:
        return "cli"
    if isinstance(user, str):
        return user or "cli"
    return user.get_username() if getattr(user, "is_authenticated", False) else "anonymous"


def audit_record(*, actor, action: str, target_type: str, target_id: Any, note: str = "",
                 details: dict[str, Any] | None = None, organisation=None) -> AuditEvent:
    """Append one event. `organisation` (an Organisation or its slug) is the one the action was for, if any."""
    org = getattr(organisation, "slug", organisation) or ""
    return AuditEvent.objects.create(actor=actor_name(actor)[:150], action=action, target_type=target_type,
                                     target_id=str(target_id)[:64], note=note, details=details or {},
                                     organisation=org[:64])
