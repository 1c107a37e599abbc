"""Submissions: one contributor file, its validation report and its quarantine."""

from django.db import models

from ctdc.web.accounts.models import Organisation


class Submission(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        PROCESSING = "processing", "Processing"
        VALIDATED = "validated", "Validated"
        APPROVED = "approved", "Approved (in the central repository)"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Could not be read"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="submissions")
    dataset = models.CharField(max_length=64, default="victims")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    mapping_name = models.CharField(max_length=128, blank=True)
    mapping_version = models.CharField(max_length=32, blank=True)
    staged_path = models.CharField(max_length=255, blank=True,
                                   help_text="Storage path of the accepted, de-identified records awaiting approval.")
    rows_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict)
    read_info = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Uploading the same file twice for the same organisation changes nothing.
            models.UniqueConstraint(fields=["organisation", "dataset", "sha256"], name="unique_submission_file"),
            models.CheckConstraint(
                condition=models.Q(rows_read=models.F("accepted") + models.F("quarantined") + models.F("duplicates")),
                name="submission_rows_add_up",
            ),
        ]


class Problem(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=255)
    field = models.CharField(max_length=64)
    code = models.CharField(max_length=64)
    severity = models.CharField(max_length=8)
    value = models.CharField(max_length=64, null=True, blank=True, help_text="Never set for direct identifiers.")
    message = models.TextField()

    class Meta:
        ordering = ["row", "column"]
        indexes = [models.Index(fields=["submission", "code"])]


class QuarantinedRow(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="quarantine")
    row = models.PositiveIntegerField()
    record_id = models.CharField(max_length=128)
    codes = models.CharField(max_length=255)

    class Meta:
        ordering = ["row"]
