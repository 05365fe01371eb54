"""Output shapes shared by several endpoints."""

from rest_framework import serializers

from annotation.models import Annotation, DefectClass, Image, Project, SeverityLevel


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
            "min_length_px",
            "min_width_px",
            "min_height_px",
            "min_area_px",
            "min_length_mm",
            "min_width_mm",
            "min_height_mm",
            "min_area_mm2",
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
        base = f"/api/v1/images/{image.pk}/file"
        return {"original": f"{base}/original", "display": f"{base}/display", "thumbnail": f"{base}/thumbnail"}


class ImageDetailOutput(ImageOutput):
    class Meta(ImageOutput.Meta):
        fields = [*ImageOutput.Meta.fields, "metadata"]


class AnnotationOutput(serializers.ModelSerializer):
    bbox = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = [
            "id",
            "image_id",
            "defect_class_id",
            "severity_id",
            "geometry",
            "area_px",
            "bbox",
            "source",
            "author_id",
            "is_final",
            "revision",
            "created_at",
            "updated_at",
        ]

    def get_bbox(self, annotation: Annotation) -> list[float]:
        return [annotation.bbox_x, annotation.bbox_y, annotation.bbox_width, annotation.bbox_height]
