"""The geometry budget (docs/architecture.md, "Geometry budget"): what one annotation's geometry and one image's
annotations may cost. Each limit is a setting; a refusal is GeometryTooComplex naming it. Checked before anything
is rasterised: parsing counts first, then `annotation.geometry` prices the raster work from the vertices."""

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from annotation import geometry
from annotation.errors import GeometryTooComplex
from annotation.models import Annotation, Image

# The setting behind each GeometryBudget field, named in a refusal so that an admin knows which one to raise.
BUDGET_SETTINGS = {
    "max_polygons": "DEFECTLAB_GEOMETRY_MAX_POLYGONS",
    "max_holes_per_polygon": "DEFECTLAB_GEOMETRY_MAX_HOLES_PER_POLYGON",
    "max_vertices": "DEFECTLAB_GEOMETRY_MAX_VERTICES",
    "max_raster_px": "DEFECTLAB_GEOMETRY_MAX_RASTER_PX",
    "max_outline_px": "DEFECTLAB_GEOMETRY_MAX_OUTLINE_PX",
    "max_edges_per_row": "DEFECTLAB_GEOMETRY_MAX_EDGES_PER_ROW",
}


def geometry_budget() -> geometry.GeometryBudget:
    """The per-annotation limits, read from the settings on each call (tests and admins may change them)."""
    return geometry.GeometryBudget(**{field: getattr(settings, name) for field, name in BUDGET_SETTINGS.items()})


def too_complex(error: geometry.BudgetExceeded) -> GeometryTooComplex:
    setting = BUDGET_SETTINGS[error.limit]
    return GeometryTooComplex(
        f"Geometry too complex: {error} ({setting}).", limit=setting, allowed=error.allowed, actual=error.actual
    )


def polygons_budget_check(polygons: list[geometry.Polygon]) -> None:
    """The per-annotation limits for polygons that were not parsed from JSON (imports)."""
    try:
        geometry.budget_check(geometry.geometry_cost(polygons), geometry_budget())
    except geometry.BudgetExceeded as error:
        raise too_complex(error) from None


def image_budget_check(
    *, image: Image, added_annotations: int, added_vertices: int, replaced_annotation_id: int | None = None
) -> None:
    """Refuse (GeometryTooComplex) what would take the image past its annotation or vertex limit: `added_*` are
    what the change brings, counted instead of `replaced_annotation_id`'s own (an edit). The image row stays
    locked until the transaction ends, so concurrent additions to one image are counted one after the other.
    Lock order: an edit holds its annotation's row first, then takes the image's."""
    list(Image.objects.select_for_update(no_key=True).filter(pk=image.pk).values_list("pk"))
    others = Annotation.objects.filter(image_id=image.pk)
    if replaced_annotation_id is not None:
        others = others.exclude(pk=replaced_annotation_id)
    totals = others.aggregate(annotations=Count("pk"), vertices=Coalesce(Sum("vertex_count"), 0))
    annotations, vertices = totals["annotations"] + added_annotations, totals["vertices"] + added_vertices
    if added_annotations and annotations > settings.DEFECTLAB_IMAGE_MAX_ANNOTATIONS:
        allowed = settings.DEFECTLAB_IMAGE_MAX_ANNOTATIONS
        raise GeometryTooComplex(
            f"This image would hold {annotations:,} annotations; at most {allowed:,} are accepted per image "
            "(DEFECTLAB_IMAGE_MAX_ANNOTATIONS).",
            limit="DEFECTLAB_IMAGE_MAX_ANNOTATIONS",
            allowed=allowed,
            actual=annotations,
        )
    if vertices > settings.DEFECTLAB_IMAGE_MAX_VERTICES:
        allowed = settings.DEFECTLAB_IMAGE_MAX_VERTICES
        raise GeometryTooComplex(
            f"The annotations on this image would have {vertices:,} vertices together; at most {allowed:,} are "
            "accepted per image (DEFECTLAB_IMAGE_MAX_VERTICES). Simplify outlines or split the work.",
            limit="DEFECTLAB_IMAGE_MAX_VERTICES",
            allowed=allowed,
            actual=vertices,
        )


def new_image_budget_check(defects: list[list[geometry.Polygon]]) -> None:
    """The per-annotation and per-image limits for the defects of an image not stored yet (ingestion checks a
    mask's regions with this before it stores the image, so one image over the budget is refused alone)."""
    for polygons in defects:
        polygons_budget_check(polygons)
    allowed = settings.DEFECTLAB_IMAGE_MAX_ANNOTATIONS
    if len(defects) > allowed:
        raise GeometryTooComplex(
            f"The mask holds {len(defects):,} defects; at most {allowed:,} are accepted per image "
            "(DEFECTLAB_IMAGE_MAX_ANNOTATIONS).",
            limit="DEFECTLAB_IMAGE_MAX_ANNOTATIONS",
            allowed=allowed,
            actual=len(defects),
        )
    vertices, allowed = sum(map(geometry.vertex_count, defects)), settings.DEFECTLAB_IMAGE_MAX_VERTICES
    if vertices > allowed:
        raise GeometryTooComplex(
            f"The mask's outlines have {vertices:,} vertices together; at most {allowed:,} are accepted per image "
            "(DEFECTLAB_IMAGE_MAX_VERTICES).",
            limit="DEFECTLAB_IMAGE_MAX_VERTICES",
            allowed=allowed,
            actual=vertices,
        )
