"""Reads for dataset versions and exports. Lookups by id are scoped to the user's projects (NotFound across
projects, as in annotation.selectors); the freeze reads stream rows and never load a whole project at once."""

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from annotation.models import Annotation, DefectClass, Image, Project, SeverityLevel
from annotation.permissions import Capability
from annotation.rules import minimum_size_of
from annotation.selectors import project_get_for_user
from datasets.models import DatasetExport, DatasetVersion
from defectlab.errors import NotFound

FREEZE_CHUNK_ROWS = 2000  # rows per round trip while streaming a freeze (a server-side cursor on PostgreSQL)


def dataset_version_list_for_project(*, project: Project) -> QuerySet[DatasetVersion]:
    return DatasetVersion.objects.filter(project=project).select_related("created_by").order_by("-number")


def dataset_version_get_for_user(
    *, user: User, version_id: int, capability: Capability = Capability.MANAGE_VERSIONS
) -> DatasetVersion:
    version = DatasetVersion.objects.select_related("project", "previous", "created_by").filter(pk=version_id).first()
    if version is None:
        raise NotFound("No such dataset version.")
    try:
        project_get_for_user(user=user, project_id=version.project_id, capability=capability)
    except NotFound:
        raise NotFound("No such dataset version.") from None
    return version


def dataset_version_get_by_name(*, project: Project, name: str) -> DatasetVersion:
    version = DatasetVersion.objects.select_related("project").filter(project=project, name=name).first()
    if version is None:
        raise NotFound(f"Project {project.slug!r} has no dataset version named {name!r}.")
    return version


def dataset_version_latest(*, project: Project) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(project=project).order_by("-number").first()


def dataset_export_list_for_version(*, version: DatasetVersion) -> QuerySet[DatasetExport]:
    return DatasetExport.objects.filter(version=version).order_by("format", "with_images")


def dataset_export_get_for_user(*, user: User, export_id: int) -> DatasetExport:
    export = DatasetExport.objects.select_related("version__project").filter(pk=export_id).first()
    if export is None:
        raise NotFound("No such export.")
    try:
        project_get_for_user(user=user, project_id=export.version.project_id, capability=Capability.MANAGE_VERSIONS)
    except NotFound:
        raise NotFound("No such export.") from None
    return export


# What a freeze reads ----------------------------------------------------------------------------------------


def taxonomy_snapshot(*, project: Project) -> dict[str, Any]:
    """The project's whole taxonomy (retired classes included), in picker order, with its revision."""
    classes = (
        DefectClass.objects.filter(project=project).prefetch_related("severity_levels").order_by("position", "name")
    )
    return {
        "taxonomy_revision": project.taxonomy_revision,
        "defect_classes": [
            {
                "name": defect_class.name,
                "color": defect_class.color,
                "description": defect_class.description,
                "geometry_kind": defect_class.geometry_kind,
                "position": defect_class.position,
                "is_active": defect_class.is_active,
                "min_sizes": asdict(minimum_size_of(defect_class)),
                "severity_levels": [
                    {"name": level.name, "rank": level.rank, "criterion": level.criterion}
                    for level in sorted(defect_class.severity_levels.all(), key=lambda level: level.rank)
                ],
            }
            for defect_class in classes
        ],
        "px_per_mm": project.px_per_mm,
    }


@dataclass(frozen=True)
class FreezeFilter:
    defect_classes: tuple[str, ...] | None  # None: every class
    image_statuses: tuple[str, ...]
    final_annotations_only: bool
    include_defect_free: bool


IMAGE_FIELDS = (
    "id",
    "sha256",
    "original_filename",
    "file",
    "format",
    "width",
    "height",
    "file_size_bytes",
    "bit_depth",
    "channels",
    "status",
    "is_defect_free",
    "metadata",
    "acquired_at",
)
ANNOTATION_FIELDS = (
    "id",
    "image_id",
    "defect_class__name",
    "severity__name",
    "severity__rank",
    "area_px",
    "bbox_x",
    "bbox_y",
    "bbox_width",
    "bbox_height",
    "source",
    "is_final",
    "revision",
    "outline",
)


def _images(*, project: Project, selection: FreezeFilter) -> QuerySet[Image]:
    images = Image.objects.filter(project=project, status__in=selection.image_statuses)
    if not selection.include_defect_free:
        images = images.filter(is_defect_free=False)
    return images


def _annotations(*, selection: FreezeFilter) -> QuerySet[Annotation]:
    annotations = Annotation.objects.all()
    if selection.final_annotations_only:
        annotations = annotations.filter(is_final=True)
    if selection.defect_classes is not None:
        annotations = annotations.filter(defect_class__name__in=selection.defect_classes)
    return annotations


def freeze_image_labels(*, project: Project, selection: FreezeFilter) -> Iterator[tuple[str, bool, tuple[str, ...]]]:
    """(sha256, is_defect_free, the sorted defect classes of its selected annotations) of every candidate image
    (status and defect-free filters applied), in image id order. Two streams in id order merged here, so nothing
    per image is held: the images, and the distinct (image, class) pairs of the selected annotations."""
    images = _images(project=project, selection=selection)
    rows = images.order_by("id").values_list("id", "sha256", "is_defect_free").iterator(chunk_size=FREEZE_CHUNK_ROWS)
    pairs = (
        _annotations(selection=selection)
        .filter(image__in=images)
        .order_by("image_id", "defect_class__name")
        .values_list("image_id", "defect_class__name")
        .distinct()
        .iterator(chunk_size=FREEZE_CHUNK_ROWS)
    )
    pair = next(pairs, None)
    for image_id, sha256, is_defect_free in rows:
        classes = []
        while pair is not None and pair[0] <= image_id:
            if pair[0] == image_id:
                classes.append(pair[1])
            pair = next(pairs, None)
        yield sha256, is_defect_free, tuple(classes)


def freeze_images(*, project: Project, selection: FreezeFilter) -> Iterator[dict[str, Any]]:
    """The candidate images (IMAGE_FIELDS) in sha256 order: read along the (project, sha256) unique index."""
    rows = _images(project=project, selection=selection).order_by("sha256").values(*IMAGE_FIELDS)
    return cast("Iterator[dict[str, Any]]", rows.iterator(chunk_size=FREEZE_CHUNK_ROWS))


def freeze_annotation_rows(*, image_ids: list[int], selection: FreezeFilter) -> list[dict[str, Any]]:
    """The selected annotations of these images, by image and id: ANNOTATION_FIELDS, with the stored RLE as the
    database's JSON text (`rle_text`: the freeze rearranges it as it is, datasets/manifest.py rle_json) and the
    stored outline. Read for a few hundred images at a time: one sort of a project's millions of annotations by
    image sha256 would spill gigabytes. The geometry is not read (manifest format 2): turning its jsonb into text
    was three quarters of this query's cost. Everything else is left to the freeze, which writes one batch while
    the next is read (readahead.py)."""
    rows = (
        _annotations(selection=selection)
        .filter(image_id__in=image_ids)
        .annotate(rle_text=Cast("rle", TextField()))
        .order_by("image_id", "id")
        .values(*ANNOTATION_FIELDS, "rle_text")
    )
    return list(rows)


def _canonical_float_sql(column: str) -> str:
    """SQL for a float8 column's text as canonical_json writes it (Python's float repr), NULL where the two might
    differ. PostgreSQL writes the same shortest exact digits (extra_float_digits 1) but whole numbers without ".0",
    and uses exponents from other bounds: so NaN, infinity and values below 1e-4 or from 1e15 on give NULL."""
    return (
        f"CASE WHEN {column} = trunc({column}) AND abs({column}) < 1e15 THEN {column}::text || '.0' "
        f"WHEN abs({column}) >= 1e-4 AND abs({column}) < 1e15 THEN {column}::text END"
    )


# The RLE as PostgreSQL's text of it ({"size": [h, w], "counts": "..."}: jsonb orders keys by length) split into
# its size and the counts' JSON text, rearranged into canonical JSON. NULL for anything else (extra keys,
# uncompressed counts): with no quote inside the counts and only digits in the size, the text holds no other key.
# A string's jsonb text is escaped as json.dumps escapes it.
_CANONICAL_RLE_SQL = (
    "CASE WHEN rle_size ~ '^[0-9]+, [0-9]+$' AND strpos(rle_counts, '\"') = 0 "
    "THEN concat('{\"counts\":\"', rle_counts, '\",\"size\":[', replace(rle_size, ' ', ''), ']}') END"
)


def freeze_annotation_json(
    *, image_ids: list[int], selection: FreezeFilter
) -> tuple[dict[int, tuple[str, list[str]]], list[int]]:
    """The selected annotations of these images as their manifest JSON, built by PostgreSQL: {image id: (its
    annotations' manifest_annotation_json, comma-separated in id order, and their defect classes)}, and the ids of
    the images PostgreSQL cannot write exactly (an annotation without a stored outline, a float or RLE it spells
    otherwise: see above), for freeze_annotation_rows and the freeze's own writing. An image with no selected
    annotation is in neither. A million-image freeze writes three million annotations: made in Python from rows,
    each cost the freeze's one Python thread about 25 us. Strings are JSON-escaped by to_json, exactly as
    json.dumps escapes them. datasets/tests/test_freeze_sql.py checks all of it. Other databases than PostgreSQL:
    every image is left to the rows."""
    if connection.vendor != "postgresql" or not image_ids:
        return {}, list(image_ids)
    floats = ("area_px", "bbox_x", "bbox_y", "bbox_width", "bbox_height")
    parts = ", ".join(f"{_canonical_float_sql(f'a.{column}')} AS {column}" for column in floats)
    params: list[list[Any]] = [list(image_ids)]
    is_final_condition = "AND a.is_final" if selection.final_annotations_only else ""
    class_condition = "TRUE"
    if selection.defect_classes is not None:
        class_condition = "c.name = ANY(%s)"
        params.append(list(selection.defect_classes))
    # Each part once, in a subquery kept apart (OFFSET 0); concat() then joins them in one pass, which || does not,
    # but reads a NULL as '': a line with a NULL part (num_nulls) is left to the rows. The lines come sorted as the
    # aggregates order them: each still sorts its group, but sorted input costs the backend less (about 8 %).
    rle_counts_start = '], "counts": "'
    # S608 waived: table names come from the models, values are bound parameters.
    sql = f"""
        SELECT image_id, string_agg(line, ',' ORDER BY id), count(*) - count(line), array_agg(class_name ORDER BY id)
        FROM (
            SELECT image_id, id, class_name, CASE WHEN num_nulls(area_px, bbox_x, bbox_y, bbox_width, bbox_height,
                outline, rle) = 0 THEN concat(
                '{{"area_px":', area_px, ',"bbox":[', bbox_x, ',', bbox_y, ',', bbox_width, ',', bbox_height,
                '],"defect_class":', class_json, ',"id":', id, ',"is_final":', is_final, ',"outline":', outline,
                ',"revision":', revision, ',"rle":', rle, ',"severity":', severity, ',"source":', source, '}}'
            ) END AS line
            FROM (
                SELECT image_id, id, class_name, class_json, is_final, outline, revision, severity, source,
                    area_px, bbox_x, bbox_y, bbox_width, bbox_height, {_CANONICAL_RLE_SQL} AS rle
                FROM (
                    SELECT a.image_id, a.id, c.name AS class_name, to_json(c.name)::text AS class_json,
                        CASE WHEN a.is_final THEN 'true' ELSE 'false' END AS is_final, a.outline, a.revision,
                        COALESCE('{{"name":' || to_json(s.name)::text || ',"rank":' || s.rank || '}}', 'null')
                            AS severity,
                        to_json(a.source)::text AS source, {parts},
                        CASE WHEN starts_with(rle_text, '{{"size": [') AND right(rle_text, 2) = '"}}'
                            THEN split_part(substr(rle_text, 11), '{rle_counts_start}', 1) END AS rle_size,
                        left(split_part(rle_text, '{rle_counts_start}', 2), -2) AS rle_counts
                    FROM (
                        SELECT a.*, a.rle::text AS rle_text FROM {Annotation._meta.db_table} a
                        WHERE a.image_id = ANY(%s) {is_final_condition}
                        OFFSET 0
                    ) AS a
                    JOIN {DefectClass._meta.db_table} c ON c.id = a.defect_class_id
                    LEFT JOIN {SeverityLevel._meta.db_table} s ON s.id = a.severity_id
                    WHERE {class_condition}
                    OFFSET 0
                ) AS a
            ) AS a
            ORDER BY image_id, id
        ) AS annotations
        GROUP BY image_id
    """  # noqa: S608
    built: dict[int, tuple[str, list[str]]] = {}
    unbuilt = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL extra_float_digits = 1")  # shortest exact digits, as Python's repr (the default)
        cursor.execute(sql, params)
        for image_id, text, missing, classes in cursor.fetchall():
            if missing:
                unbuilt.append(image_id)
            else:
                built[image_id] = (text, classes)
    return built, unbuilt
