"""Submissions: one contributor file, its validation report, its quarantine; saved mappings; duplicate flags.

States of a submission: uploaded -> processing (with `progress`) -> validated | failed | needs_mapping ->
approved | rejected (by a steward). `needs_mapping`: detection found a preset that would ignore columns looking like
standard fields; the contributor checks a suggested mapping, saves it and re-processes the same submission. Approved records are in the central repository (`cases.Victim`).
"""

from django.conf import settings
from django.db import models

from ctdc.web.accounts.models import Organisation


class SavedMapping(models.Model):
    """One version of an organisation's mapping spec (YAML). Editing saves a new version; old ones are kept
    because records keep the mapping version that produced them."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="mappings")
    name = models.SlugField(max_length=64)
    text = models.TextField(help_text="The mapping spec, as YAML (format: ctdc.ingest.mapping).")
    version_hash = models.CharField(max_length=32, help_text="MappingSpec.version_hash of the text.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name", "version_hash"], name="unique_mapping_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version_hash}"


class Submission(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        PROCESSING = "processing", "Processing"
        VALIDATED = "validated", "Validated"
        APPROVED = "approved", "Approved (in the central repository)"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Could not be read"
        NEEDS_MAPPING = "needs_mapping", "Needs a mapping"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="submissions")
    dataset = models.CharField(max_length=64, default="victims")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    mapping_name = models.CharField(max_length=128, blank=True)
    mapping_version = models.CharField(max_length=32, blank=True)
    mapping_choice = models.CharField(max_length=160, blank=True,
                                      help_text="What the uploader chose: 'detect', 'preset:<name>' or "
                                                "'mapping:<name>' (the latest version when processed).")
    saved_mapping = models.ForeignKey(SavedMapping, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="submissions", help_text="The saved mapping version used.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    raw_path = models.CharField(max_length=255, blank=True,
                                help_text="Storage name of the encrypted raw upload; empty once purged.")
    raw_purged_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done while processing.")
    progress_note = models.CharField(max_length=120, blank=True)
    rows_done = models.PositiveIntegerField(default=0, help_text="Rows of the file read and checked so far while it "
                                            "is processed (the page shows them; the total is known only at the end).")
    staged_path = models.CharField(max_length=255, blank=True,
                                   help_text="Storage path of the accepted, de-identified records awaiting approval.")
    rows_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0, help_text="Rows repeating an earlier row's record id in "
                                             "the same file (not imported).")
    stats = models.JSONField(default=dict)
    read_info = models.JSONField(default=dict)
    error = models.TextField(blank=True, help_text="What stopped the processing, in words for the page.")
    error_code = models.CharField(max_length=64, blank=True,
                                  help_text="The stable code of that error (as in the CLI's and API's JSON).")
    error_extra = models.JSONField(default=dict, blank=True,
                                   help_text="Its structured context (e.g. the columns a preset would miss).")
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Uploading the same file twice for the same organisation changes nothing.
            models.UniqueConstraint(fields=["organisation", "dataset", "sha256"], name="unique_submission_file"),
            models.CheckConstraint(
                condition=models.Q(rows_read=models.F("accepted") + models.F("quarantined") + models.F("duplicates")),
                name="submission_rows_add_up",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="submission_progress_percent"),
        ]

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.UPLOADED, self.Status.PROCESSING)

    @property
    def error_for_people(self) -> str:
        """Why processing stopped, in the reader's language (`error` is the worker's wording, in English)."""
        from ctdc.web.submissions.messages import stored_for_people

        return stored_for_people(message=self.error, code=self.error_code, extra=self.error_extra,
                                 filename=self.filename)


class Problem(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=255)
    field = models.CharField(max_length=64)
    code = models.CharField(max_length=64)
    severity = models.CharField(max_length=8)
    value = models.CharField(max_length=64, null=True, blank=True, help_text="Never set for direct identifiers.")
    message = models.TextField()
    # What the rule expected (`ctdc.ingest.problems`): with the code, the value and the field, the page words the
    # message again in the reader's language (`message` is English). Null for problems stored before it existed.
    expected = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["row", "column"]
        indexes = [models.Index(fields=["submission", "code"])]


class QuarantinedRow(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="quarantine")
    row = models.PositiveIntegerField()
    record_id = models.CharField(max_length=128, help_text="Keyed hash of the record id (as cases.Victim); the "
                                                          "row number is what the contributor sees.")
    codes = models.CharField(max_length=255)

    class Meta:
        ordering = ["row"]


class DuplicateFlag(models.Model):
    """Two records of different organisations with the same keyed identity hash: possibly one person.

    Created when a submission is approved; a steward confirms or dismisses it. Records are never merged."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting review"
        CONFIRMED = "confirmed", "Same person"
        DISMISSED = "dismissed", "Different people"

    record = models.ForeignKey("cases.Victim", on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey("cases.Victim", on_delete=models.CASCADE, related_name="+")
    identity_hash = models.CharField(max_length=64)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="duplicate_flags",
                                   help_text="The approval that found the pair.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "-created_at", "pk"]
        constraints = [
            # One flag per unordered pair: the lower primary key comes first.
            models.CheckConstraint(condition=models.Q(record__lt=models.F("other")), name="duplicate_pair_ordered"),
            models.UniqueConstraint(fields=["record", "other"], name="unique_duplicate_pair"),
        ]
