from django.contrib import admin

from ctdc.web.worker.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "started_at", "seen_at", "stopped_at")
    readonly_fields = list_display
