"""Reads for dataset versions and exports. Lookups by id are scoped to the user's projects (NotFound across
projects, as in annotation.selectors); the freeze reads stream rows and never load a whole project at once."""

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from annotation.models import Annotation, DefectClass, Image, Project
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
