"""Images, their files and tiles, the defect-free judgement, assignments and the annotator's queue."""

import mimetypes
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.serializers import (
    IMAGE_LIST_COLUMNS,
    ErrorOutput,
    ImageDetailOutput,
    ImageOutput,
    image_list_output,
)
from annotation.errors import NoSuchAnnotator
from annotation.models import AssignmentStatus, ImageStatus
from annotation.permissions import Capability
from annotation.queue_selectors import image_ids_next_to_assign, queue_next_for_user
from annotation.selectors import (
    annotators_by_username,
    assignment_list_for_annotator,
    image_get_for_user,
    image_list_for_project,
    image_tile_key,
    project_get_for_user,
)
from annotation.services.annotations import image_defect_free_set
from annotation.services.images import assignment_submit, assignments_create
from defectlab.api.pagination import IdCursorPagination, ScopedIdCursorPagination
from defectlab.authenticated import AuthenticatedRequest
from defectlab.errors import NotFound, ValidationFailed

FILE_KINDS = {"original": "file", "display": "display_file", "thumbnail": "thumbnail_file"}


class ImageListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ImageStatus.choices, required=False)
        defect_class = serializers.IntegerField(required=False, min_value=1)
        is_defect_free = serializers.BooleanField(required=False, allow_null=True, default=None)

    pagination_class = ScopedIdCursorPagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(parameters=[FilterSerializer], responses=ImageOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, role = project_get_for_user(user=request.user, project_id=project_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        images = image_list_for_project(
            user=request.user,
            role=role,
            project=project,
            status=filters.validated_data.get("status"),
            defect_class_id=filters.validated_data.get("defect_class"),
            is_defect_free=filters.validated_data.get("is_defect_free"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(images.values(*IMAGE_LIST_COLUMNS), request, view=self)
        return paginator.get_paginated_response(image_list_output(page or []))


class ImageDetailApi(APIView):
    @extend_schema(responses=ImageDetailOutput)
    def get(self, request: AuthenticatedRequest, image_id: int) -> Response:
        image, _ = image_get_for_user(user=request.user, image_id=image_id)
        return Response(ImageDetailOutput(image).data)


class ImageFileApi(APIView):
    """The image bytes, behind the same permission checks as the rest: media is never public."""

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(FILE_KINDS))],
        responses={(200, "application/octet-stream"): bytes},
    )
    def get(self, request: AuthenticatedRequest, image_id: int, kind: str) -> FileResponse:
        if kind not in FILE_KINDS:
            raise NotFound(f"No such file kind; choose one of {', '.join(FILE_KINDS)}.")
        image, _ = image_get_for_user(user=request.user, image_id=image_id)
        key = getattr(image, FILE_KINDS[kind])
        response = FileResponse(default_storage.open(key, "rb"), content_type=mimetypes.guess_type(key)[0])
        # Keys are content-addressed: the bytes behind this URL never change.
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        response["ETag"] = f'"{image.sha256}-{kind}"'
        if kind == "original":
            response["Content-Disposition"] = f'attachment; filename="{image.sha256[:12]}.{key.rsplit(".", 1)[-1]}"'
        return response


class ImageTileApi(APIView):
    """One JPEG tile of a large image's pyramid (`pyramid` in image-editor), behind the same permission checks as
    image-file. Tile (column, row) of a level covers pixels [column * tile_size, ...) of that level."""

    @extend_schema(responses={(200, "image/jpeg"): bytes, 404: ErrorOutput})
    def get(self, request: AuthenticatedRequest, image_id: int, level: int, column: int, row: int) -> FileResponse:
        image, _ = image_get_for_user(user=request.user, image_id=image_id)
        key = image_tile_key(image=image, level=level, column=column, row=row)
        response = FileResponse(default_storage.open(key, "rb"), content_type="image/jpeg")
        # Keys are content-addressed: the bytes behind this URL never change.
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        tile_size = (image.pyramid or {}).get("tile_size")
        response["ETag"] = f'"{image.sha256}-{tile_size}-{level}-{column}-{row}"'
        return response


class ImageDefectFreeApi(APIView):
    """Record (or withdraw) the judgement that an image shows no defect. Audited with who and when."""

    class InputSerializer(serializers.Serializer):
        is_defect_free = serializers.BooleanField()

    class OutputSerializer(serializers.Serializer):
        image_id = serializers.IntegerField(source="pk")
        is_defect_free = serializers.BooleanField()
        status = serializers.ChoiceField(choices=ImageStatus.choices)

    class ConflictSerializer(serializers.Serializer):
        code = serializers.CharField(help_text='"has_annotations"')
        message = serializers.CharField()
        annotation_ids = serializers.ListField(
            child=serializers.IntegerField(), help_text="your annotations on the image (the first 100)"
        )

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, 409: ConflictSerializer})
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = image_defect_free_set(
            user=request.user, image_id=image_id, is_defect_free=data.validated_data["is_defect_free"]
        )
        return Response(self.OutputSerializer(image).data)


class AssignmentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        annotator = serializers.CharField(help_text="username")
        image_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000, required=False
        )
        count = serializers.IntegerField(
            min_value=1,
            max_value=10_000,
            required=False,
            help_text="instead of image_ids: the next new images, the model's label-next ranking first",
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("image_ids" in attrs) == ("count" in attrs):
                raise serializers.ValidationError("Send image_ids or count, one of the two.")
            return attrs

    class OutputSerializer(serializers.Serializer):
        assigned = serializers.IntegerField(help_text="new assignments; images already assigned to them are skipped")

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(user=request.user, project_id=project_id, capability=Capability.ASSIGN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["annotator"]
        annotator = annotators_by_username(project=project, usernames=[username]).get(username)
        if annotator is None:
            raise NoSuchAnnotator([username])
        image_ids = data.validated_data.get("image_ids")
        if image_ids is None:
            image_ids = image_ids_next_to_assign(project=project, count=data.validated_data["count"])
        created = assignments_create(
            project=project, image_ids=image_ids, annotator=annotator, assigned_by=request.user
        )
        return Response(self.OutputSerializer({"assigned": len(created)}).data, status=201)


class QueueApi(APIView):
    """My queue: the images assigned to me, across my projects (or one, with ?project=)."""

    class OutputSerializer(serializers.Serializer):
        assignment_id = serializers.IntegerField(source="id")
        status = serializers.CharField()
        review_comment = serializers.CharField(help_text="Why a reviewer returned the work; empty unless returned.")
        image = ImageOutput()

    pagination_class = IdCursorPagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(parameters=[OpenApiParameter("project", int, required=False)], responses=OutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        project = None
        if "project" in request.query_params:
            try:
                project_id = int(request.query_params["project"])
            except ValueError:
                raise ValidationFailed("project must be a project id.") from None
            project, _ = project_get_for_user(user=request.user, project_id=project_id)
        assignments = assignment_list_for_annotator(user=request.user, project=project)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(assignments, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class QueueNextApi(APIView):
    """The next image to work on (assigned, in progress or returned to me), after `after` in my queue's order and
    wrapping round to its start; never `after` itself. 204 when nothing else is open."""

    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=1, required=False, help_text="the image id just worked on")
        project = serializers.IntegerField(min_value=1, required=False, help_text="stay within this project")

    @extend_schema(parameters=[FilterSerializer], responses={200: QueueApi.OutputSerializer, 204: None})
    def get(self, request: AuthenticatedRequest) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        project = None
        if "project" in filters.validated_data:
            project, _ = project_get_for_user(user=request.user, project_id=filters.validated_data["project"])
        assignment = queue_next_for_user(
            user=request.user, after_image_id=filters.validated_data.get("after"), project=project
        )
        if assignment is None:
            return Response(status=204)
        return Response(QueueApi.OutputSerializer(assignment).data)


class ImageSubmitApi(APIView):
    class OutputSerializer(serializers.Serializer):
        assignment_id = serializers.IntegerField(source="pk")
        status = serializers.ChoiceField(choices=AssignmentStatus.choices)

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        image, _ = image_get_for_user(user=request.user, image_id=image_id, capability=Capability.LABEL)
        assignment = assignment_submit(image=image, annotator=request.user)
        return Response(self.OutputSerializer(assignment).data)
