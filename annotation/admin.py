"""Django admin for admins: taxonomy editing audits every change like the API does, and the admin keeps the
services' rules (a project keeps an admin; a new px_per_mm is a calibration)."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from annotation.models import (
    Annotation,
    Assignment,
    AuditAction,
    AuditEntry,
    DefectClass,
    Image,
    Membership,
    Project,
    Role,
    SeverityLevel,
)
from annotation.rules import MINIMUM_SIZE_MM_FIELDS, MINIMUM_SIZE_PX_FIELDS
from annotation.services.audit import defect_class_snapshot
from annotation.services.projects import (
    defect_class_change_record,
    defect_class_delete,
    membership_changes_check,
    project_calibrate,
)
from defectlab.errors import ValidationFailed


class MembershipFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """The services' last-admin rule over the whole inline: rows demoted, removed or handed to another user
        leave, rows saved as admin join. The check locks the admins' rows until the admin's save commits."""
        super().clean()
        if self.instance.pk is None or any(self.errors):
            return
        leaving, joining = set(), set()
        for form in self.forms:
            was_admin = form.instance.pk is not None and form.initial.get("role") == Role.ADMIN
            is_deleted = self.can_delete and self._should_delete_form(form)  # type: ignore[attr-defined]
            user = form.cleaned_data.get("user")
            if was_admin and (is_deleted or form.has_changed()):
                leaving.add(form.initial["user"])
            if not is_deleted and user is not None and form.cleaned_data.get("role") == Role.ADMIN:
                joining.add(user.pk)
        try:
            membership_changes_check(project=self.instance, leaving=leaving, joining=joining)
        except ValidationFailed as error:
            raise ValidationError(error.message) from None


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "px_per_mm", "taxonomy_revision", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["taxonomy_revision"]
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        """A new px_per_mm on an existing project goes through project_calibrate (audit, taxonomy revision,
        re-review); the other fields are saved as they are, and never the revision read when the form opened."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        plain = [field for field in form.changed_data if field != "px_per_mm"]
        if plain:
            obj.save(update_fields=plain)
        if "px_per_mm" in form.changed_data:
            project_calibrate(project=obj, actor=request.user, px_per_mm=obj.px_per_mm)


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
        ("Minimum size in pixels", {"fields": [*MINIMUM_SIZE_PX_FIELDS]}),
        ("Minimum size in millimetres (needs the project's px_per_mm)", {"fields": [*MINIMUM_SIZE_MM_FIELDS]}),
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
