"""Images as work items: recording ingested files, assigning them, and their status."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotation.errors import NoSuchAnnotator
from annotation.events import IMAGE_SUBMITTED, IMAGES_INGESTED
from annotation.models import (
    Assignment,
    AssignmentStatus,
    AuditAction,
    AuditEntry,
    Image,
    ImageStatus,
    Membership,
    Project,
    Role,
)
from defectlab.errors import ValidationFailed
from defectlab.events import event_emit

# Work still to be done by its annotator (the queue's open statuses); submitted work is QA's.
OPEN_ASSIGNMENT_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.RETURNED)


@dataclass(frozen=True)
class ImageRecord:
    """What ingestion learned about a stored file (see datasets/ingest.py)."""

    sha256: str
    original_filename: str
    file: str
    display_file: str
    thumbnail_file: str
    file_size_bytes: int
    format: str
    width: int
    height: int
    bit_depth: int
    channels: int
    source_type: str
    metadata: dict[str, Any]
    acquired_at: datetime | None


def image_build(*, project: Project, record: ImageRecord, is_defect_free: bool = False) -> Image:
    """An unsaved Image; `images_record` saves many at once."""
    status = ImageStatus.FINAL if is_defect_free else ImageStatus.NEW
    return Image(project=project, is_defect_free=is_defect_free, status=status, **record.__dict__)


@transaction.atomic
def images_record(*, images: list[Image]) -> list[Image]:
    """Save built images in one statement. Duplicates (same project and sha256) must be filtered by the caller
    under the same lock; the unique constraint is the last line of defence. Announces the new images per project
    (the assist app computes their embeddings)."""
    recorded = Image.objects.bulk_create(images)
    image_ids_by_project: dict[int, list[int]] = {}
    for image in recorded:
        image_ids_by_project.setdefault(image.project_id, []).append(image.pk)
    for project_id, image_ids in image_ids_by_project.items():
        event_emit(IMAGES_INGESTED, project_id=project_id, image_ids=image_ids)
    return recorded


@transaction.atomic
def assignments_create(
    *, project: Project, image_ids: list[int], annotator: User, assigned_by: User | None
) -> list[Assignment]:
    if not annotator.is_active or (
        not Membership.objects.filter(
            project=project, user=annotator, role__in=[Role.INSPECTOR, Role.SENIOR, Role.ADMIN]
        ).exists()
        and not annotator.is_superuser
    ):
        raise NoSuchAnnotator([annotator.get_username()])  # the API's answer for an unknown name, word for word
    # In the order given, so the annotator's queue (assignment order) follows it: label next ranks new work.
    position = {image_id: index for index, image_id in reversed(list(enumerate(image_ids)))}
    images = sorted(
        Image.objects.select_for_update().filter(project=project, pk__in=image_ids),
        key=lambda image: position[image.pk],
    )
    found = {image.pk for image in images}
    missing = [image_id for image_id in image_ids if image_id not in found]
    if missing:
        raise ValidationFailed(f"No such images in this project: {missing[:20]}.")
    existing = set(Assignment.objects.filter(image__in=images, annotator=annotator).values_list("image_id", flat=True))
    created = Assignment.objects.bulk_create(
        [
            Assignment(image=image, annotator=annotator, assigned_by=assigned_by)
            for image in images
            if image.pk not in existing
        ]
    )
    Image.objects.filter(pk__in=[assignment.image_id for assignment in created], status=ImageStatus.NEW).update(
        status=ImageStatus.ASSIGNED
    )
    return created


@transaction.atomic
def assignment_submit(*, image: Image, annotator: User) -> Assignment:
    """The annotator is done with the image; once every assignment is submitted the image awaits review
    (review and adjudication decide which annotations become final)."""
    assignment = Assignment.objects.select_for_update().filter(image=image, annotator=annotator).first()
    if assignment is None:
        raise ValidationFailed("This image is not assigned to you.")
    assignment.status, assignment.submitted_at = AssignmentStatus.SUBMITTED, timezone.now()
    assignment.save(update_fields=["status", "submitted_at"])
    if not image.assignments.exclude(status=AssignmentStatus.SUBMITTED).exists():
        Image.objects.filter(pk=image.pk).update(status=ImageStatus.SUBMITTED)
        # QA compares dual annotations and re-queues returned work (annotation imports no other app).
        event_emit(IMAGE_SUBMITTED, image_id=image.pk)
    return assignment


@transaction.atomic
def assignments_release(*, project: Project, annotator: User, actor: User | None, reason: str) -> list[int]:
    """Give the annotator's open work in `project` back to the pool (they left the project, or no longer label):
    their assigned, in-progress and returned assignments are deleted, each with an audit entry naming `reason`,
    and an image nobody else is assigned to goes back to `new`, ready to assign again. Submitted work stays: QA
    decides on it. What they drew stays on the image as audited history; it is not final, so the next annotator
    does not see it. Returns the ids of the images released."""
    open_work = Assignment.objects.filter(
        image__project=project, annotator=annotator, status__in=OPEN_ASSIGNMENT_STATUSES
    ).order_by("id")
    image_ids = list(open_work.values_list("image_id", flat=True))
    if not image_ids:
        return []
    # Images first, as assignments_create locks them: an assignment made meanwhile is seen before the status is set.
    list(Image.objects.select_for_update().filter(pk__in=image_ids).order_by("id").values_list("id", flat=True))
    released = list(open_work.select_for_update())
    AuditEntry.objects.bulk_create(
        AuditEntry(
            project=project,
            actor=actor if actor is not None and actor.is_authenticated else None,
            action=AuditAction.DELETE,
            object_type="assignment",
            object_id=assignment.pk,
            before={
                "image_id": assignment.image_id,
                "annotator_id": assignment.annotator_id,
                "status": assignment.status,
                "assigned_by_id": assignment.assigned_by_id,
                "reason": reason,
            },
            after=None,
        )
        for assignment in released
    )
    Assignment.objects.filter(pk__in=[assignment.pk for assignment in released]).delete()
    Image.objects.filter(pk__in=image_ids, status__in=[ImageStatus.ASSIGNED, ImageStatus.IN_PROGRESS]).exclude(
        Exists(Assignment.objects.filter(image=OuterRef("pk")))
    ).update(status=ImageStatus.NEW)
    return image_ids
