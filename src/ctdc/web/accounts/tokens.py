"""API tokens: create, authenticate, revoke (issue 16). The contributor API accepts nothing else.

A token reads `ctdc_` followed by 43 URL-safe characters (32 random bytes). It is shown once, when created; the
database keeps its SHA-256 hash and first characters. Creation and every use on a non-public endpoint go into the
audit trail (`token.create`, `token.use`, `token.revoke`), never the token itself.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ctdc.errors import CtdcError
from ctdc.web.accounts.models import ApiToken
from ctdc.web.audit.services import audit_record

PREFIX = "ctdc_"
MAX_DAYS = 366


class TokenError(CtdcError):
    """A token cannot be made as asked; `extra["reason"]` says why (scopes, days, name)."""

    code = "token-error"


class TokenRefused(CtdcError):
    """A request's token is not accepted: unknown, expired, revoked (401) or without the needed scope (403)."""

    code = "not-authenticated"

    def __init__(self, message: str, *, status: int = 401, code: str = "not-authenticated"):
        super().__init__(message, {})
        self.status, self.code = status, code


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, scopes: list[str], days: int | None = None, by=None) -> tuple[ApiToken, str]:
    """A new token for `user` with `scopes`, expiring in `days` (CTDC_API_TOKEN_DAYS by default, at most 366).

    Returns the token's record and the token itself, which is never stored and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise TokenError("Give the token a name that says what it is for.", {"reason": "name"})
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in ApiToken.Scope.values]
    if unknown or not wanted:
        raise TokenError(f"Choose the token's scopes among: {', '.join(ApiToken.Scope.values)}"
                         + (f" (not {', '.join(unknown)})." if unknown else "."), {"reason": "scopes"})
    days = settings.CTDC_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"A token lasts from 1 to {MAX_DAYS} days, not {days}.", {"reason": "days"})
    key = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:12], token_hash=token_hash(key),
                                    scopes=wanted, expires_at=timezone.now() + timedelta(days=days))
    audit_record(actor=by if by is not None else user, action="token.create", target_type="api_token",
                 target_id=token.pk, details={"owner": user.get_username(), "scopes": wanted, "days": days})
    return token, key


def api_token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=by, action="token.revoke", target_type="api_token", target_id=token.pk,
                     details={"owner": token.user.get_username()})
    return token


def api_token_authenticate(*, key: str, scope: str, request=None) -> ApiToken:
    """The active token `key` if it has `scope`; TokenRefused otherwise. Records the use in the audit trail."""
    token = (ApiToken.objects.select_related("user").filter(token_hash=token_hash(key)).first()
             if key.startswith(PREFIX) else None)
    if token is None or not token.user.is_active:
        raise TokenRefused("This API token is not valid.")
    now = timezone.now()
    state = token.state(now)
    if state != "active":
        raise TokenRefused(f"This API token was {state}: create a new one." if state == "revoked" else
                           f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: create a new one.")
    if scope not in token.scopes:
        raise TokenRefused(f"This API token lacks the '{scope}' scope this request needs.", status=403,
                           code="insufficient-scope")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    audit_record(actor=token.user, action="token.use", target_type="api_token", target_id=token.pk,
                 details={"scope": scope, "method": getattr(request, "method", ""),
                          "path": getattr(request, "path", "")[:200]})
    return token
