"""Output shapes shared by several endpoints."""

from typing import Any

from rest_framework import serializers

from annotation.models import (
    Annotation,
    AnnotationSource,
    DefectClass,
    Image,
    ImageComment,
    Project,
    SeverityLevel,
)
from annotation.rules import MINIMUM_SIZE_FIELDS


class SeverityLevelOutput(serializers.ModelSerializer):
    class Meta:
        model = SeverityLevel
        fields = ["id", "name", "criterion", "rank"]


class DefectClassOutput(serializers.ModelSerializer):
    severity_levels = SeverityLevelOutput(many=True, read_only=True)

    class Meta:
        model = DefectClass
        fields = [
            "id",
            "name",
            "color",
            "description",
            "geometry_kind",
            "position",
            "is_active",
            *MINIMUM_SIZE_FIELDS,
            "severity_levels",
        ]


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "slug", "name", "description", "px_per_mm", "taxonomy_revision", "created_at"]


class ImageOutput(serializers.ModelSerializer):
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = [
            "id",
            "project_id",
            "sha256",
            "original_filename",
            "width",
            "height",
            "bit_depth",
            "channels",
            "source_type",
            "format",
            "file_size_bytes",
            "status",
            "is_defect_free",
            "acquired_at",
            "created_at",
            "urls",
        ]

    def get_urls(self, image: Image) -> dict[str, str]:
        return image_urls(image.pk)


def image_urls(image_id: int) -> dict[str, str]:
    base = f"/api/v1/images/{image_id}/file"
    return {"original": f"{base}/original", "display": f"{base}/display", "thumbnail": f"{base}/thumbnail"}


IMAGE_LIST_COLUMNS = tuple(name for name in ImageOutput.Meta.fields if name != "urls")


def image_list_output(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ImageOutput's data for rows of `.values(*IMAGE_LIST_COLUMNS)`, field by field as DRF writes them (its
    fields' own to_representation, None kept None), from one serializer's fields instead of model instances and a
    serializer pass per row: a list page writes 100, and instances plus the per-row pass were half its time."""
    fields = [(name, field.to_representation) for name, field in ImageOutput().fields.items() if name != "urls"]
    output = []
    for row in rows:
        data = {name: None if row[name] is None else write(row[name]) for name, write in fields}
        data["urls"] = image_urls(row["id"])
        output.append(data)
    return output


class ImageDetailOutput(ImageOutput):
    class Meta(ImageOutput.Meta):
        fields = [*ImageOutput.Meta.fields, "metadata"]


# Declared field by field, not as a ModelSerializer: it answers every autosave, and a ModelSerializer rebuilds its
# fields from the model on each use (0.6 ms of a ~10 ms save, bench/api_save.py).
class AnnotationOutput(serializers.Serializer):
    """One defect as stored: its outline, the area and bbox the server derived, and the revision to edit from."""

    id = serializers.IntegerField(read_only=True)
    image_id = serializers.IntegerField(read_only=True)
    defect_class_id = serializers.IntegerField(read_only=True)
    severity_id = serializers.IntegerField(read_only=True, allow_null=True)
    geometry = serializers.JSONField(read_only=True)
    area_px = serializers.FloatField(read_only=True)
    bbox = serializers.SerializerMethodField()
    source = serializers.ChoiceField(choices=AnnotationSource.choices, read_only=True)  # type: ignore[assignment]  # the field is named like DRF's Field.source
    provenance = serializers.JSONField(read_only=True, allow_null=True, help_text="engine, prompt, score; null by hand")
    author_id = serializers.IntegerField(read_only=True, allow_null=True)
    is_final = serializers.BooleanField(read_only=True)
    revision = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_bbox(self, annotation: Annotation) -> list[float]:
        return [annotation.bbox_x, annotation.bbox_y, annotation.bbox_width, annotation.bbox_height]


class AnnotationConflictOutput(serializers.Serializer):
    """409 annotation_conflict: the server's current version, to show beside the user's."""

    code = serializers.CharField(help_text='"annotation_conflict"')
    message = serializers.CharField()
    current_revision = serializers.IntegerField(allow_null=True, help_text="null when the annotation was deleted")
    current = AnnotationOutput(allow_null=True, help_text="null when someone deleted the annotation")


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PyramidLevelOutput(serializers.Serializer):
    level = serializers.IntegerField(help_text="0 is full resolution; level k is downscaled by 2^k")
    width = serializers.IntegerField(help_text="px: ceil(image width / 2^level)")
    height = serializers.IntegerField(help_text="px: ceil(image height / 2^level)")
    columns = serializers.IntegerField(help_text="tiles across: ceil(width / tile_size)")
    rows = serializers.IntegerField(help_text="tiles down: ceil(height / tile_size)")


class PyramidOutput(serializers.Serializer):
    """A deep-zoom pyramid of the display rendition (see datasets/pyramid.py for the conventions)."""

    tile_size = serializers.IntegerField(help_text="px; tiles on the right and bottom edges are smaller")
    format = serializers.CharField(help_text='"jpg"')
    levels = PyramidLevelOutput(many=True, help_text="level 0 first; the last level fits in one tile")
    url_template = serializers.SerializerMethodField(
        help_text="Tile URL with {level}, {column} and {row} to fill in (image-tile)."
    )

    def get_url_template(self, pyramid: dict) -> str:
        return f"/api/v1/images/{self.context['image_id']}/tiles/{{level}}/{{column}}/{{row}}"


class CommentOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", allow_null=True, default=None, help_text="username")

    class Meta:
        model = ImageComment
        fields = ["id", "image_id", "annotation_id", "author_id", "author", "text", "created_at"]
