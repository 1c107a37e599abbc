"""Contributing organisations and who may act for them."""

from django.conf import settings
from django.db import models


class Organisation(models.Model):
    class Kind(models.TextChoices):
        HOTLINE = "hotline", "Hotline"
        CASE_MANAGEMENT = "case_management", "Case management"

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.CASE_MANAGEMENT,
                            help_text="Sets the data source type of this organisation's records.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A role a person holds (ctdc.web.accounts.roles): contributor of one organisation, or steward or
    administrator of the whole repository. The database refuses a contributor without an organisation and a
    steward or administrator with one: a steward scoped to one organisation would still act globally (issue 16)."""

    class Role(models.TextChoices):
        CONTRIBUTOR = "contributor", "Contributor"
        STEWARD = "steward", "Data steward"
        ADMINISTRATOR = "administrator", "Administrator"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="memberships",
                                     help_text="Empty for stewards, who act for the whole repository.")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="unique_membership"),
            models.CheckConstraint(
                condition=(models.Q(role="contributor", organisation__isnull=False)
                           | models.Q(role__in=["steward", "administrator"], organisation__isnull=True)),
                name="membership_scope_follows_role",
                violation_error_message="A contributor acts for one organisation; a steward or an administrator "
                                        "for the whole repository, never for one organisation."),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role}" + (f" of {self.organisation}" if self.organisation_id else "")


class Invitation(models.Model):
    """An invitation for one person to become a contributor of one organisation.

    Only a SHA-256 hash of the link's token is stored: a copy of the database cannot be turned into working links.
    The token itself is shown once to whoever invited, and sent by mail (printed on the server's console when no
    mail server is configured). A link works once, until `expires_at`, unless revoked."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    username = models.CharField(max_length=150, help_text="The account the invited person will sign in with.")
    email = models.EmailField(help_text="Where the invitation link is sent.")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.username} → {self.organisation}"

    def state(self, now) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if now >= self.expires_at else "pending"


class ApiToken(models.Model):
    """A person's key for the contributor API (`Authorization: Bearer <token>`).

    Only a SHA-256 hash of the token is stored (the token has 256 random bits, so the hash cannot be reversed by
    guessing), with its first characters to tell tokens apart. Each token has scopes (`read`: list and see the own
    organisations' submissions; `submit`: upload), an expiry, and may be revoked. It acts with its owner's roles
    at the time of use: a membership removed is access removed."""

    class Scope(models.TextChoices):
        READ = "read", "Read submissions"
        SUBMIT = "submit", "Upload submissions"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'nightly export from our CRM'.")
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, help_text="Any of 'read', 'submit'.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def state(self, now) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if now >= self.expires_at else "active"


class Agreement(models.Model):
    """A data-sharing agreement an organisation signed: which version of the text, who signed it for the
    organisation, and when (issue 16). Recorded by an administrator; nothing is accepted from an organisation
    before its first one (CTDC_REQUIRE_AGREEMENT). Kept, never edited: a new version signed is a new row, and the
    organisation's current agreement is its latest."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="agreements")
    version = models.CharField(max_length=32, help_text="The version of the agreement's text that was signed, "
                                                        "e.g. '2026-1'.")
    signed_by = models.CharField(max_length=200, help_text="Who signed for the organisation (name and role).")
    signed_on = models.DateField(help_text="The date it was signed.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.organisation} agreement {self.version} ({self.signed_on:%Y-%m-%d})"
