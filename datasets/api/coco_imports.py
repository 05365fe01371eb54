"""COCO import: a COCO instances JSON (from CVAT, Label Studio, Datumaro or DefectLab) onto a project's images."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.permissions import Capability
from annotation.selectors import project_get_for_user
from datasets.importers.coco import CocoFormatError
from datasets.services.coco_import import coco_import
from defectlab.authenticated import AuthenticatedRequest
from defectlab.errors import ValidationFailed

COCO_JSON_MAX_BYTES = 256 * 1024**2  # read whole (JSON has no streaming parser here); larger: `manage.py import_coco`


class CocoImportApi(APIView):
    """Import annotations onto images already in the project (matched by sha256, then file name). Classes are
    matched by name; annotations of unknown classes are counted in `unknown_classes`, never invented. To bring
    images along, upload them first (upload-create) or use `manage.py import_coco PROJECT export.zip`."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="COCO instances JSON")

    class OutputSerializer(serializers.Serializer):
        images_imported = serializers.IntegerField()
        images_matched = serializers.IntegerField()
        annotations_imported = serializers.IntegerField()
        annotations_duplicate = serializers.IntegerField()
        unknown_classes = serializers.DictField(child=serializers.IntegerField())
        unmatched_images = serializers.ListField(child=serializers.CharField())
        unmatched_image_count = serializers.IntegerField()
        rejected = serializers.ListField(child=serializers.DictField())
        rejected_count = serializers.IntegerField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses=OutputSerializer)
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(user=request.user, project_id=project_id, capability=Capability.UPLOAD)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > COCO_JSON_MAX_BYTES:
            raise ValidationFailed(f"Larger than {COCO_JSON_MAX_BYTES:,} bytes: use `manage.py import_coco`.")
        try:
            summary = coco_import(project=project, data=upload.read(), actor=request.user)
        except CocoFormatError as error:
            raise ValidationFailed(f"Not COCO instances JSON: {error}.") from None
        return Response(self.OutputSerializer(summary.as_dict()).data)
