"""The four roles of ctdc, read from data (issue 16).

    public         anyone, signed in or not: the portal, published releases, the codebook, the public API
    contributor    a `Membership` with role contributor of one or more organisations: upload, map, and see the own
                   organisations' submissions, reports and quality pages (other organisations' objects answer 404)
    steward        a `Membership` with role steward and no organisation (a database constraint): approve, resolve
                   duplicates, build and publish releases, see usage; global, never organisation-scoped
    administrator  a `Membership` with role administrator, or a Django superuser: organisations, users, the audit
                   trail; everything a steward may do

Who may use which page or API endpoint is declared once, in `ctdc.web.security.access.RULES`.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings


class Role(StrEnum):
    PUBLIC = "public"
    CONTRIBUTOR = "contributor"
    STEWARD = "steward"
    ADMINISTRATOR = "administrator"


# Roles that must pass a second factor before they count (docs/security.md, CTDC_REQUIRE_2FA).
PRIVILEGED = frozenset({Role.STEWARD, Role.ADMINISTRATOR})

_CACHE = "_ctdc_roles"
VIA_TOKEN = "_ctdc_via_api_token"  # set by the access middleware on the user an API token authenticated


def roles_held(user) -> frozenset[Role]:
    """Every role `user` holds by the data, whether or not a second factor was given (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset({Role.PUBLIC})
    cached = getattr(user, _CACHE, None)
    if cached is not None:
        return cached
    from ctdc.web.accounts.models import Membership

    held = {Role.PUBLIC}
    held |= {Role(r) for r in Membership.objects.filter(user=user).values_list("role", flat=True).distinct()}
    if user.is_superuser:
        held.add(Role.ADMINISTRATOR)
    if Role.ADMINISTRATOR in held:  # an administrator may do everything a steward may
        held.add(Role.STEWARD)
    result = frozenset(held)
    setattr(user, _CACHE, result)
    return result


def second_factor_missing(user) -> bool:
    """A steward or administrator who has not confirmed a one-time code in this session, where one is required."""
    if not settings.CTDC_REQUIRE_2FA or not (roles_held(user) & PRIVILEGED):
        return False
    if getattr(user, VIA_TOKEN, False):  # an API token is made in a session past the second factor (or by the CLI)
        return False
    is_verified = getattr(user, "is_verified", None)  # set by django_otp's OTPMiddleware
    return not (is_verified and is_verified())


def roles_of(user) -> frozenset[Role]:
    """The roles `user` may act in now: those held, less steward and administrator until a second factor is
    given where one is required (CTDC_REQUIRE_2FA)."""
    held = roles_held(user)
    return held - PRIVILEGED if second_factor_missing(user) else held


def user_is_steward(user) -> bool:
    return Role.STEWARD in roles_of(user)


def user_is_administrator(user) -> bool:
    return Role.ADMINISTRATOR in roles_of(user)
