"""Reads. Every lookup by id is scoped to the user's projects: another project's ids raise NotFound."""

import functools
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
)
from django.db.models.functions import Cast, Coalesce

from annotation.errors import AlreadySubmitted
from annotation.models import (
    Annotation,
    Assignment,
    AuditAction,
    AuditEntry,
    DefectClass,
    FinalAnnotationCountChange,
    Image,
    ImageComment,
    ImageCountChange,
    ImageStatus,
    Membership,
    Project,
    Role,
    SeverityLevel,
)
from annotation.permissions import ROLE_CAPABILITIES, Capability, is_work_closed, role_allows
from annotation.queue_selectors import queue_neighbours_for_image, work_of_member
from defectlab.db.iso_timestamps import iso_text_in_sql
from defectlab.errors import NotFound, PermissionDenied
from defectlab.jobs.access import JobAccess
from defectlab.keyset import scope_filter, scope_ordering
from defectlab.rows import RowLayout, row_layout


def role_for(*, user: User, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()


def project_list_for_user(*, user: User) -> QuerySet[Project]:
    projects = Project.objects.all()
    return projects if user.is_superuser else projects.filter(memberships__user=user)


def project_get_for_user(
    *,
    user: User,
    project_id: int | None = None,
    slug: str | None = None,
    capability: Capability = Capability.VIEW_PROJECT,
) -> tuple[Project, str]:
    """The project and the user's role in it, if the role grants `capability`."""
    lookup = {"pk": project_id} if project_id is not None else {"slug": slug}
    project = Project.objects.filter(**lookup).first()
    role = role_for(user=user, project=project) if project else None
    if project is None or role is None:
        raise NotFound("No such project.")
    if not role_allows(role, capability):
        raise PermissionDenied(f"Your role ({role}) may not {capability.value.replace('_', ' ')} in this project.")
    return project, role


def project_job_access(*, user: User, project_id: int) -> JobAccess:
    """How far the user reaches into the project's background jobs (defectlab/jobs asks through the setting
    DEFECTLAB_JOB_PROJECT_ACCESS): members see them; those who manage the project also cancel anyone's."""
    project = Project.objects.filter(pk=project_id).first()
    role = role_for(user=user, project=project) if project else None
    if role is None:
        return JobAccess.NONE
    return JobAccess.MANAGE if role_allows(role, Capability.MANAGE_PROJECT) else JobAccess.VIEW


def annotators_by_username(*, project: Project, usernames: list[str]) -> dict[str, User]:
    """The active users among `usernames` who may be given work in `project` (a role there that labels, or a
    site administrator), by username. Names that match nobody and names of users who may not label here are
    left out alike: callers answer both the same way (NoSuchAnnotator), so usernames cannot be probed."""
    labelling_roles = [role for role, capabilities in ROLE_CAPABILITIES.items() if Capability.LABEL in capabilities]
    may_label = Q(memberships__project=project, memberships__role__in=labelling_roles) | Q(is_superuser=True)
    users = get_user_model().objects.filter(may_label, username__in=usernames, is_active=True).distinct()
    return {user.get_username(): user for user in users}


def _images_visible_to(*, user: User, role: str, project: Project, is_keyset_list: bool = False) -> QuerySet[Image]:
    # A keyset list selects the project as a one-value range, to stay on its (project, ...) index: see keyset.py.
    images = Image.objects.filter(**scope_filter("project_id", project.pk) if is_keyset_list else {"project": project})
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        images = images.filter(assignments__annotator=user)  # inspectors see their own queue only
    return images


def image_list_for_project(
    *,
    user: User,
    role: str,
    project: Project,
    status: str | None = None,
    defect_class_id: int | None = None,
    is_defect_free: bool | None = None,
) -> QuerySet[Image]:
    images = _images_visible_to(user=user, role=role, project=project, is_keyset_list=True)
    if status:
        images = images.filter(status=status)
    if defect_class_id is not None:
        labelled = Annotation.objects.filter(image=OuterRef("pk"), defect_class_id=defect_class_id)
        if not role_allows(role, Capability.VIEW_ALL_IMAGES):
            # As in annotation_list_for_image: in dual annotation an inspector must not learn (here, by filtering)
            # what the other annotator drew.
            labelled = labelled.filter(Q(author=user) | Q(is_final=True))
        images = images.filter(Exists(labelled))
    if is_defect_free is not None:
        images = images.filter(is_defect_free=is_defect_free)
    # In id order, read from the index. No list shows the metadata (EXIF, camera) or the pyramid: left unread.
    return images.defer("metadata", "pyramid").order_by(*scope_ordering(("project_id",), ("id",)))


def image_get_for_user(
    *, user: User, image_id: int, capability: Capability = Capability.VIEW_PROJECT
) -> tuple[Image, str]:
    image = Image.objects.select_related("project").filter(pk=image_id).first()
    if image is None:
        raise NotFound("No such image.")
    return image, _role_on_image(user=user, image=image, capability=capability)


def _role_on_image(
    *,
    user: User,
    image: Image,
    capability: Capability,
    access: tuple[str | None, bool] | None = None,
) -> str:
    """The user's role, if they may see `image` (with its project loaded) and their role grants `capability`.
    `access` is (membership role, is assigned) when a query already read them (see _annotation_with_access)."""
    if access is None:
        role = role_for(user=user, project=image.project)
    else:
        role = Role.ADMIN if user.is_superuser else access[0]
    if role is None:
        raise NotFound("No such image.")
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        is_assigned = access[1] if access is not None else image.assignments.filter(annotator=user).exists()
        if not is_assigned:
            raise NotFound("No such image.")
    if not role_allows(role, capability):
        raise PermissionDenied(f"Your role ({role}) may not {capability.value.replace('_', ' ')} in this project.")
    return role


def image_tile_key(*, image: Image, level: int, column: int, row: int) -> str:
    """The storage key of one tile of the image's pyramid (see datasets/pyramid.py); NotFound outside it."""
    pyramid = image.pyramid
    if not pyramid:
        raise NotFound("This image has no tiles; the editor loads its display file.")
    levels = pyramid["levels"]
    if not 0 <= level < len(levels):
        raise NotFound(f"No such pyramid level; this image has levels 0 to {len(levels) - 1}.")
    if not (0 <= column < levels[level]["columns"] and 0 <= row < levels[level]["rows"]):
        grid = f"{levels[level]['columns']} x {levels[level]['rows']}"
        raise NotFound(f"No such tile; level {level} has {grid} tiles (columns x rows).")
    return cast(str, pyramid["key_template"].format(level=level, column=column, row=row))


def image_status_counts(*, user: User, role: str, project: Project) -> dict[str, int]:
    """Every status (zero included, so the shape never changes) and `defect_free`, in one query. Whoever sees
    the whole project reads the sums of the count changes its triggers keep (ImageCountChange: a few rows, not
    a COUNT over every image); an inspector's counts are over their own assignments, counted as they are."""
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        counts = {status: Count("id", filter=Q(status=status)) for status in ImageStatus.values}
        counts["defect_free"] = Count("id", filter=Q(is_defect_free=True))
        return _images_visible_to(user=user, role=role, project=project).aggregate(**counts)
    sums = dict.fromkeys([*ImageStatus.values, "defect_free"], 0)
    changes = (
        ImageCountChange.objects.filter(project_id=project.pk)
        .values_list("status", "is_defect_free")
        .annotate(images=Sum("images"))
        .order_by()
    )
    for status, is_defect_free, images in changes:
        sums[status] += images
        sums["defect_free"] += images if is_defect_free else 0
    return sums


def defect_class_list_for_project(*, project: Project) -> QuerySet[DefectClass]:
    """The classes with `annotation_count`, their final annotations: a sum of count changes
    (FinalAnnotationCountChange), not a COUNT over the project's annotations."""
    final_count = (
        FinalAnnotationCountChange.objects.filter(defect_class_id=OuterRef("pk"))
        .order_by()
        .values("defect_class_id")
        .annotate(total=Sum("annotations"))
        .values("total")
    )
    return (
        DefectClass.objects.filter(project=project)
        .prefetch_related("severity_levels")
        .annotate(annotation_count=Coalesce(Subquery(final_count), 0))
    )


def defect_class_get_for_user(*, user: User, defect_class_id: int, capability: Capability) -> DefectClass:
    defect_class = DefectClass.objects.select_related("project").filter(pk=defect_class_id).first()
    if defect_class is None:
        raise NotFound("No such defect class.")
    project_get_for_user(user=user, project_id=defect_class.project_id, capability=capability)
    return defect_class


def annotation_list_for_image(*, user: User, role: str, image: Image) -> QuerySet[Annotation]:
    """Reviewers see everything; an inspector sees their own work and the image's final annotations. The RLE
    and the stored pixel-edge outline are left in the database: no list shows them, and a complex defect's RLE
    outweighs its geometry."""
    annotations = Annotation.objects.filter(image=image).select_related("defect_class", "severity")
    annotations = annotations.defer("rle", "outline")
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        annotations = annotations.filter(Q(author=user) | Q(is_final=True))
    return annotations.order_by("id")


# The annotation an edit changes, read with everything the edit needs in one statement. Autosave makes this the
# most frequent query of the editor, and building it with the ORM (four joined tables, two subqueries, a row
# lock) cost more CPU than running it: about 3 ms of every save on a 2-core server (bench/api_save.py). So its
# SQL is built once per process, from the models' own field lists, so a new column is picked up without edits.
# Each table: model, alias, attnames not read (an edit never needs them), joined how.
_EDIT_TABLES: tuple[tuple[type[Model], str, frozenset[str], str], ...] = (
    (Annotation, "a", frozenset({"rle", "outline"}), ""),
    (Image, "i", frozenset({"metadata", "pyramid"}), "JOIN {table} i ON i.id = a.image_id"),
    (Project, "p", frozenset(), "JOIN {table} p ON p.id = i.project_id"),
    (DefectClass, "d", frozenset(), "JOIN {table} d ON d.id = a.defect_class_id"),
    (SeverityLevel, "s", frozenset(), "LEFT JOIN {table} s ON s.id = a.severity_id"),
)


@functools.cache
def _edit_query(lock: bool, read_geometry: bool, vendor: str) -> tuple[str, tuple[RowLayout, ...]]:
    """(sql, the row layout of each table in _EDIT_TABLES) for `_annotation_with_access`."""
    quote = connection.ops.quote_name
    layouts = tuple(
        row_layout(model, alias, skipped if read_geometry or model is not Annotation else skipped | {"geometry"})
        for model, alias, skipped, _ in _EDIT_TABLES
    )
    joins = [join.format(table=quote(model._meta.db_table)) for model, _, _, join in _EDIT_TABLES if join]
    columns = [layout.columns for layout in layouts]
    membership, assignment = quote(Membership._meta.db_table), quote(Assignment._meta.db_table)
    annotations = quote(Annotation._meta.db_table)
    # S608 waived below: identifiers come from the models' metadata and every value is a bound parameter.
    role = f"(SELECT role FROM {membership} WHERE project_id = i.project_id AND user_id = %s LIMIT 1)"  # noqa: S608
    # The user's assignment status on the image (one at most per image and annotator); NULL when not assigned.
    status = f"(SELECT status FROM {assignment} WHERE image_id = a.image_id AND annotator_id = %s LIMIT 1)"  # noqa: S608
    columns += [role, status]
    sql = f"SELECT {', '.join(columns)} FROM {annotations} a {' '.join(joins)} WHERE a.id = %s"  # noqa: S608
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF a"  # the annotation row only: edits of other annotations on the image go on
    elif lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, layouts


def _annotation_with_access(
    *, user: User, annotation_id: int, lock: bool, read_geometry: bool = True
) -> tuple[Annotation, str | None, str | None] | None:
    """The annotation (image, project, defect class and severity loaded), the user's membership role in its
    project and their assignment's status on its image (None: not assigned); None if there is no such annotation."""
    sql, layouts = _edit_query(lock, read_geometry, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, user.pk, annotation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    annotation, image, project, defect_class, severity = (layout.instance(values) for layout in layouts)
    annotation, image = cast(Annotation, annotation), cast(Image, image)  # inner joins: never NULL
    image.project, annotation.image = cast(Project, project), image
    annotation.defect_class = cast(DefectClass, defect_class)
    annotation.severity = cast(SeverityLevel | None, severity)
    role, assignment_status = next(values), next(values)
    return annotation, role, assignment_status


def annotation_get_for_edit(
    *, user: User, annotation_id: int, lock: bool = False, read_geometry: bool = True
) -> Annotation:
    """An annotation the user may change. Inspectors may change only their own, on images assigned to them, and
    not after they submitted the image (AlreadySubmitted) unless a reviewer returned it; reviewers may change any.

    One query: the annotation with its image, project, class and severity, and the user's access to the image
    (the image's metadata and pyramid and the annotation's RLE are left unread: an edit never needs them; without
    `read_geometry` the geometry too, deferred: it loads when read)."""
    found = _annotation_with_access(user=user, annotation_id=annotation_id, lock=lock, read_geometry=read_geometry)
    if found is None:
        raise NotFound("No such annotation.")
    annotation, membership_role, assignment_status = found
    role = _role_on_image(
        user=user,
        image=annotation.image,
        capability=Capability.LABEL,
        access=(membership_role, assignment_status is not None),
    )
    if not role_allows(role, Capability.REVIEW):
        if annotation.author_id != user.pk:
            raise PermissionDenied("Inspectors may change only their own annotations.")
        if is_work_closed(role=role, assignment_status=assignment_status):
            raise AlreadySubmitted()
    return annotation


def annotation_deleted_for_edit(*, user: User, annotation_id: int) -> bool:
    """Whether `annotation_id` is an annotation that was deleted and that the user could have changed.

    An edit of a deleted annotation is a conflict the editor shows (someone deleted what you were editing), not a
    404; ids the user could never see stay 404 (False here), so existence is still not disclosed across projects.
    The audit trail is the record of the deletion: its `before` snapshot names the image and the author."""
    entry = (
        AuditEntry.objects.filter(object_type="annotation", object_id=annotation_id, action=AuditAction.DELETE)
        .only("before")
        .first()
    )
    if entry is None or not isinstance(entry.before, dict) or "image_id" not in entry.before:
        return False
    try:
        _, role = image_get_for_user(user=user, image_id=entry.before["image_id"], capability=Capability.LABEL)
    except NotFound:
        return False
    if not role_allows(role, Capability.REVIEW) and entry.before.get("author_id") != user.pk:
        raise PermissionDenied("Inspectors may change only their own annotations.")
    return True


def assignment_list_for_annotator(*, user: User, project: Project | None = None) -> QuerySet[Assignment]:
    assignments = work_of_member(user).select_related("image", "image__project")
    if project is not None:
        assignments = assignments.filter(image__project=project)
    return assignments.order_by("id")


def audit_list_for_project(*, project: Project) -> QuerySet[AuditEntry]:
    """Newest first, read from the (project, id) index (defectlab/keyset.py; ScopedIdCursorPagination pages it)."""
    entries = AuditEntry.objects.filter(**scope_filter("project_id", project.pk)).select_related("actor")
    return entries.order_by(*scope_ordering(("project_id",), ("-id",)))


def audit_rows_for_project(*, project: Project) -> "QuerySet[AuditEntry, Any]":
    """`audit_list_for_project` as plain rows, the snapshots as the database's JSON text (`before_json`,
    `after_json`): an annotation's entry holds its geometry before and after, and a page of them decoded into
    Python and encoded again cost the audit list most of its time."""
    return audit_list_for_project(project=project).values(
        "id",
        "action",
        "object_type",
        "object_id",
        "created_at",
        actor_username=F("actor__username"),
        before_json=Cast("before", TextField()),
        after_json=Cast("after", TextField()),
    )


def assignment_get_for_image(*, user: User, image: Image) -> Assignment | None:
    """The user's own assignment on `image`, if any (reviewers may open images not assigned to them)."""
    return Assignment.objects.filter(image=image, annotator=user).first()


# Comments and the editor's one-request view of an image.


def comment_list_for_image(*, user: User, role: str, image: Image) -> QuerySet[ImageComment]:
    """The image's thread, oldest first. As in annotation_list_for_image, an inspector does not see comments
    about annotations hidden from them (another annotator's work in dual annotation)."""
    comments = ImageComment.objects.filter(image=image).select_related("author")
    if not role_allows(role, Capability.VIEW_ALL_IMAGES):
        comments = comments.filter(
            Q(annotation__isnull=True) | Q(annotation__author=user) | Q(annotation__is_final=True)
        )
    return comments.order_by("id")


def defect_class_list_for_editor(*, project: Project, used_ids: set[int]) -> QuerySet[DefectClass]:
    """The classes an editor offers (active ones) and the retired ones still used by the annotations it shows."""
    return (
        DefectClass.objects.filter(project=project)
        .filter(Q(is_active=True) | Q(pk__in=used_ids))
        .prefetch_related("severity_levels")
        .order_by("position", "name")
    )


def annotation_rows_for_image(*, user: User, role: str, image: Image) -> list[dict[str, Any]]:
    """`annotation_list_for_image` as plain rows: every column but the RLE, and the geometry as the database's
    JSON text (`geometry_json`) instead of decoded lists. The editor sends geometry on as it is: an image may hold
    100,000 vertices (DEFECTLAB_IMAGE_MAX_VERTICES), and decoding them into model instances only to encode them
    again was most of the editor's load time."""
    unsent = ("geometry", "rle", "outline")  # the geometry comes as text, below
    columns = [field.attname for field in Annotation._meta.concrete_fields if field.attname not in unsent]
    # The two timestamps as the text DRF would write, where the database can write it (a str passes through
    # DateTimeField.to_representation as it is).
    as_text = {name: iso_text_in_sql(name, connection.vendor) for name in ("created_at", "updated_at")}
    texts = {f"{name}_text": expression for name, expression in as_text.items() if expression is not None}
    read = [name for name in columns if f"{name}_text" not in texts]
    rows = annotation_list_for_image(user=user, role=role, image=image)
    found = list(rows.values(*read, **texts, geometry_json=Cast("geometry", TextField())))
    for row in found:
        for key in texts:
            row[key.removesuffix("_text")] = row.pop(key)
    return found


@dataclass(frozen=True)
class EditorState:
    """Everything the browser editor needs to open one image, read in a bounded number of queries."""

    image: Image  # with its project
    role: str
    can_label: bool  # may draw and edit annotations on this image (not once an inspector submitted it)
    can_review: bool  # may edit anyone's annotations
    defect_classes: list[DefectClass]  # with their severity levels
    annotations: list[dict[str, Any]]  # annotation_rows_for_image
    assignment: Assignment | None
    comments: list[ImageComment]
    previous_image_id: int | None
    next_image_id: int | None


def editor_state_for_image(*, user: User, image_id: int) -> EditorState:
    image, role = image_get_for_user(user=user, image_id=image_id)
    annotations = annotation_rows_for_image(user=user, role=role, image=image)
    used_ids = {annotation["defect_class_id"] for annotation in annotations}
    previous_image_id, next_image_id = queue_neighbours_for_image(user=user, image=image)
    assignment = assignment_get_for_image(user=user, image=image)
    is_closed = is_work_closed(role=role, assignment_status=assignment.status if assignment else None)
    return EditorState(
        image=image,
        role=role,
        can_label=role_allows(role, Capability.LABEL) and not is_closed,
        can_review=role_allows(role, Capability.REVIEW),
        defect_classes=list(defect_class_list_for_editor(project=image.project, used_ids=used_ids)),
        annotations=annotations,
        assignment=assignment,
        comments=list(comment_list_for_image(user=user, role=role, image=image)),
        previous_image_id=previous_image_id,
        next_image_id=next_image_id,
    )
