from django.contrib import admin

from defectlab.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at runtime
    list_display = ["id", "kind", "project", "status", "progress_done", "progress_total", "attempts", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [field.name for field in Job._meta.fields]
