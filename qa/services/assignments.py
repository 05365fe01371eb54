"""Handing out work for QA: two distinct annotators per image during calibration (and for the policy's ongoing
dual share), one afterwards. Assignments are made through annotation's services."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count

from annotation.models import Image, Project
from annotation.services.images import assignments_create
from defectlab.errors import ValidationFailed
from qa.sampling import is_dual_annotated
from qa.services.policies import qa_policy_current


@dataclass(frozen=True)
class QaAssignmentPlan:
    dual_image_ids: list[int]
    single_image_ids: list[int]
    assigned: int  # new assignments (images already assigned to someone are skipped)


@transaction.atomic
def qa_assignments_create(
    *, user: User, project: Project, image_ids: list[int], annotators: list[User]
) -> QaAssignmentPlan:
    """Spread the images over `annotators` in turn. Until the project has `calibration_image_count` dual-assigned
    images, each image also goes to the next annotator in the list; after that, only the images the policy's
    keyed draw picks (`dual_annotation_rate`, seeded by the policy) do."""
    if len({annotator.pk for annotator in annotators}) != len(annotators) or not annotators:
        raise ValidationFailed("Name each annotator once.")
    policy = qa_policy_current(project=project, lock=True)
    images = list(Image.objects.filter(project=project, pk__in=image_ids, assignments__isnull=True).order_by("id"))
    dual_so_far = (
        Image.objects.filter(project=project)
        .annotate(annotators=Count("assignments"))
        .filter(annotators__gte=2)
        .count()
    )
    calibration_left = max(policy.calibration_image_count - dual_so_far, 0)
    if calibration_left and len(annotators) < 2:
        raise ValidationFailed("Calibration needs two distinct annotators per image: name at least two.")
    per_annotator: dict[int, list[int]] = defaultdict(list)
    dual: list[int] = []
    single: list[int] = []
    for index, image in enumerate(images):
        first = annotators[index % len(annotators)]
        is_dual = len(dual) < calibration_left or (
            len(annotators) >= 2
            and is_dual_annotated(image_id=image.pk, rate=policy.dual_annotation_rate, seed=policy.seed)
        )
        per_annotator[first.pk].append(image.pk)
        if is_dual:
            per_annotator[annotators[(index + 1) % len(annotators)].pk].append(image.pk)
        (dual if is_dual else single).append(image.pk)
    assigned = 0
    for annotator in annotators:
        if per_annotator[annotator.pk]:
            assigned += len(
                assignments_create(
                    project=project, image_ids=per_annotator[annotator.pk], annotator=annotator, assigned_by=user
                )
            )
    return QaAssignmentPlan(dual_image_ids=dual, single_image_ids=single, assigned=assigned)
