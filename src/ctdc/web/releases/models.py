"""Releases: frozen, versioned, protected snapshots that the portal and the API read."""

from django.db import models


class Release(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    dataset = models.CharField(max_length=64)
    version = models.CharField(max_length=16, help_text="YYYY.MM.N")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUBLISHED)
    method = models.CharField(max_length=32)
    params = models.JSONField(default=dict)
    path = models.CharField(max_length=255, help_text="Folder of the release under the releases root.")
    summary = models.JSONField(default=dict)
    record_count = models.PositiveIntegerField()
    standard_version = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "version"], name="unique_release_version")]
