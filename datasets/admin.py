from django.contrib import admin

from datasets.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "job", "imported_count", "duplicate_count", "created_at"]
    list_select_related = ["project", "job"]
    readonly_fields = [field.name for field in ImportJob._meta.fields]
