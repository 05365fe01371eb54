from django.contrib import admin

from datasets.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "status", "imported_count", "duplicate_count", "created_at"]
    list_filter = ["status"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]
