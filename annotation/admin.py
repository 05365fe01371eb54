"""Django admin for admins: taxonomy editing audits every change like the API does."""

from django.contrib import admin

from annotation.models import (
    Annotation,
    Assignment,
    AuditAction,
    AuditEntry,
    DefectClass,
    Image,
    Membership,
    Project,
    SeverityLevel,
)
from annotation.services.audit import defect_class_snapshot
from annotation.services.projects import defect_class_change_record, defect_class_delete


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "px_per_mm", "taxonomy_revision", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["taxonomy_revision"]
    inlines = [MembershipInline]


class SeverityLevelInline(admin.TabularInline):
    model = SeverityLevel
    extra = 1
    ordering = ["rank"]


@admin.register(DefectClass)
class DefectClassAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "geometry_kind", "position", "is_active"]
    list_filter = ["project", "geometry_kind", "is_active"]
    inlines = [SeverityLevelInline]
    fieldsets = [
        (None, {"fields": ["project", "name", "color", "description", "geometry_kind", "position", "is_active"]}),
        ("Minimum size in pixels", {"fields": ["min_length_px", "min_width_px", "min_height_px", "min_area_px"]}),
        (
            "Minimum size in millimetres (needs the project's px_per_mm)",
            {"fields": ["min_length_mm", "min_width_mm", "min_height_mm", "min_area_mm2"]},
        ),
    ]

    def save_model(self, request, obj, form, change):
        obj._audit_before = defect_class_snapshot(DefectClass.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        defect_class_delete(defect_class=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.annotations.exists()  # a used class is deactivated, never deleted

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        defect_class = form.instance
        defect_class_change_record(
            defect_class=defect_class,
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            before=defect_class._audit_before,
        )


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["original_filename", "project", "width", "height", "status", "is_defect_free"]
    list_filter = ["project", "status", "is_defect_free"]
    search_fields = ["original_filename", "sha256"]
    readonly_fields = [field.name for field in Image._meta.fields]

    def has_add_permission(self, request):
        return False  # images come in through ingestion only (checks, renditions, dedupe)

    def has_delete_permission(self, request, obj=None):
        return False  # annotations, versions and audit entries refer to images


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["image", "annotator", "status", "created_at"]
    list_filter = ["status"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "image", "defect_class", "severity", "source", "is_final", "revision"]
    list_filter = ["source", "is_final"]
    readonly_fields = [field.name for field in Annotation._meta.fields]

    def has_add_permission(self, request):
        return False  # annotations change through the editor and services (revisions, audit, size rules)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # deletes go through the editor: revision checks and the audit trail


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
