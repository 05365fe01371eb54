from dataclasses import asdict
from typing import Any, cast

from django.contrib.auth.models import User
from django.utils import timezone

from annotation.models import Annotation, AuditAction, AuditEntry, DefectClass, Project
from annotation.rules import minimum_size_of
from defectlab.rows import row_insert


def annotation_snapshot(annotation: Annotation) -> dict[str, Any]:
    return {
        "image_id": annotation.image_id,
        "defect_class_id": annotation.defect_class_id,
        "severity_id": annotation.severity_id,
        "geometry": annotation.geometry,
        "source": annotation.source,
        "author_id": annotation.author_id,
        "is_final": annotation.is_final,
        "revision": annotation.revision,
    }


def defect_class_snapshot(defect_class: DefectClass) -> dict[str, Any]:
    fields = ["name", "color", "description", "geometry_kind", "position", "is_active"]
    snapshot = {field: getattr(defect_class, field) for field in fields}
    snapshot.update(asdict(minimum_size_of(defect_class)))
    snapshot["severity_levels"] = [
        {"id": level.pk, "name": level.name, "criterion": level.criterion, "rank": level.rank}
        for level in defect_class.severity_levels.order_by("rank")
    ]
    return snapshot


def audit_record(
    *,
    project: Project,
    actor: User | None,
    action: AuditAction,
    object_type: str,
    object_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    entry = AuditEntry(
        project=project,
        actor=actor if actor and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
    )
    return cast(AuditEntry, row_insert(entry))  # every autosave writes one: SQL built once (defectlab/rows.py)


def audit_entries_created(*, annotations: list[Annotation], actor: User | None) -> list[AuditEntry]:
    """Unsaved "create" entries for annotations made in bulk (the caller saves them with bulk_create)."""
    now = timezone.now()
    return [
        AuditEntry(
            project_id=annotation.image.project_id,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="annotation",
            object_id=annotation.pk,
            before=None,
            after=annotation_snapshot(annotation),
            created_at=now,
        )
        for annotation in annotations
    ]
