"""Taxonomy changes flag the final annotations they affect for re-review, instead of changing them silently."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation import geometry
from annotation.models import Annotation, DefectClass
from annotation.rules import min_size_violations
from annotation.services.annotations import annotation_save, min_size_rule_of
from qa.errors import AlreadyDecided
from qa.models import ReReview, ReReviewChange, ReReviewStatus
from qa.selectors import re_review_get_for_review


def _size_reasons(annotation: Annotation, defect_class: DefectClass) -> list[str]:
    image = annotation.image
    polygons = geometry.polygons_from_json(annotation.geometry, width=image.width, height=image.height)
    measurement = geometry.measure(polygons)
    return min_size_violations(min_size_rule_of(defect_class), measurement, px_per_mm=image.project.px_per_mm)


@transaction.atomic
def re_reviews_flag(
    *, defect_class_id: int, changes: list[str], before: dict[str, Any], after: dict[str, Any]
) -> list[ReReview]:
    """Flag the class's final annotations: all of them for a rename, merge or split; for a new minimum size, the
    ones now below it (with the reasons). Safe to run twice: an annotation already open for the same change is
    not flagged again."""
    defect_class = DefectClass.objects.select_related("project").filter(pk=defect_class_id).first()
    if defect_class is None:
        return []
    changes = [change for change in changes if change in ReReviewChange.values]
    finals = list(Annotation.objects.filter(defect_class=defect_class, is_final=True).select_related("image__project"))
    already = set(
        ReReview.objects.filter(defect_class=defect_class, status=ReReviewStatus.OPEN).values_list(
            "annotation_id", "change"
        )
    )
    flags = []
    for change in changes:
        for annotation in finals:
            if (annotation.pk, change) in already:
                continue
            details: dict[str, object] = {"before": before, "after": after}
            if change == ReReviewChange.MIN_SIZE_CHANGED:
                reasons = _size_reasons(annotation, defect_class)
                if not reasons:
                    continue
                details["reasons"] = reasons
            flags.append(
                ReReview(
                    project=defect_class.project,
                    annotation=annotation,
                    defect_class=defect_class,
                    change=change,
                    details=details,
                )
            )
    return ReReview.objects.bulk_create(flags)


@transaction.atomic
def re_review_resolve(
    *, user: User, re_review_id: int, resolution: str = "", defect_class_id: int | None = None
) -> ReReview:
    """Close a flag: the annotation is fine as it is, or (with `defect_class_id`, e.g. the class a merge or split
    suggests) it is relabelled through annotation's services, with its revision and audit entry."""
    re_review = re_review_get_for_review(user=user, re_review_id=re_review_id, lock=True)
    if re_review.status != ReReviewStatus.OPEN:
        raise AlreadyDecided("This re-review is already resolved.")
    if defect_class_id is not None and defect_class_id != re_review.annotation.defect_class_id:
        annotation_save(
            user=user,
            annotation_id=re_review.annotation_id,
            expected_revision=re_review.annotation.revision,
            defect_class_id=defect_class_id,
        )
    re_review.status, re_review.resolution = ReReviewStatus.RESOLVED, resolution
    re_review.resolved_by, re_review.resolved_at = user, timezone.now()
    re_review.save()
    return re_review
