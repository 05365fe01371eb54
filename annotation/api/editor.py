"""The browser editor's own endpoints: everything to open an image in one request, and the comment thread."""

import dataclasses

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.annotation_json import RawJsonRenderer, annotations_json
from annotation.api.serializers import (
    AnnotationOutput,
    CommentOutput,
    DefectClassOutput,
    ImageDetailOutput,
    PyramidOutput,
)
from annotation.models import AssignmentStatus, Image, Role
from annotation.selectors import comment_list_for_image, editor_state_for_image, image_get_for_user
from annotation.services.comments import COMMENT_MAX_CHARS, image_comment_create
from defectlab.authenticated import AuthenticatedRequest


class EditorImageOutput(ImageDetailOutput):
    pyramid = serializers.SerializerMethodField(
        help_text="Tiles for large images; null for small ones, which load urls.display whole."
    )

    class Meta(ImageDetailOutput.Meta):
        fields = [*ImageDetailOutput.Meta.fields, "pyramid"]

    @extend_schema_field(PyramidOutput(allow_null=True))
    def get_pyramid(self, image: Image) -> dict | None:
        if not image.pyramid:
            return None
        return PyramidOutput(image.pyramid, context={"image_id": image.pk}).data


class EditorProjectOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    px_per_mm = serializers.FloatField(allow_null=True, help_text="null: not calibrated, sizes in px only")
    taxonomy_revision = serializers.IntegerField()


class EditorCapabilitiesOutput(serializers.Serializer):
    can_label = serializers.BooleanField(
        help_text="may draw, edit, mark defect-free and submit (not once an inspector submitted, until returned)"
    )
    can_review = serializers.BooleanField(help_text="may edit anyone's annotations")


class EditorAssignmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AssignmentStatus.choices)
    review_comment = serializers.CharField(help_text="why a reviewer returned the work; empty unless returned")
    submitted_at = serializers.DateTimeField(allow_null=True)


class EditorQueueOutput(serializers.Serializer):
    previous_image_id = serializers.IntegerField(allow_null=True)
    next_image_id = serializers.IntegerField(
        allow_null=True, help_text="as queue-next with after=this image and project=this project"
    )


class ImageEditorApi(APIView):
    """One request with all the editor needs to open an image; its query count is bounded (and tested). Its
    annotations are rendered from plain rows, their geometry sent as stored (annotations_json): an image may hold
    DEFECTLAB_IMAGE_MAX_ANNOTATIONS annotations and DEFECTLAB_IMAGE_MAX_VERTICES vertices, and this is the
    request that carries them all."""

    renderer_classes = [RawJsonRenderer]

    class OutputSerializer(serializers.Serializer):
        image = EditorImageOutput()
        project = EditorProjectOutput(source="image.project")
        defect_classes = DefectClassOutput(
            many=True, help_text="active classes, and retired ones still used by the annotations shown"
        )
        annotations = AnnotationOutput(many=True, help_text="the annotations this user may see on the image")
        role = serializers.ChoiceField(choices=Role.choices)
        capabilities = EditorCapabilitiesOutput(source="*")
        assignment = EditorAssignmentOutput(allow_null=True, help_text="this user's assignment on the image, if any")
        comments = CommentOutput(many=True)
        queue = EditorQueueOutput(source="*", help_text="neighbours in this user's open queue, wrapping round")

    @extend_schema(responses=OutputSerializer)
    def get(self, request: AuthenticatedRequest, image_id: int) -> Response:
        state = editor_state_for_image(user=request.user, image_id=image_id)
        data = self.OutputSerializer(dataclasses.replace(state, annotations=[])).data
        return Response({**data, "annotations": annotations_json(state.annotations)})


class ImageCommentListApi(APIView):
    """The image's comment thread, oldest first. Anyone who may see the image may read it and post."""

    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=COMMENT_MAX_CHARS)
        annotation_id = serializers.IntegerField(
            min_value=1, required=False, allow_null=True, default=None, help_text="the annotation it is about"
        )

    @extend_schema(responses=CommentOutput(many=True))
    def get(self, request: AuthenticatedRequest, image_id: int) -> Response:
        image, role = image_get_for_user(user=request.user, image_id=image_id)
        comments = comment_list_for_image(user=request.user, role=role, image=image)
        return Response(CommentOutput(comments, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CommentOutput})
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = image_comment_create(user=request.user, image_id=image_id, **data.validated_data)
        return Response(CommentOutput(comment).data, status=201)
