"""What the portal keeps: usage counts (no person in them) and the publications that cite each release."""

from django.db import models


class UsageCount(models.Model):
    """Requests per day, kind and name (a page's URL pattern, a release file, an API route).

    Nothing about the reader is stored: no IP address, no user agent, no cookie, no query string, no time finer than
    the day. Counts are incremented by `ctdc.web.portal.usage`.
    """

    class Kind(models.TextChoices):
        PAGE = "page", "Page view"
        DOWNLOAD = "download", "Download"
        API = "api", "API call"

    day = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=255)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["day", "kind", "name"], name="one_usage_count_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.name}: {self.count}"


class ReleaseUse(models.Model):
    """A publication or report that cites a release ("used in"), kept by data stewards."""

    dataset = models.CharField(max_length=64)
    version = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    authors = models.CharField(max_length=300)
    link = models.URLField(max_length=500)
    date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["dataset", "version"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.dataset} {self.version})"
