import functools
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from annotation.models import Annotation, AuditAction, AuditEntry, DefectClass, Project
from annotation.rules import minimum_size_of
from defectlab.rows import row_insert, row_update, row_update_statement

# What an annotation's audit snapshot holds (attnames), in this order.
ANNOTATION_SNAPSHOT = (
    "image_id",
    "defect_class_id",
    "severity_id",
    "geometry",
    "source",
    "author_id",
    "is_final",
    "revision",
)


def annotation_snapshot(annotation: Annotation) -> dict[str, Any]:
    return {name: getattr(annotation, name) for name in ANNOTATION_SNAPSHOT}


def annotation_update_audited(annotation: Annotation, names: Sequence[str], *, project: Project, actor: User) -> int:
    """Write these fields of the (locked) annotation to its row and record the change as an "update" entry, its
    snapshots before and after; the entry's id.

    On PostgreSQL one statement does both, and the snapshots are built from the row itself: an autosave's geometry
    (up to 440 KB of JSON at the budget's limit) is parsed once, for the row, and copied into the entry as it is
    stored, instead of being sent and parsed twice more, and the old geometry is never read into Python (the
    worst save spent about a fifth of its time there, bench/geometry_abuse.py). Elsewhere (the SQLite demo) the
    same entry is written in three statements."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        before = Annotation.objects.filter(pk=annotation.pk).values(*ANNOTATION_SNAPSHOT).get()
        row_update(annotation, names)
        entry = audit_record(
            project=project,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="annotation",
            object_id=annotation.pk,
            before=before,
            after=annotation_snapshot(annotation),
        )
        return int(entry.pk)
    update_sql, update_params = row_update_statement(annotation, names)
    sql = _audited_update_sql(update_sql)
    created_at = AuditEntry._meta.get_field("created_at").get_db_prep_save(now, connection)
    actor_id = actor.pk if actor.is_authenticated else None
    entry_params = [project.pk, actor_id, AuditAction.UPDATE.value, "annotation", annotation.pk, created_at]
    with connection.cursor() as cursor:
        cursor.execute(sql, [annotation.pk, *update_params, *entry_params])
        return int(cursor.fetchone()[0])


@functools.cache
def _audited_update_sql(update_sql: str) -> str:
    """`update_sql` (row_update_statement's) with the annotation's snapshot before and after it written into a new
    audit entry. The statements of a WITH see one snapshot of the data: `before` reads the row as it was."""
    quote = connection.ops.quote_name
    columns = {field.attname: str(field.column) for field in Annotation._meta.concrete_fields}
    snapshot = ", ".join(f"'{name}', {quote(columns[name])}" for name in ANNOTATION_SNAPSHOT)
    table, pk = quote(Annotation._meta.db_table), quote(str(Annotation._meta.pk.column))
    entry_columns = ("project_id", "actor_id", "action", "object_type", "object_id", "created_at", "before", "after")
    audit_table = quote(AuditEntry._meta.db_table)
    # S608 waived: identifiers come from the models' metadata, every value is a bound parameter.
    return (
        f"WITH before AS (SELECT jsonb_build_object({snapshot}) AS snapshot FROM {table} WHERE {pk} = %s), "  # noqa: S608
        f"after AS ({update_sql} RETURNING jsonb_build_object({snapshot}) AS snapshot) "
        f"INSERT INTO {audit_table} ({', '.join(quote(column) for column in entry_columns)}) "
        "SELECT %s, %s, %s, %s, %s, %s, before.snapshot, after.snapshot FROM before, after "
        f"RETURNING {quote(str(AuditEntry._meta.pk.column))}"
    )


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
