"""Projects, members and the defect taxonomy. Taxonomy changes are audited and bump the taxonomy revision."""

from collections.abc import Set as AbstractSet
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F

from annotation.events import TAXONOMY_CHANGED
from annotation.models import AuditAction, DefectClass, GeometryKind, Membership, Project, Role, SeverityLevel
from annotation.permissions import Capability, role_allows
from annotation.rules import MINIMUM_SIZE_FIELDS, minimum_size_of
from annotation.services.audit import audit_record, defect_class_snapshot
from annotation.services.images import assignments_release
from defectlab.errors import InUse, ValidationFailed
from defectlab.events import event_emit
from defectlab.validation import integer_check, name_check

DEFECT_CLASS_FIELDS = {"name", "color", "description", "geometry_kind", "position", "is_active", *MINIMUM_SIZE_FIELDS}
ADMIN_STAYS = "A project keeps at least one admin."
DEFECT_CLASS_SPLIT_MAX = 20  # classes one split makes: a judgement about a few kinds of defect, not a bulk import
DEFECT_CLASS_NAME_SEPARATOR = ":"  # separates the fields of Pascal VOC's label map (datasets/exporters/voc.py)


@transaction.atomic
def project_create(
    *, name: str, slug: str, created_by: User | None, description: str = "", px_per_mm: float | None = None
) -> Project:
    name_check(name, label="project name")
    if Project.objects.filter(slug=slug).exists():
        raise ValidationFailed(f"A project with the slug {slug!r} already exists.")
    project = Project.objects.create(name=name, slug=slug, description=description, px_per_mm=px_per_mm)
    if created_by is not None and created_by.is_authenticated:
        Membership.objects.create(project=project, user=created_by, role=Role.ADMIN)
    return project


@transaction.atomic
def project_update(*, project: Project, actor: User | None, **fields: Any) -> Project:
    allowed = {"name", "description", "px_per_mm"}
    for field in fields:
        if field not in allowed:
            raise ValidationFailed(f"{field} cannot be changed here.")
    if "name" in fields:
        name_check(str(fields["name"]), label="project name")
    plain = {field: value for field, value in fields.items() if field != "px_per_mm"}
    for field, value in plain.items():
        setattr(project, field, value)
    if plain:
        project.save(update_fields=[*plain])
    if "px_per_mm" in fields:
        project_calibrate(project=project, actor=actor, px_per_mm=fields["px_per_mm"])
    return project


@transaction.atomic
def project_calibrate(*, project: Project, actor: User | None, px_per_mm: float | None) -> Project:
    """Set the camera calibration (None: not calibrated, limits in mm stop applying). It rescales every minimum
    size given in mm, so it is a taxonomy change like a class's new minimum: audited, the taxonomy revision
    bumped, and QA asked to re-review the final annotations of each class with a limit in mm. The same value
    again changes nothing."""
    if px_per_mm is not None and not px_per_mm > 0:
        raise ValidationFailed("px_per_mm must be positive (or empty: not calibrated).")
    stored = Project.objects.select_for_update().get(pk=project.pk)
    before = stored.px_per_mm
    if before != px_per_mm:
        stored.px_per_mm = px_per_mm
        stored.save(update_fields=["px_per_mm"])
        audit_record(
            project=stored,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="project",
            object_id=stored.pk,
            before={"px_per_mm": before},
            after={"px_per_mm": px_per_mm},
        )
        _taxonomy_changed(stored)
        for defect_class in DefectClass.objects.filter(project=stored).order_by("pk"):
            if not minimum_size_of(defect_class).has_mm_limits:
                continue  # limits in px only: the same pixels as before
            snapshot = defect_class_snapshot(defect_class)
            _re_review_request(
                defect_class=defect_class,
                changes=["min_size_changed"],
                before={**snapshot, "px_per_mm": before},
                after={**snapshot, "px_per_mm": px_per_mm},
            )
    project.refresh_from_db(fields=["px_per_mm", "taxonomy_revision"])
    return project


def membership_changes_check(
    *, project: Project, leaving: AbstractSet[int], joining: AbstractSet[int] = frozenset()
) -> None:
    """Refuse a change of members that leaves the project without an admin: `leaving` are the user ids that stop
    being admins (demoted or removed), `joining` those that become admins in the same change. The admins' rows
    stay locked until the caller's transaction ends, so two admins demoting or removing each other at once cannot
    both succeed. A project that has no admin yet (made in the Django admin) is not held to it."""
    admin_ids = set(
        Membership.objects.select_for_update()
        .filter(project=project, role=Role.ADMIN)
        .values_list("user_id", flat=True)
    )
    admin_ids_after = (admin_ids - leaving) | joining
    if admin_ids and not admin_ids_after:
        raise ValidationFailed(ADMIN_STAYS)


@transaction.atomic
def membership_set(*, project: Project, user: User, role: str, actor: User | None = None) -> Membership:
    """Add a member or change their role. A role that does not label gives the member's open work back to the
    pool (assignments_release), as leaving the project does."""
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    if role != Role.ADMIN:
        membership_changes_check(project=project, leaving={user.pk})
    membership, _ = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    if not role_allows(role, Capability.LABEL):
        assignments_release(project=project, annotator=user, actor=actor, reason="role_changed")
    return membership


@transaction.atomic
def membership_remove(*, project: Project, user: User, actor: User | None = None) -> None:
    """Take the user out of the project. Their access ends with the membership (every selector asks for a current
    one: queue, editor, saves, comments); their open work goes back to the pool. Both are audited."""
    membership_changes_check(project=project, leaving={user.pk})
    membership = Membership.objects.select_for_update().filter(project=project, user=user).first()
    if membership is None:
        return
    assignments_release(project=project, annotator=user, actor=actor, reason="member_removed")
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.DELETE,
        object_type="membership",
        object_id=membership.pk,
        before={"user_id": user.pk, "username": user.get_username(), "role": membership.role},
        after=None,
    )
    membership.delete()


def defect_class_name_check(name: str) -> str:
    """A class name is one line of text without the separators of the export formats' label files."""
    name_check(name, label="defect class name")
    if DEFECT_CLASS_NAME_SEPARATOR in name:
        raise ValidationFailed(
            f"A defect class name cannot contain '{DEFECT_CLASS_NAME_SEPARATOR}' (Pascal VOC's label map separator)."
        )
    return name


def _check_defect_class(fields: dict[str, Any]) -> None:
    if "name" in fields:
        defect_class_name_check(fields["name"])
    if "position" in fields:
        integer_check(fields["position"], model=DefectClass, field_name="position")
    if "geometry_kind" in fields and fields["geometry_kind"] not in GeometryKind.values:
        raise ValidationFailed(f"geometry_kind must be one of {', '.join(GeometryKind.values)}.")
    for field, value in fields.items():
        if field in MINIMUM_SIZE_FIELDS and value is not None and value < 0:
            raise ValidationFailed(f"{field} cannot be negative.")


def _severity_levels_replace(*, defect_class: DefectClass, levels: list[dict[str, Any]]) -> None:
    """Levels are ordered as given (rank 1 = mildest). Levels in use keep their ids when their name stays."""
    names = [level.get("name") for level in levels]
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValidationFailed("Each severity level needs a name.")
        name_check(name, label="severity level name")
    if len(set(names)) != len(names):
        raise ValidationFailed("Severity level names must be unique within a class.")
    existing = {level.name: level for level in defect_class.severity_levels.all()}
    removed = [level for name, level in existing.items() if name not in names]
    for level in removed:
        if level.annotation_set.exists():
            raise ValidationFailed(f"Severity level {level.name!r} is used by annotations and cannot be removed.")
        level.delete()
    # Move kept levels out of the way first: ranks are unique per class.
    SeverityLevel.objects.filter(defect_class=defect_class).update(rank=F("rank") + 10_000)
    for rank, wanted in enumerate(levels, start=1):
        SeverityLevel.objects.update_or_create(
            defect_class=defect_class,
            name=wanted["name"],
            defaults={"rank": rank, "criterion": wanted.get("criterion", "")},
        )


def _taxonomy_changed(project: Project) -> None:
    Project.objects.filter(pk=project.pk).update(taxonomy_revision=F("taxonomy_revision") + 1)


def _re_review_request(
    *, defect_class: DefectClass, changes: list[str], before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Ask QA to flag the final annotations a change affects, instead of changing them silently. Announced
    after commit: annotation imports no other app (docs/architecture.md, "QA")."""
    if not changes:
        return
    event_emit(TAXONOMY_CHANGED, defect_class_id=defect_class.pk, changes=changes, before=before, after=after)


def _changes_needing_re_review(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return []
    changes = ["renamed"] if before["name"] != after["name"] else []
    if any(before[field] != after[field] for field in MINIMUM_SIZE_FIELDS):
        changes.append("min_size_changed")
    return changes


def defect_class_change_record(
    *, defect_class: DefectClass, actor: User | None, action: AuditAction, before: dict[str, Any] | None
) -> None:
    """Audit a taxonomy change made outside these services (the Django admin's forms and inlines)."""
    after = defect_class_snapshot(defect_class)
    audit_record(
        project=defect_class.project,
        actor=actor,
        action=action,
        object_type="defect_class",
        object_id=defect_class.pk,
        before=before,
        after=after,
    )
    _taxonomy_changed(defect_class.project)
    _re_review_request(
        defect_class=defect_class, changes=_changes_needing_re_review(before, after), before=before or {}, after=after
    )


@transaction.atomic
def defect_class_create(
    *,
    project: Project,
    actor: User | None,
    name: str,
    severity_levels: list[dict[str, Any]] | None = None,
    **fields: object,
) -> DefectClass:
    unknown = set(fields) - DEFECT_CLASS_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown defect class fields: {', '.join(sorted(unknown))}.")
    _check_defect_class({**fields, "name": name})
    if DefectClass.objects.filter(project=project, name=name).exists():
        raise ValidationFailed(f"The project already has a defect class named {name!r}.")
    if "position" not in fields:
        fields["position"] = DefectClass.objects.filter(project=project).count()
    defect_class = DefectClass.objects.create(project=project, name=name, **fields)
    _severity_levels_replace(defect_class=defect_class, levels=severity_levels or [])
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="defect_class",
        object_id=defect_class.pk,
        before=None,
        after=defect_class_snapshot(defect_class),
    )
    _taxonomy_changed(project)
    return defect_class


@transaction.atomic
def defect_class_update(
    *,
    defect_class: DefectClass,
    actor: User | None,
    severity_levels: list[dict[str, Any]] | None = None,
    **fields: object,
) -> DefectClass:
    defect_class = DefectClass.objects.select_for_update().get(pk=defect_class.pk)
    unknown = set(fields) - DEFECT_CLASS_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown defect class fields: {', '.join(sorted(unknown))}.")
    _check_defect_class(fields)
    before = defect_class_snapshot(defect_class)
    for field, value in fields.items():
        setattr(defect_class, field, value)
    try:
        with transaction.atomic():
            defect_class.save()
    except IntegrityError:
        raise ValidationFailed(f"The project already has a defect class named {defect_class.name!r}.") from None
    if severity_levels is not None:
        _severity_levels_replace(defect_class=defect_class, levels=severity_levels)
    after = defect_class_snapshot(defect_class)
    audit_record(
        project=defect_class.project,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="defect_class",
        object_id=defect_class.pk,
        before=before,
        after=after,
    )
    _taxonomy_changed(defect_class.project)
    _re_review_request(
        defect_class=defect_class, changes=_changes_needing_re_review(before, after), before=before, after=after
    )
    return defect_class


@transaction.atomic
def defect_class_merge(*, source: DefectClass, target: DefectClass, actor: User | None) -> DefectClass:
    """Retire `source` in favour of `target`. Annotations are not relabelled here: QA flags the final ones of
    `source` for re-review, with `target` as the suggestion."""
    if source.project_id != target.project_id or source.pk == target.pk:
        raise ValidationFailed("Merge two different defect classes of the same project.")
    if not source.is_active:
        raise ValidationFailed(f"{source.name!r} is already retired.")
    if not target.is_active:
        raise ValidationFailed(f"{target.name!r} is retired; merge into an active class.")
    before = defect_class_snapshot(source)
    retired = defect_class_update(defect_class=source, actor=actor, is_active=False)
    _re_review_request(
        defect_class=retired,
        changes=["merged"],
        before=before,
        after={**defect_class_snapshot(retired), "merged_into": {"id": target.pk, "name": target.name}},
    )
    return target


@transaction.atomic
def defect_class_split(*, defect_class: DefectClass, into: list[str], actor: User | None) -> list[DefectClass]:
    """Retire `defect_class` and create the classes named `into`, each with its kind, minimum sizes and severity
    levels. Which new class each annotation belongs to is a judgement: QA flags the final ones for re-review."""
    if len(into) < 2 or len(set(into)) != len(into):
        raise ValidationFailed("Split a class into at least two differently named classes.")
    if len(into) > DEFECT_CLASS_SPLIT_MAX:
        raise ValidationFailed(f"Split a class into at most {DEFECT_CLASS_SPLIT_MAX} classes.")
    if not defect_class.is_active:
        raise ValidationFailed(f"{defect_class.name!r} is already retired.")
    before = defect_class_snapshot(defect_class)
    copied = {field: before[field] for field in ["geometry_kind", *MINIMUM_SIZE_FIELDS]}
    levels = [{"name": level["name"], "criterion": level["criterion"]} for level in before["severity_levels"]]
    created = [
        defect_class_create(project=defect_class.project, actor=actor, name=name, severity_levels=levels, **copied)
        for name in into
    ]
    retired = defect_class_update(defect_class=defect_class, actor=actor, is_active=False)
    _re_review_request(
        defect_class=retired,
        changes=["split"],
        before=before,
        after={**defect_class_snapshot(retired), "split_into": [{"id": new.pk, "name": new.name} for new in created]},
    )
    return created


@transaction.atomic
def defect_class_delete(*, defect_class: DefectClass, actor: User | None) -> None:
    """Only an unused class can be deleted; one with annotations is deactivated instead (history stays whole)."""
    defect_class = DefectClass.objects.select_for_update().select_related("project").get(pk=defect_class.pk)
    used = defect_class.annotations.count()
    if used:
        raise InUse(f"{defect_class.name!r} is used by {used} annotations: deactivate it instead of deleting it.")
    before = defect_class_snapshot(defect_class)
    project, defect_class_id = defect_class.project, defect_class.pk
    defect_class.delete()
    audit_record(
        project=project,
        actor=actor,
        action=AuditAction.DELETE,
        object_type="defect_class",
        object_id=defect_class_id,
        before=before,
        after=None,
    )
    _taxonomy_changed(project)
