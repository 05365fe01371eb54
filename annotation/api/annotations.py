"""The editor's annotation endpoints. Saves carry the revision they started from (optimistic concurrency)."""

import json
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.annotation_json import RawJson, RawJsonRenderer, annotations_json
from annotation.api.serializers import AnnotationConflictOutput, AnnotationOutput
from annotation.models import AnnotationSource
from annotation.permissions import Capability
from annotation.selectors import (
    annotation_rows_for_image,
    audit_rows_for_project,
    image_get_for_user,
    project_get_for_user,
)
from annotation.services.annotations import annotation_create, annotation_delete, annotation_save
from defectlab.api.fields import BoundedJSONField
from defectlab.api.limits import request_body_limit_check
from defectlab.api.pagination import ScopedIdCursorPagination
from defectlab.authenticated import AuthenticatedRequest


class GeometryField(BoundedJSONField):
    """{"polygons": [{"exterior": [[x, y], ...], "holes": [[[x, y], ...]]}]}; checked by annotation.geometry."""


def _geometry_body_limit_check(request: AuthenticatedRequest) -> None:
    """A geometry's body is refused by its length before it is parsed (413 too_large): the geometry budget."""
    request_body_limit_check(
        request, max_bytes=settings.DEFECTLAB_GEOMETRY_MAX_BODY_BYTES, setting="DEFECTLAB_GEOMETRY_MAX_BODY_BYTES"
    )


class ProvenanceField(BoundedJSONField):
    """{"engine": "sam-vit_t", "model_id": 3, "prompt": {"clicks": [[x, y, 1]], "box": [x0, y0, x1, y1]}, ...}: how an
    assisted or model annotation was made. A small JSON object; its keys are the engine's."""

    max_bytes = 16_384
    max_depth = 6

    def to_internal_value(self, data: object) -> Any:
        value = super().to_internal_value(data)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise serializers.ValidationError("Provenance is a JSON object.")
        if len(json.dumps(value)) > self.max_bytes:
            raise serializers.ValidationError(f"Provenance is at most {self.max_bytes} bytes of JSON.")
        if _depth(value) > self.max_depth:
            raise serializers.ValidationError(f"Provenance nests at most {self.max_depth} levels.")
        return value


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


class AnnotationListApi(APIView):
    class InputSerializer(serializers.Serializer):
        defect_class_id = serializers.IntegerField(min_value=1)
        severity_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
        geometry = GeometryField()
        source = serializers.ChoiceField(  # type: ignore[assignment]  # the field is named like DRF's Field.source
            choices=[AnnotationSource.MANUAL, AnnotationSource.ASSISTED, AnnotationSource.MODEL],
            default=AnnotationSource.MANUAL,
        )
        is_final = serializers.BooleanField(
            default=False, help_text="reviewers: add the defect to a final image's final annotations"
        )
        provenance = ProvenanceField(required=False, allow_null=True, default=None)

    renderer_classes = [RawJsonRenderer]  # the list is sent from rows, its geometry as stored

    @extend_schema(responses=AnnotationOutput(many=True))
    def get(self, request: AuthenticatedRequest, image_id: int) -> Response:
        image, role = image_get_for_user(user=request.user, image_id=image_id)
        return Response(annotations_json(annotation_rows_for_image(user=request.user, role=role, image=image)))

    @extend_schema(request=InputSerializer, responses={201: AnnotationOutput})
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        _geometry_body_limit_check(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        annotation = annotation_create(
            user=request.user,
            image_id=image_id,
            defect_class_id=values["defect_class_id"],
            severity_id=values["severity_id"],
            geometry_data=values["geometry"],
            source=values["source"],
            is_final=values["is_final"],
            provenance=values["provenance"],
        )
        return Response(AnnotationOutput(annotation).data, status=201)


class AnnotationDetailApi(APIView):
    """Save or delete from the revision the edit started from. 409 annotation_conflict carries the current
    version (`current`), or null when someone deleted the annotation; nothing is overwritten."""

    class InputSerializer(serializers.Serializer):
        expected_revision = serializers.IntegerField(min_value=1)
        geometry = GeometryField(required=False)
        defect_class_id = serializers.IntegerField(min_value=1, required=False)
        severity_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    class DeleteSerializer(serializers.Serializer):
        expected_revision = serializers.IntegerField(min_value=1)

    @extend_schema(request=InputSerializer, responses={200: AnnotationOutput, 409: AnnotationConflictOutput})
    def put(self, request: AuthenticatedRequest, annotation_id: int) -> Response:
        _geometry_body_limit_check(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "geometry" in values:
            values["geometry_data"] = values.pop("geometry")
        annotation = annotation_save(user=request.user, annotation_id=annotation_id, **values)
        return Response(AnnotationOutput(annotation).data)

    @extend_schema(parameters=[DeleteSerializer], responses={204: None, 409: AnnotationConflictOutput})
    def delete(self, request: AuthenticatedRequest, annotation_id: int) -> Response:
        data = self.DeleteSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        annotation_delete(
            user=request.user, annotation_id=annotation_id, expected_revision=data.validated_data["expected_revision"]
        )
        return Response(status=204)


class AuditListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
        action = serializers.CharField()
        object_type = serializers.CharField()
        object_id = serializers.IntegerField()
        before = serializers.JSONField()
        after = serializers.JSONField()
        created_at = serializers.DateTimeField()

    class Pagination(ScopedIdCursorPagination):
        ordering = "-id"

    pagination_class = Pagination  # read by drf-spectacular: the schema shows the paginated envelope
    renderer_classes = [RawJsonRenderer]  # the snapshots are sent as stored (audit_rows_for_project)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(user=request.user, project_id=project_id, capability=Capability.VIEW_AUDIT)
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(audit_rows_for_project(project=project), request, view=self) or []
        created_at = serializers.DateTimeField()  # as OutputSerializer writes it
        entries = []
        for row in rows:
            head = json.dumps(
                {
                    "id": row["id"],
                    "actor": row["actor_username"],
                    "action": row["action"],
                    "object_type": row["object_type"],
                    "object_id": row["object_id"],
                }
            )
            tail = json.dumps({"created_at": created_at.to_representation(row["created_at"])})
            before, after = row["before_json"] or "null", row["after_json"] or "null"
            entries.append(f'{head[:-1]}, "before": {before}, "after": {after}, {tail[1:]}')
        return paginator.get_paginated_response(RawJson(f"[{','.join(entries)}]"))
