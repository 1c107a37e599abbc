"""Admin for administrators and data stewards: organisations and who acts for them.

Stewards reach it through the "Data stewards" group (accounts.services.STEWARD_PERMISSIONS). A steward manages
contributor memberships only: the steward role, users and permissions stay with administrators (superusers), so a
steward cannot make another steward or change an account's password here."""

from django.contrib import admin

from ctdc.web.accounts.models import Invitation, Membership, Organisation

# The blank choice stays: without it an untouched extra row would look filled in and block the form.
CONTRIBUTOR_ONLY = [("", "---------"), (Membership.Role.CONTRIBUTOR, Membership.Role.CONTRIBUTOR.label)]


def _contributor_only(request) -> bool:
    return not request.user.is_superuser


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0  # "Add another Membership" adds a row when one is wanted

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(role=Membership.Role.CONTRIBUTOR) if _contributor_only(request) else qs

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and _contributor_only(request):
            kwargs["choices"] = CONTRIBUTOR_ONLY
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "kind", "created_at")
    search_fields = ("slug", "name")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role")
    list_filter = ("role", "organisation")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(role=Membership.Role.CONTRIBUTOR) if _contributor_only(request) else qs

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and _contributor_only(request):
            kwargs["choices"] = CONTRIBUTOR_ONLY
        return super().formfield_for_choice_field(db_field, request, **kwargs)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made and withdrawn on /accounts/invitations/ (the token is never stored)."""

    list_display = ("username", "organisation", "email", "invited_by", "created_at", "expires_at", "accepted_at",
                    "revoked_at")
    list_filter = ("organisation",)
    exclude = ("token_hash",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
