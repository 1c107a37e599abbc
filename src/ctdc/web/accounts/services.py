"""Writes on organisations and users (HackSoft-style services: keyword-only, atomic)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from ctdc.errors import CtdcError
from ctdc.web.accounts.models import Membership, Organisation


class OrganisationError(CtdcError):
    code = "organisation-error"


@transaction.atomic
def organisation_create(*, slug: str, name: str, kind: str = Organisation.Kind.CASE_MANAGEMENT) -> tuple[Organisation, bool]:
    """Create an organisation, or return the existing one with that slug (idempotent for `make demo`)."""
    if kind not in Organisation.Kind.values:
        raise OrganisationError(f"Unknown organisation kind '{kind}'. Use one of: {', '.join(Organisation.Kind.values)}.")
    org, created = Organisation.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})
    return org, created


def organisation_get(*, slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        known = ", ".join(Organisation.objects.values_list("slug", flat=True)) or "none yet"
        raise OrganisationError(f"No organisation '{slug}'. Known: {known}. Create it with `ctdc org create`.",
                                {"org": slug}) from None


@transaction.atomic
def steward_ensure(*, username: str, password: str | None = None) -> tuple[object, str | None]:
    """Create a steward account if missing. Returns (user, password) — the password only when it was set now."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, organisation=None, role=Membership.Role.STEWARD)
        return user, password
    password = password or secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    Membership.objects.create(user=user, organisation=None, role=Membership.Role.STEWARD)
    return user, password


@transaction.atomic
def contributor_ensure(*, username: str, organisation: Organisation, password: str | None = None) -> tuple[object, str | None]:
    """Create a contributor account if missing and make it a member of `organisation` (idempotent).

    Returns (user, password) — the password only when it was set now."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        password = password or secrets.token_urlsafe(12)
        user = User.objects.create_user(username=username, password=password)
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(user=user, organisation=organisation, role=Membership.Role.CONTRIBUTOR)
    return user, password
