"""Releases: frozen, versioned, protected snapshots that the portal and the API read, and the builds that make them."""

from django.db import models


class Release(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Built, not published"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    dataset = models.CharField(max_length=64)
    version = models.CharField(max_length=16, help_text="YYYY.MM.N")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUBLISHED)
    method = models.CharField(max_length=32)
    params = models.JSONField(default=dict)
    path = models.CharField(max_length=255, help_text="Folder of the release under the releases root.")
    summary = models.JSONField(default=dict)
    record_count = models.PositiveIntegerField(help_text="Rows in the released microdata.")
    input_count = models.PositiveIntegerField(
        default=0, help_text="Records the release was built from: an exact fact about the input, for stewards only "
                             "(never in the API, the public pages or the release files).")
    standard_version = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.CharField(max_length=150, blank=True, help_text="Who published it ('cli': the command).")
    withdrawn_by = models.CharField(max_length=150, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    previous_version = models.CharField(max_length=16, blank=True)
    checks = models.JSONField(default=list, help_text="Disclosure checks as the public may see them "
                                                      "(ctdc.release.checks.public_checks); every count is in "
                                                      "the steward report.")
    checks_passed = models.BooleanField(default=True)
    files = models.JSONField(default=list, help_text="[{name, bytes, sha256}] of the release folder.")
    size_bytes = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="unique_release_version"),
            # A release that failed a blocking disclosure check can never be published.
            models.CheckConstraint(condition=~models.Q(status="published", checks_passed=False),
                                   name="published_release_passed_checks"),
            models.CheckConstraint(condition=~models.Q(status="withdrawn", withdrawn_reason=""),
                                   name="withdrawn_release_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} {self.version}"


class ReleaseBuild(models.Model):
    """One request to build a release, run by the CLI in-process or by the task queue; its progress and log."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        REFUSED = "refused", "Built, publishing refused by a disclosure check"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    dataset = models.CharField(max_length=64)
    method = models.CharField(max_length=32)
    params = models.JSONField(default=dict)
    notes = models.TextField(blank=True)
    publish = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(
        default=False, help_text="Set by a steward on a running build; it stops at its next stage.")
    requested_by = models.CharField(max_length=150, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    version = models.CharField(
        max_length=16, blank=True, help_text="The version this build took when it started: never given to another "
        "build, so a ledger entry naming it stays attributable even if this build stopped before writing it.")
    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="builds")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two builds of one dataset at once are refused by the database itself, whoever starts them.
            models.UniqueConstraint(fields=["dataset"], condition=models.Q(status__in=["queued", "running"]),
                                    name="one_active_build_per_dataset"),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="build_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"build {self.pk} of {self.dataset} ({self.status})"


class PrivacyLedgerEntry(models.Model):
    """One differentially private computation on the central repository: its budget, dataset, date, purpose.

    Written through `ctdc.web.releases.ledger.DatabaseLedgerStore`; rows are never updated or deleted.
    """

    dataset = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=255)
    epsilon = models.FloatField()
    delta = models.FloatField()
    rho = models.FloatField(null=True, blank=True)
    date = models.DateTimeField()

    class Meta:
        ordering = ["date", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(epsilon__gte=0) & models.Q(delta__gte=0),
                                              name="ledger_budget_non_negative")]
