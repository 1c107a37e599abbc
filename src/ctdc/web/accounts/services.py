"""Writes on organisations and users (HackSoft-style services: keyword-only, atomic)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ctdc.errors import AgreementMissing, CtdcError
from ctdc.web.accounts.models import Agreement, Invitation, Membership, Organisation

log = logging.getLogger(__name__)


class OrganisationError(CtdcError):
    code = "organisation-error"


class InvitationError(CtdcError):
    """An invitation cannot be made or used; `extra["reason"]` says why (unknown, expired, used, revoked, taken,
    password)."""

    code = "invitation-error"


# What the admin lets a data steward do (the group "Data stewards"): organisations and their contributors'
# memberships; read-only views of the intake records and of workers. Users, groups and permissions stay with
# administrators (superusers).
STEWARD_GROUP = "Data stewards"
STEWARD_PERMISSIONS = {
    "accounts": ("view_organisation", "add_organisation", "change_organisation", "view_membership",
                 "add_membership", "change_membership", "delete_membership", "view_invitation"),
    "submissions": ("view_submission", "view_savedmapping", "view_duplicateflag"),
    "worker": ("view_workerheartbeat",),
}


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
        steward_admin_grant(user=user)
        return user, password
    password = password or secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password, is_staff=True)
    Membership.objects.create(user=user, organisation=None, role=Membership.Role.STEWARD)
    steward_admin_grant(user=user)
    return user, password


def steward_group() -> Group:
    """The group whose permissions make the admin useful to a data steward (created or brought up to date)."""
    group, _ = Group.objects.get_or_create(name=STEWARD_GROUP)
    wanted = Permission.objects.none()
    for app_label, codenames in STEWARD_PERMISSIONS.items():
        wanted |= Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    group.permissions.set(wanted)
    return group


@transaction.atomic
def steward_admin_grant(*, user) -> None:
    """Let a steward use the admin: staff status and the "Data stewards" group (idempotent)."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(steward_group())


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


def _token_hash(token: str) -> str:
    # The token has 256 bits of entropy, so a plain SHA-256 cannot be reversed by guessing (no salt needed), and
    # a lookup by hash stays an indexed equality.
    return hashlib.sha256(token.encode()).hexdigest()


def username_available(*, username: str) -> bool:
    """No account has this name, and no pending invitation reserves it."""
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        return False
    return not Invitation.objects.filter(username__iexact=username, accepted_at__isnull=True, revoked_at__isnull=True,
                                         expires_at__gt=timezone.now()).exists()


@transaction.atomic
def invitation_create(*, organisation: Organisation, username: str, email: str, invited_by,
                      accept_url: str) -> tuple[Invitation, str]:
    """Invite `email` to contribute for `organisation` as `username`. Returns the invitation and its link's token.

    The token is returned once and never stored; `accept_url` is the link's address with `{token}` in it. The link
    is also mailed (Django's console backend prints it on the server's output when no mail server is set up)."""
    if not username_available(username=username):
        raise InvitationError(f"The user name '{username}' is taken (or reserved by a pending invitation). "
                              "Choose another.", {"reason": "taken"})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation, username=username, email=email, token_hash=_token_hash(token),
        invited_by=invited_by, expires_at=timezone.now() + timedelta(days=settings.CTDC_INVITATION_DAYS))
    link = accept_url.format(token=token)
    transaction.on_commit(lambda: _invitation_mail(invitation=invitation, link=link))
    log.info("invitation %s: %s invited to %s by %s", invitation.pk, username, organisation.slug,
             invited_by.get_username())
    return invitation, token


def _invitation_mail(*, invitation: Invitation, link: str) -> None:
    days = settings.CTDC_INVITATION_DAYS
    body = (f"You are invited to contribute data for {invitation.organisation.name} to ctdc.\n\n"
            f"Open this link to choose your password (user name: {invitation.username}):\n{link}\n\n"
            f"The link works once and expires in {days} day{'s' if days != 1 else ''} "
            f"({invitation.expires_at:%Y-%m-%d %H:%M} UTC). "
            f"If you did not expect it, ignore this message.\n")
    try:
        send_mail(f"Invitation to contribute for {invitation.organisation.name}", body, None, [invitation.email])
    except Exception as exc:  # the page still shows the link once: a mail server hiccup does not lose it
        log.warning("invitation %s: the mail was not sent (%s)", invitation.pk, type(exc).__name__)


def invitation_get(*, token: str) -> Invitation:
    """The usable invitation behind a link's token, or InvitationError saying why it cannot be used."""
    invitation = (Invitation.objects.select_related("organisation").filter(token_hash=_token_hash(token)).first()
                  if token else None)
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Check that you copied the whole link, or ask "
                              "your data steward for a new one.", {"reason": "unknown"})
    state = invitation.state(timezone.now())
    if state == "accepted":
        raise InvitationError("This invitation link was already used. Sign in with the user name and password "
                              "chosen then, or ask your data steward for a new invitation.", {"reason": "used"})
    if state == "revoked":
        raise InvitationError("This invitation was withdrawn. Ask your data steward for a new one.",
                              {"reason": "revoked"})
    if state == "expired":
        raise InvitationError(f"This invitation link expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
                              "Ask your data steward for a new one.", {"reason": "expired"})
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str):
    """Create the invited contributor's account with `password`; the link is then spent. Returns the user."""
    invitation = invitation_get(token=token)
    # Claim the invitation first, conditionally: of two requests racing with the same link, one wins.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        accepted_at=timezone.now())
    if not claimed:
        raise InvitationError("This invitation link was already used.", {"reason": "used"})
    User = get_user_model()
    if User.objects.filter(username__iexact=invitation.username).exists():
        raise InvitationError(f"An account named '{invitation.username}' exists already. Ask your data steward "
                              "for an invitation with another user name.", {"reason": "taken"})
    user = User(username=invitation.username, email=invitation.email)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvitationError(" ".join(exc.messages), {"reason": "password"}) from None
    user.set_password(password)
    user.save()
    Membership.objects.create(user=user, organisation=invitation.organisation, role=Membership.Role.CONTRIBUTOR)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    log.info("invitation %s: accepted; account %s contributes for %s", invitation.pk, user.get_username(),
             invitation.organisation.slug)
    return user


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by) -> Invitation:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at, invitation.revoked_by = timezone.now(), by
        invitation.save(update_fields=["revoked_at", "revoked_by"])
    return invitation


@transaction.atomic
def agreement_record(*, organisation: Organisation, version: str, signed_by: str, signed_on, recorded_by=None
                     ) -> Agreement:
    """Record a data-sharing agreement an organisation signed; it becomes the organisation's current one."""
    from ctdc.web.audit.services import audit_record

    version, signed_by = version.strip(), signed_by.strip()
    if not version or not signed_by:
        raise OrganisationError("An agreement needs the version signed and who signed it.",
                                {"organisation": organisation.slug})
    if signed_on > timezone.localdate():
        raise OrganisationError("An agreement cannot be signed in the future: give the date it was signed.",
                                {"organisation": organisation.slug, "signed_on": signed_on.isoformat()})
    agreement = Agreement.objects.create(organisation=organisation, version=version[:32], signed_by=signed_by[:200],
                                         signed_on=signed_on, recorded_by=recorded_by)
    # Who signed is a name of the organisation's staff, not case data; it stays in the agreement row, and the
    # audit trail says which agreement (its version and date) was recorded by whom.
    audit_record(actor=recorded_by, action="agreement.record", target_type="agreement", target_id=agreement.pk,
                 organisation=organisation, details={"version": agreement.version,
                                                     "signed_on": signed_on.isoformat()})
    log.info("organisation %s: data-sharing agreement %s recorded", organisation.slug, agreement.version)
    return agreement


def agreement_require(*, organisation: Organisation) -> None:
    """Refuse intake for an organisation without a recorded data-sharing agreement (when CTDC_REQUIRE_AGREEMENT)."""
    from ctdc.web.accounts.selectors import agreement_current

    if settings.CTDC_REQUIRE_AGREEMENT and agreement_current(organisation=organisation) is None:
        raise AgreementMissing(
            f"{organisation.name} has no data-sharing agreement on record, and no file is accepted from an "
            "organisation before its agreement is signed. Nothing was stored. Ask an administrator to record the "
            "signed agreement (Agreements page, or `ctdc org agreement`), then send the file again.",
            {"organisation": organisation.slug})
