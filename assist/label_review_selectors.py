"""Reads for label next and label-error review (assist/services/label_review.py): the images still to label, the
ranked queue, the annotations the model doubts and what a senior needs beside each."""

from collections import defaultdict
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet

from annotation.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    Image,
    ImageStatus,
    Membership,
    Project,
    Role,
)
from assist.models import (
    LabelErrorScore,
    LabelErrorStatus,
    LabelNextScore,
)
from assist.permissions import AssistAction, project_get_for_assist
from defectlab.errors import NotFound

TO_LABEL_STATUSES = (ImageStatus.NEW, ImageStatus.ASSIGNED)  # nobody has started on them


def images_to_label(*, project: Project) -> QuerySet[Image]:
    """Images nobody has started on (new, or assigned and not opened), not judged defect-free, with no
    annotation at all: what label next ranks."""
    annotated = Annotation.objects.filter(image=OuterRef("pk"))
    return Image.objects.filter(project=project, status__in=TO_LABEL_STATUSES, is_defect_free=False).exclude(
        Exists(annotated)
    )


def label_next_list_for_project(*, project: Project) -> QuerySet[LabelNextScore]:
    """The label-next ranking, most uncertain first: scores of images that are still to label."""
    still_to_label = images_to_label(project=project).filter(pk=OuterRef("image_id"))
    return (
        LabelNextScore.objects.filter(project=project)
        .filter(Exists(still_to_label))
        .select_related("image")
        .order_by("-score", "-mean_entropy", "image_id")
    )


def label_next_ranked_image_ids(*, images: QuerySet[Image], limit: int) -> list[int]:
    """The hook annotation's `image_ids_next_to_assign` calls (DEFECTLAB_LABEL_NEXT_RANKING): of `images`, the
    ids of those with a label-next score, most uncertain first, at most `limit`."""
    ranked = LabelNextScore.objects.filter(image__in=images).order_by("-score", "-mean_entropy", "image_id")
    return list(ranked.values_list("image_id", flat=True)[:limit])


def label_error_list_for_project(
    *, project: Project, status: str | None = LabelErrorStatus.OPEN
) -> QuerySet[LabelErrorScore]:
    """The label-error queue, the labels the model doubts most first (lowest label quality), of images whose
    final answer is still the one scored."""
    entries = LabelErrorScore.objects.filter(project=project).select_related("image", "decided_by")
    if status is not None:
        entries = entries.filter(status=status)
    if status == LabelErrorStatus.OPEN:
        entries = entries.filter(image__status=ImageStatus.FINAL)
    return entries.order_by("score", "image_id")


def label_error_get_for_review(*, user: User, label_error_id: int, lock: bool = False) -> LabelErrorScore:
    """An entry of a project where the user may review labels: NotFound outside the user's projects (as for an id
    that does not exist), PermissionDenied for roles other than senior and admin."""
    entries = LabelErrorScore.objects.select_related("image")
    if lock:
        entries = entries.select_for_update(of=("self",))
    entry = entries.filter(pk=label_error_id).first()
    if entry is None:
        raise NotFound("No such label-error entry.")
    try:
        project_get_for_assist(user=user, project_id=entry.project_id, action=AssistAction.REVIEW_LABELS)
    except NotFound:
        raise NotFound("No such label-error entry.") from None
    return entry


def label_error_context(*, entries: list[LabelErrorScore]) -> dict[str, Any]:
    """What the queue shows beside the scores, for a page of entries in two queries: `geometries` (annotation id
    -> its current geometry) and `annotators` (image id -> the usernames whose submitted work made its final
    answer)."""
    annotation_ids = [row["annotation_id"] for entry in entries for row in entry.annotations]
    geometries = dict(Annotation.objects.filter(pk__in=annotation_ids).values_list("pk", "geometry"))
    annotators: dict[int, list[str]] = defaultdict(list)
    assignments = Assignment.objects.filter(
        image_id__in=[entry.image_id for entry in entries],
        status=AssignmentStatus.SUBMITTED,
    ).order_by("id")
    for image_id, username in assignments.values_list("image_id", "annotator__username"):
        annotators[image_id].append(username)
    return {"geometries": geometries, "annotators": dict(annotators)}


def annotator_usernames_for_project(*, project: Project) -> list[str]:
    """Who new work can be assigned to (annotation's assignments_create: inspectors, seniors and admins)."""
    members = Membership.objects.filter(
        project=project, role__in=[Role.INSPECTOR, Role.SENIOR, Role.ADMIN], user__is_active=True
    )
    return list(members.order_by("user__username").values_list("user__username", flat=True))
