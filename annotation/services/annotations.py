"""Annotations: create, save with optimistic concurrency, delete, bulk import. Every change is audited."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction

from annotation import geometry
from annotation.errors import AlreadySubmitted, AnnotationConflict, DefectTooSmall, ImageHasAnnotations
from annotation.events import FINAL_ANNOTATION_EDITED
from annotation.geometry import Box, Measurement
from annotation.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    AuditAction,
    AuditEntry,
    DefectClass,
    GeometryKind,
    Image,
    ImageStatus,
    SeverityLevel,
)
from annotation.outlines import outline_texts_for_rles
from annotation.permissions import Capability, is_work_closed, role_allows
from annotation.rules import MinSizeRule, min_size_violations, minimum_size_of
from annotation.selectors import (
    annotation_deleted_for_edit,
    annotation_get_for_edit,
    assignment_get_for_image,
    image_get_for_user,
)
from annotation.services.audit import (
    annotation_snapshot,
    annotation_update_audited,
    audit_entries_created,
    audit_record,
)
from annotation.services.geometry_budget import (
    geometry_budget,
    image_budget_check,
    polygons_budget_check,
    too_complex,
)
from defectlab.errors import NotFound, PermissionDenied, ValidationFailed
from defectlab.events import event_emit


def min_size_rule_of(defect_class: DefectClass) -> MinSizeRule:
    return MinSizeRule(
        is_linear=defect_class.geometry_kind == GeometryKind.LINEAR, **asdict(minimum_size_of(defect_class))
    )


@dataclass(frozen=True)
class DerivedShape:
    """Everything stored beside the geometry, computed once at save."""

    geometry: dict[str, Any]
    area_px: float
    bbox: Box
    rle: dict[str, Any]
    measurement: Measurement
    vertex_count: int

    def fields(self) -> dict[str, Any]:
        return {
            "geometry": self.geometry,
            "area_px": self.area_px,
            "bbox_x": self.bbox.x,
            "bbox_y": self.bbox.y,
            "bbox_width": self.bbox.width,
            "bbox_height": self.bbox.height,
            "rle": self.rle,
            "vertex_count": self.vertex_count,
        }


def shape_derive(*, polygons: list[geometry.Polygon], image: Image) -> DerivedShape:
    """Area, box, RLE and sizes. Each polygon is rasterised over its own box only (geometry.rasterize_runs): the
    cost grows with the defect, not with the image or the distance between its parts."""
    box = geometry.polygons_bbox(polygons)
    runs = geometry.rasterize_runs(polygons)
    measurement = geometry.measure(polygons, area_px=runs.area_px)
    return DerivedShape(
        geometry=geometry.polygons_to_json(polygons),
        area_px=measurement.area_px,
        bbox=box,
        rle=geometry.rle_from_runs(runs, width=image.width, height=image.height),
        measurement=measurement,
        vertex_count=geometry.vertex_count(polygons),
    )


def outlines_fill(annotations: Sequence[Annotation]) -> None:
    """Set the stored pixel-edge outline of the final annotations among `annotations` (about to be written), traced
    together; work in progress keeps none (annotation/outlines.py says why)."""
    finals = [annotation for annotation in annotations if annotation.is_final]
    for annotation, text in zip(finals, outline_texts_for_rles([annotation.rle for annotation in finals]), strict=True):
        annotation.outline = text


def _parse(raw_geometry: object, image: Image) -> list[geometry.Polygon]:
    """The polygons, checked, within the geometry budget (counted and priced before anything is rasterised)."""
    try:
        return geometry.polygons_from_json(
            raw_geometry, width=image.width, height=image.height, budget=geometry_budget()
        )
    except geometry.BudgetExceeded as error:
        raise too_complex(error) from None
    except geometry.GeometryError as error:
        raise ValidationFailed(f"Invalid geometry: {error}") from None


def _check_min_size(*, shape: DerivedShape, defect_class: DefectClass, image: Image) -> None:
    reasons = min_size_violations(min_size_rule_of(defect_class), shape.measurement, px_per_mm=image.project.px_per_mm)
    if reasons:
        raise DefectTooSmall(
            f"Too small for {defect_class.name}: {'; '.join(reasons)}.",
            defect_class=defect_class.name,
            reasons=reasons,
        )


def _class_and_severity(
    *, image: Image, defect_class_id: int, severity_id: int | None, current: Annotation | None = None
) -> tuple[Any, ...]:
    """The class and severity to save, checked. An edit that keeps them reuses `current`'s (already loaded with
    it): autosave sends geometry only, and it is the path the editor calls most."""
    defect_class: DefectClass | None
    if current is not None and defect_class_id == current.defect_class_id:
        defect_class = current.defect_class
    else:
        defect_class = DefectClass.objects.filter(pk=defect_class_id, project_id=image.project_id).first()
    if defect_class is None:
        raise ValidationFailed("No such defect class in this project.")
    if not defect_class.is_active:
        raise ValidationFailed(f"The defect class {defect_class.name!r} is retired; pick another.")
    if severity_id is None:
        return defect_class, None
    kept = current.severity if current is not None and severity_id == current.severity_id else None
    if kept is not None and kept.defect_class_id == defect_class.pk:
        return defect_class, kept
    severity = SeverityLevel.objects.filter(pk=severity_id, defect_class=defect_class).first()
    if severity is None:
        raise ValidationFailed(f"That severity level does not belong to {defect_class.name!r}.")
    return defect_class, severity


def _check_work_open(*, image: Image, user: User, role: str) -> None:
    """An inspector's submitted work stays as submitted until a reviewer returns it (AlreadySubmitted)."""
    if role_allows(role, Capability.REVIEW):
        return  # reviewers edit anyone's work at any time; no query
    assignment = assignment_get_for_image(user=user, image=image)
    if is_work_closed(role=role, assignment_status=assignment.status if assignment else None):
        raise AlreadySubmitted()


def _final_edit_report(entry_id: int) -> None:
    """A reviewer changed an image's final answer in the editor: QA records it with the decision that made the
    answer (adjudication or spot check). Announced after commit with the audit entry, which says who
    changed what: annotation imports no other app (docs/architecture.md, "QA")."""
    event_emit(FINAL_ANNOTATION_EDITED, audit_entry_id=entry_id)


def _mark_in_progress(*, image: Image, user: User) -> None:
    Assignment.objects.filter(image=image, annotator=user, status=AssignmentStatus.ASSIGNED).update(
        status=AssignmentStatus.IN_PROGRESS
    )
    Image.objects.filter(pk=image.pk, status__in=[ImageStatus.NEW, ImageStatus.ASSIGNED]).update(
        status=ImageStatus.IN_PROGRESS
    )


@transaction.atomic
def annotation_create(
    *,
    user: User,
    image_id: int,
    defect_class_id: int,
    geometry_data: object,
    severity_id: int | None = None,
    source: str = AnnotationSource.MANUAL,
    is_final: bool = False,
    provenance: dict[str, Any] | None = None,
) -> Annotation:
    """Draw a defect: the user's own work on the image, or (`is_final`, reviewers only) a defect added to a final
    image's answer, as a reviewer does in the editor after a decision. `provenance` records how an assisted or
    model annotation was made (the engine, its prompt); drawing by hand has none."""
    if provenance is not None and source == AnnotationSource.MANUAL:
        raise ValidationFailed("A defect drawn by hand has no provenance; send it with source assisted or model.")
    image, role = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    if is_final:
        if not role_allows(role, Capability.REVIEW):
            raise PermissionDenied("Only reviewers change an image's final annotations.")
        if image.status != ImageStatus.FINAL:
            raise ValidationFailed("Final annotations are added to final images only; decide the review first.")
    else:
        _check_work_open(image=image, user=user, role=role)
    defect_class, severity = _class_and_severity(image=image, defect_class_id=defect_class_id, severity_id=severity_id)
    polygons = _parse(geometry_data, image)
    image_budget_check(image=image, added_annotations=1, added_vertices=geometry.vertex_count(polygons))
    shape = shape_derive(polygons=polygons, image=image)
    _check_min_size(shape=shape, defect_class=defect_class, image=image)
    annotation = Annotation(
        image=image,
        defect_class=defect_class,
        severity=severity,
        source=source,
        provenance=provenance,
        author=user,
        is_final=is_final,
        **shape.fields(),
    )
    outlines_fill([annotation])
    annotation.save(force_insert=True)
    entry = audit_record(
        project=image.project,
        actor=user,
        action=AuditAction.CREATE,
        object_type="annotation",
        object_id=annotation.pk,
        before=None,
        after=annotation_snapshot(annotation),
    )
    if is_final:
        _final_edit_report(entry.pk)
    else:
        _mark_in_progress(image=image, user=user)
    return annotation


_UNSET = object()


def _annotation_for_edit(*, user: User, annotation_id: int, read_geometry: bool = True) -> Annotation:
    """The annotation, locked until the transaction ends. One that someone deleted is a conflict (the editor
    shows it and lets the user keep their version as a new annotation), not a 404."""
    try:
        return annotation_get_for_edit(
            user=user, annotation_id=annotation_id, lock=True, read_geometry=read_geometry
        )
    except NotFound:
        if annotation_deleted_for_edit(user=user, annotation_id=annotation_id):
            message = "Someone deleted this annotation while you were editing it."
            raise AnnotationConflict(message, current=None) from None
        raise


@transaction.atomic
def annotation_save(
    *,
    user: User,
    annotation_id: int,
    expected_revision: int,
    geometry_data: object = _UNSET,
    defect_class_id: int | None = None,
    severity_id: object = _UNSET,
) -> Annotation:
    """Save an edit. Raises AnnotationConflict (with the current version, or None if it was deleted) if someone
    saved or deleted it after `expected_revision`: nothing is silently overwritten."""
    # A new outline replaces the stored one unread (up to 440 KB of JSON); the geometry loads if something asks.
    annotation = _annotation_for_edit(
        user=user, annotation_id=annotation_id, read_geometry=geometry_data is _UNSET
    )
    if annotation.revision != expected_revision:
        raise AnnotationConflict(
            f"Someone saved this annotation after revision {expected_revision}; it is now at "
            f"revision {annotation.revision}.",
            current=annotation,
        )
    image = annotation.image
    class_id = defect_class_id if defect_class_id is not None else annotation.defect_class_id
    if severity_id is _UNSET:
        severity_id = annotation.severity_id if class_id == annotation.defect_class_id else None
    defect_class, severity = _class_and_severity(
        image=image, defect_class_id=class_id, severity_id=cast(int | None, severity_id), current=annotation
    )
    raw = annotation.geometry if geometry_data is _UNSET else geometry_data
    polygons = _parse(raw, image)
    vertex_count = geometry.vertex_count(polygons)
    if vertex_count > annotation.vertex_count:  # only growth can break the image's budget (autosaves rarely grow)
        image_budget_check(
            image=image, added_annotations=0, added_vertices=vertex_count, replaced_annotation_id=annotation.pk
        )
    shape = shape_derive(polygons=polygons, image=image)
    _check_min_size(shape=shape, defect_class=defect_class, image=image)
    annotation.defect_class, annotation.severity = defect_class, severity
    fields = shape.fields()
    # The outline of a final answer is stored with it (annotation/outlines.py); an autosave of work in progress
    # neither traces one nor keeps a stale one.
    fields["outline"] = outline_texts_for_rles([shape.rle])[0] if annotation.is_final else None
    for field, value in fields.items():
        setattr(annotation, field, value)
    annotation.revision += 1
    # The autosave path: SQL built once (defectlab/rows.py); the row is locked, so it is there to update.
    entry_id = annotation_update_audited(
        annotation, [*fields, "defect_class", "severity", "revision", "updated_at"], project=image.project, actor=user
    )
    if annotation.is_final:
        _final_edit_report(entry_id)
    return annotation


@transaction.atomic
def annotation_delete(*, user: User, annotation_id: int, expected_revision: int) -> None:
    annotation = _annotation_for_edit(user=user, annotation_id=annotation_id)
    if annotation.revision != expected_revision:
        raise AnnotationConflict(
            f"Someone changed this annotation (now revision {annotation.revision}) before your delete.",
            current=annotation,
        )
    entry = audit_record(
        project=annotation.image.project,
        actor=user,
        action=AuditAction.DELETE,
        object_type="annotation",
        object_id=annotation.pk,
        before=annotation_snapshot(annotation),
        after=None,
    )
    if annotation.is_final:
        _final_edit_report(entry.pk)
    annotation.delete()


@dataclass(frozen=True)
class ImportedDefect:
    defect_class: DefectClass
    polygons: list[geometry.Polygon]
    severity: SeverityLevel | None = None


@transaction.atomic
def annotations_import(
    *,
    image: Image,
    defects: list[ImportedDefect],
    author: User | None,
    source: str = AnnotationSource.IMPORTED,
    is_final: bool = True,
) -> list[Annotation]:
    """Record existing labels (masks, COCO) as annotations, in bulk. Minimum sizes are not enforced: imported
    ground truth is kept as it was drawn, and review decides. The geometry budget is (GeometryTooComplex): what
    is stored must stay editable and the editor's load of the image bounded."""
    for defect in defects:
        if defect.defect_class.project_id != image.project_id:
            raise PermissionDenied("A defect class of another project cannot be used here.")
        polygons_budget_check(defect.polygons)
    image_budget_check(
        image=image,
        added_annotations=len(defects),
        added_vertices=sum(geometry.vertex_count(defect.polygons) for defect in defects),
    )
    annotations = [
        Annotation(
            image=image,
            defect_class=defect.defect_class,
            severity=defect.severity,
            source=source,
            author=author,
            is_final=is_final,
            **shape_derive(polygons=defect.polygons, image=image).fields(),
        )
        for defect in defects
    ]
    outlines_fill(annotations)
    annotations = Annotation.objects.bulk_create(annotations)
    AuditEntry.objects.bulk_create(audit_entries_created(annotations=annotations, actor=author))
    if is_final and annotations:
        Image.objects.filter(pk=image.pk).update(status=ImageStatus.FINAL)
    return annotations


@transaction.atomic
def annotations_import_new_images(
    *, defects_by_image: Sequence[tuple[Image, list[ImportedDefect]]], author: User | None
) -> int:
    """`annotations_import` (final, source "imported") for a batch of images recorded in the caller's transaction,
    whose defects already passed `new_image_budget_check` (ingestion checks each mask before storing its image).
    No one else can have annotated an image that is not committed yet, so its row is not locked nor its totals
    summed: the batch is written in three statements, not five per image. The number of annotations written."""
    annotations = []
    for image, defects in defects_by_image:
        for defect in defects:
            if defect.defect_class.project_id != image.project_id:
                raise PermissionDenied("A defect class of another project cannot be used here.")
            annotations.append(
                Annotation(
                    image=image,
                    defect_class=defect.defect_class,
                    severity=defect.severity,
                    source=AnnotationSource.IMPORTED,
                    author=author,
                    is_final=True,
                    **shape_derive(polygons=defect.polygons, image=image).fields(),
                )
            )
    outlines_fill(annotations)
    annotations = Annotation.objects.bulk_create(annotations)
    AuditEntry.objects.bulk_create(audit_entries_created(annotations=annotations, actor=author))
    labelled = {image.pk for image, defects in defects_by_image if defects}
    if labelled:
        Image.objects.filter(pk__in=labelled).update(status=ImageStatus.FINAL)
    return len(annotations)


@transaction.atomic
def image_defect_free_set(*, user: User, image_id: int, is_defect_free: bool) -> Image:
    """Record the user's judgement that the image shows no defect, or withdraw it: an explicit, audited act (who
    and when are in the audit entry), never inferred from an absence of annotations. Marking an image defect-free
    is refused while the user's own annotations on it say otherwise."""
    image, role = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    _check_work_open(image=image, user=user, role=role)
    # The row lock orders concurrent judgements, so each audit entry's `before` is the value it replaced.
    before = Image.objects.select_for_update().values_list("is_defect_free", flat=True).get(pk=image.pk)
    if is_defect_free:
        own_ids = list(
            Annotation.objects.filter(image=image, author=user).order_by("id").values_list("pk", flat=True)[:100]
        )
        if own_ids:
            count, them = (f"{len(own_ids)} annotations", "them") if len(own_ids) > 1 else ("1 annotation", "it")
            raise ImageHasAnnotations(
                f"You have {count} on this image; delete {them} before marking it defect-free.",
                annotation_ids=own_ids,
            )
    Image.objects.filter(pk=image.pk).update(is_defect_free=is_defect_free)
    audit_record(
        project=image.project,
        actor=user,
        action=AuditAction.UPDATE,
        object_type="image",
        object_id=image.pk,
        before={"is_defect_free": before},
        after={"is_defect_free": is_defect_free},
    )
    _mark_in_progress(image=image, user=user)
    image.refresh_from_db(fields=["is_defect_free", "status"])
    return image
