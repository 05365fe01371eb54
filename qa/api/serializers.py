"""Output shapes shared by several QA endpoints, and the reviewer's defect choices."""

from rest_framework import serializers

from annotation.models import Annotation, DefectClass, Image, SeverityLevel
from annotation.services.reviews import KEEP
from defectlab.api.fields import BoundedJSONField
from qa.services.choices import DefectChoice


class QaImageOutput(serializers.ModelSerializer):
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Image
        fields = ["id", "original_filename", "width", "height", "status", "urls"]

    def get_urls(self, image: Image) -> dict[str, str]:
        base = f"/api/v1/images/{image.pk}/file"
        return {"display": f"{base}/display", "thumbnail": f"{base}/thumbnail"}


class QaAnnotationOutput(serializers.ModelSerializer):
    bbox = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = ["id", "defect_class_id", "severity_id", "geometry", "area_px", "bbox", "author_id", "revision"]

    def get_bbox(self, annotation: Annotation) -> list[float]:
        return [annotation.bbox_x, annotation.bbox_y, annotation.bbox_width, annotation.bbox_height]


class QaSeverityLevelOutput(serializers.ModelSerializer):
    class Meta:
        model = SeverityLevel
        fields = ["id", "name", "rank"]


class QaDefectClassOutput(serializers.ModelSerializer):
    severity_levels = QaSeverityLevelOutput(many=True, read_only=True)

    class Meta:
        model = DefectClass
        fields = ["id", "name", "color", "is_active", "severity_levels"]


class DefectChoiceInput(serializers.Serializer):
    """Take an annotation as drawn ({annotation_id}), changed ({annotation_id, defect_class_id, severity_id,
    geometry}: any of the three), or draw a new defect ({defect_class_id, geometry, severity_id?})."""

    annotation_id = serializers.IntegerField(min_value=1, required=False)
    defect_class_id = serializers.IntegerField(min_value=1, required=False)
    severity_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    geometry = BoundedJSONField(required=False, help_text="polygons with holes, as the editor saves them")

    def validate(self, attrs: dict) -> dict:
        if "annotation_id" not in attrs and not {"defect_class_id", "geometry"} <= set(attrs):
            raise serializers.ValidationError("Send annotation_id, or defect_class_id and geometry for a new defect.")
        return attrs


def defect_choices(items: list[dict]) -> list[DefectChoice]:
    return [
        DefectChoice(
            annotation_id=item.get("annotation_id"),
            defect_class_id=item.get("defect_class_id"),
            severity_id=item.get("severity_id", KEEP),
            geometry=item.get("geometry"),
        )
        for item in items
    ]
