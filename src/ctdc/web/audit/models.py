"""The audit trail: one append-only row per action (who, from which organisation, when, what, on what, why).

Recorded (services call `ctdc.web.audit.services.audit_record` inside their transaction): sign-ins, failed
sign-ins, lockouts and second factors (`auth.*`); uploads, approvals, rejections (`submission.*`); mapping changes
(`mapping.save`); duplicate decisions (`duplicate_flag.*`); release builds, publishes and withdrawals
(`release.*`); role and membership changes (`membership.*`, `user.*`); API tokens created, revoked and used on
non-public endpoints (`token.*`). Administrators browse and export it on /accounts/audit/.

Append-only: the application never changes or deletes a row. `save` refuses an update, `delete` refuses, and the
manager's querysets refuse `update()` and `delete()` (tests/web/security/test_audit_trail.py). No direct identifier
of a case goes in: targets are named by their ids, and notes are the steward's own words (the forms ask them not
to write case details).
"""

from django.db import models

from ctdc.errors import CtdcError

# How each action reads on a page ("Approved by steward, 2026-12-05 08:00: note").
ACTION_LABELS = {
    "submission.approve": "Approved", "submission.reject": "Rejected",
    "duplicate_flag.confirmed": "Marked as the same person", "duplicate_flag.dismissed": "Marked as different people",
    "duplicate_flag.reopen": "Reopened", "release.publish": "Published", "release.withdraw": "Withdrawn",
    "submission.upload": "Uploaded", "release.build": "Built",
}


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise CtdcError("Audit events are append-only: events are never changed.")

    def delete(self):
        raise CtdcError("Audit events are append-only: events are never deleted.")

    _raw_delete = delete


class AuditEvent(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150, help_text="User name of who decided ('cli' from the command line).")
    organisation = models.CharField(max_length=64, blank=True, db_index=True,
                                    help_text="Slug of the organisation the action was for, when it was for one.")
    action = models.CharField(max_length=64, help_text="What was decided, e.g. 'submission.approve'.")
    target_type = models.CharField(max_length=64, help_text="'submission', 'duplicate_flag' or 'release'.")
    target_id = models.CharField(max_length=64, help_text="The target's id (a release: 'dataset version').")
    note = models.TextField(blank=True, help_text="Why, in the decider's words.")
    details = models.JSONField(default=dict, blank=True, help_text="Counts and states; never case values.")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_type} {self.target_id}"

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise CtdcError("Audit events are append-only: an event is never changed.", {"event": self.pk})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise CtdcError("Audit events are append-only: an event is never deleted.", {"event": self.pk})
