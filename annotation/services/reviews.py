"""Review outcomes on annotation rows: final annotations, images in review, work returned to an annotator, a
final answer doubted.

Called by qa (adjudication, spot checks, agreement) after its own permission checks, like `annotations_import`
is called by ingestion. The annotators' own annotations are never changed here: a decision makes new rows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.events import FINAL_ANSWER_DOUBTED
from annotation.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    AuditAction,
    AuditEntry,
    Image,
    ImageStatus,
)
from annotation.permissions import Capability
from annotation.selectors import image_get_for_user
from annotation.services.annotations import (
    _check_min_size,
    _class_and_severity,
    _parse,
    outlines_fill,
    shape_derive,
)
from annotation.services.audit import annotation_snapshot, audit_entries_created, audit_record
from defectlab.errors import ValidationFailed
from defectlab.events import event_emit

KEEP = object()  # a FinalDefect field left as the source annotation has it


@dataclass(frozen=True)
class FinalDefect:
    """One defect of an image's final answer: a copy of `source`, with changes, or new geometry (no source).

    `severity_id` KEEP keeps the source's severity when the class stays, and drops it when the class changes
    (levels belong to a class)."""

    source: Annotation | None = None
    defect_class_id: int | None = None  # None: the source's class
    severity_id: object = KEEP  # int, None or KEEP
    geometry_data: object | None = None  # None: the source's geometry

    @property
    def changes(self) -> list[str]:
        """What differs from the source: "geometry", "defect_class", "severity" (all three for new geometry)."""
        if self.source is None:
            return ["geometry", "defect_class", "severity"]
        changes = []
        if self.geometry_data is not None and self.geometry_data != self.source.geometry:
            changes.append("geometry")
        if self.defect_class_id is not None and self.defect_class_id != self.source.defect_class_id:
            changes.append("defect_class")
        if self.severity_id is not KEEP and self.severity_id != self.source.severity_id:
            changes.append("severity")
        return changes


def _final_row(*, image: Image, defect: FinalDefect, author: User | None) -> Annotation:
    source = defect.source
    if source is not None and source.image_id != image.pk:
        raise ValidationFailed(f"Annotation {source.pk} belongs to another image.")
    if source is None and (defect.defect_class_id is None or defect.geometry_data is None):
        raise ValidationFailed("A new defect needs a defect class and a geometry.")
    class_id = defect.defect_class_id
    if class_id is None:
        class_id = cast(Annotation, source).defect_class_id
    severity_id: Any = defect.severity_id
    if severity_id is KEEP:
        severity_id = source.severity_id if source is not None and class_id == source.defect_class_id else None
    if source is not None and (class_id, severity_id) == (source.defect_class_id, source.severity_id):
        # Kept as drawn: checked when it was drawn. A class retired since then is for QA's re-review to settle,
        # not a reason to lose the decision.
        defect_class, severity = source.defect_class, source.severity
    else:
        defect_class, severity = _class_and_severity(image=image, defect_class_id=class_id, severity_id=severity_id)
    if defect.geometry_data is None:
        shape_fields = {
            field: getattr(source, field)
            for field in ("geometry", "area_px", "bbox_x", "bbox_y", "bbox_width", "bbox_height", "rle", "vertex_count")
        }
    else:
        shape = shape_derive(polygons=_parse(defect.geometry_data, image), image=image)
        _check_min_size(shape=shape, defect_class=defect_class, image=image)
        shape_fields = shape.fields()
    return Annotation(
        image=image,
        defect_class=defect_class,
        severity=severity,
        source=source.source if source is not None else AnnotationSource.MANUAL,
        author=author,
        is_final=True,
        **shape_fields,
    )


@transaction.atomic
def annotations_finalize(*, image: Image, defects: Sequence[FinalDefect], actor: User | None) -> list[Annotation]:
    """Make `defects` the image's final annotations (in order) and the image final; no defects means the image
    is judged defect-free. Earlier final annotations of the image are replaced (deleted, with audit entries).

    The new rows are authored by `actor` (None: decided automatically, e.g. two annotators agreed), so an
    annotator cannot edit the final answer as if it were their own work. Unchanged copies are not re-checked
    against the minimum sizes: the source passed when it was drawn, and a later size change is flagged by QA."""
    image = Image.objects.select_for_update().select_related("project").get(pk=image.pk)
    author = actor if actor is not None and actor.is_authenticated else None
    rows = [_final_row(image=image, defect=defect, author=author) for defect in defects]
    outlines_fill(rows)  # the final answer's outlines are stored with it (annotation/outlines.py)
    previous = list(Annotation.objects.filter(image=image, is_final=True))
    now = timezone.now()
    entries = [
        AuditEntry(
            project_id=image.project_id,
            actor=author,
            action=AuditAction.DELETE,
            object_type="annotation",
            object_id=annotation.pk,
            before=annotation_snapshot(annotation),
            after=None,
            created_at=now,
        )
        for annotation in previous
    ]
    Annotation.objects.filter(pk__in=[annotation.pk for annotation in previous]).delete()
    created = Annotation.objects.bulk_create(rows)
    entries += audit_entries_created(annotations=created, actor=author)
    AuditEntry.objects.bulk_create(entries)
    Image.objects.filter(pk=image.pk).update(status=ImageStatus.FINAL, is_defect_free=not created)
    return created


def images_review_start(*, image_ids: Sequence[int]) -> int:
    """Mark submitted images as in review (an adjudication or a spot check waits for them); returns how many."""
    return Image.objects.filter(pk__in=image_ids, status=ImageStatus.SUBMITTED).update(status=ImageStatus.IN_REVIEW)


@transaction.atomic
def assignment_return(*, image: Image, annotator: User, comment: str, actor: User | None) -> Assignment:
    """Send the image back to its annotator's queue with the reviewer's comment, which the queue and the editor
    show (`Assignment.review_comment`) and the audit trail keeps."""
    if not comment.strip():
        raise ValidationFailed("Say what to fix: a returned image needs a comment.")
    assignment = Assignment.objects.select_for_update().filter(image=image, annotator=annotator).first()
    if assignment is None:
        raise ValidationFailed("This image is not assigned to that annotator.")
    assignment_submitted_at = assignment.submitted_at
    before = {"status": assignment.status, "submitted_at": assignment_submitted_at}
    assignment.status, assignment.submitted_at = AssignmentStatus.RETURNED, None
    assignment.review_comment = comment
    assignment.save(update_fields=["status", "submitted_at", "review_comment"])
    Image.objects.filter(pk=image.pk).update(status=ImageStatus.IN_PROGRESS)
    audit_record(
        project=image.project,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="assignment",
        object_id=assignment.pk,
        before={**before, "submitted_at": assignment_submitted_at and assignment_submitted_at.isoformat()},
        after={"status": AssignmentStatus.RETURNED, "submitted_at": None, "comment": comment},
    )
    return assignment


def final_answer_doubt(*, user: User, image_id: int, note: str) -> None:
    """Ask for a consensus review of the image's final answer (QA opens an edge case once this commits). Reviewers
    only (NotFound outside one's projects, PermissionDenied for other roles), on final images only."""
    image, _ = image_get_for_user(user=user, image_id=image_id, capability=Capability.REVIEW)
    if image.status != ImageStatus.FINAL:
        raise ValidationFailed("Only a final answer can be doubted; this image is still being labelled or reviewed.")
    event_emit(FINAL_ANSWER_DOUBTED, image_id=image.pk, user_id=user.pk, note=note)
