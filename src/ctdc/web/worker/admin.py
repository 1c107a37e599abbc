from django.contrib import admin

from ctdc.web.worker.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "seen_at", "stopped_at")
    readonly_fields = list_display

    # Heartbeats are written by the workers themselves; an added or edited one would be a made-up worker.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
