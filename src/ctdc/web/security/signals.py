"""Sign-ins, failed sign-ins, lockouts, and role and membership changes go to the audit trail (who, what, when).

The attempted user name of a failed sign-in is recorded (an account name, never case data); passwords never are.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from ctdc.web.accounts.models import Membership
from ctdc.web.audit.services import audit_record, current_actor


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action="auth.login", target_type="user", target_id=user.pk)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    name = str(credentials.get("username") or "")[:150]
    audit_record(actor=name or "anonymous", action="auth.login_failed", target_type="user", target_id=name)


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit_record(actor=username or "anonymous", action="auth.lockout", target_type="user", target_id=username or "")


# Role and membership changes, wherever they are made (admin, CLI, invitations): who made them is the signed-in
# user of the request (ctdc.web.audit.services.current_actor), else 'cli'.
@receiver(post_save, sender=Membership)
def _membership_saved(sender, instance, created, **kwargs) -> None:
    audit_record(actor=current_actor(), action="membership.add" if created else "membership.change",
                 target_type="user", target_id=instance.user_id, organisation=instance.organisation,
                 details={"user": instance.user.get_username(), "role": instance.role})


@receiver(post_delete, sender=Membership)
def _membership_deleted(sender, instance, **kwargs) -> None:
    audit_record(actor=current_actor(), action="membership.remove", target_type="user", target_id=instance.user_id,
                 organisation=instance.organisation_id and instance.organisation,
                 details={"role": instance.role})


@receiver(pre_save, sender=get_user_model())
def _user_flags(sender, instance, **kwargs) -> None:
    """Administrator and admin-site access are flags on the user: a change of either is a role change."""
    if instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values("is_superuser", "is_staff", "is_active").first()
    if before is None:
        return
    changed = {k: getattr(instance, k) for k, v in before.items() if getattr(instance, k) != v}
    if changed:
        audit_record(actor=current_actor(), action="user.change", target_type="user", target_id=instance.pk,
                     details={"user": instance.get_username(), **changed})
