"""Read-only admin views of submissions, saved mappings and duplicate flags.

Changes go through the intake pages and services (approval, re-processing, verdicts), never through the admin."""

from django.contrib import admin

from ctdc.web.submissions.models import DuplicateFlag, SavedMapping, Submission


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnly):
    list_display = ("pk", "organisation", "filename", "status", "rows_read", "accepted", "quarantined", "duplicates",
                    "created_at")
    list_filter = ("status", "organisation")
    exclude = ("stats", "read_info")


@admin.register(SavedMapping)
class SavedMappingAdmin(ReadOnly):
    list_display = ("organisation", "name", "version_hash", "created_at")
    list_filter = ("organisation",)


@admin.register(DuplicateFlag)
class DuplicateFlagAdmin(ReadOnly):
    list_display = ("pk", "record", "other", "status", "created_at")
    list_filter = ("status",)
