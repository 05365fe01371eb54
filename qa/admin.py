"""Django admin for site administrators: QA records to look at, not to edit. Decisions, versions and samples are
made through qa's services (versioned, audited, repeatable); an edit here would bypass all three."""

from django.contrib import admin

from qa.models import Adjudication, Agreement, EdgeCase, QaPolicy, ReReview, SpotCheck, SpotCheckSample


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QaPolicy)
class QaPolicyAdmin(ReadOnlyAdmin):
    list_display = [
        "project",
        "version",
        "calibration_image_count",
        "spot_check_rate",
        "mask_iou_threshold",
        "created_at",
    ]
    list_filter = ["project"]


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["image", "project", "phase", "first_annotator", "second_annotator", "is_agreed", "mean_iou"]
    list_filter = ["project", "phase", "is_agreed"]


@admin.register(Adjudication)
class AdjudicationAdmin(ReadOnlyAdmin):
    list_display = ["agreement", "status", "decision", "adjudicator", "decided_at"]
    list_filter = ["status", "decision"]


@admin.register(SpotCheckSample)
class SpotCheckSampleAdmin(ReadOnlyAdmin):
    list_display = ["project", "seed", "rate", "drawn_by", "created_at"]
    exclude = ["population"]


@admin.register(SpotCheck)
class SpotCheckAdmin(ReadOnlyAdmin):
    list_display = ["image", "annotator", "status", "reviewer", "decided_at"]
    list_filter = ["status"]


@admin.register(EdgeCase)
class EdgeCaseAdmin(ReadOnlyAdmin):
    list_display = ["image", "flagged_by", "status", "precedent_defect_class", "decided_by"]
    list_filter = ["status"]


@admin.register(ReReview)
class ReReviewAdmin(ReadOnlyAdmin):
    list_display = ["annotation", "defect_class", "change", "status", "resolved_by"]
    list_filter = ["change", "status"]
