"""The QA policy, QA assignments, and the statistics tables (JSON or CSV)."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.errors import NoSuchAnnotator
from annotation.selectors import annotators_by_username
from defectlab.api.fields import BoundedJSONField, column_integer_field
from defectlab.authenticated import AuthenticatedRequest
from qa.models import QaPolicy
from qa.permissions import QaAction, project_get_for_qa
from qa.selectors import calibration_progress, qa_policy_for_project, qa_statistics_for_project
from qa.services.assignments import qa_assignments_create
from qa.services.policies import qa_policy_update
from qa.statistics import statistics_tables


class QaPolicyOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    calibration_compared_images = serializers.SerializerMethodField()

    class Meta:
        model = QaPolicy
        fields = [
            "version",
            "calibration_image_count",
            "calibration_compared_images",
            "spot_check_rate",
            "dual_annotation_rate",
            "mask_iou_threshold",
            "box_iou_threshold",
            "image_agreement_rate",
            "keypoint_tolerance_px",
            "severity_tolerance_ranks",
            "class_rules",
            "seed",
            "note",
            "created_by",
            "created_at",
        ]

    def get_calibration_compared_images(self, policy: QaPolicy) -> int:
        return calibration_progress(project=policy.project, policy=policy).compared_images


class QaPolicyApi(APIView):
    class InputSerializer(serializers.Serializer):
        calibration_image_count = column_integer_field(QaPolicy, "calibration_image_count", required=False)
        spot_check_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        dual_annotation_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        mask_iou_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)
        box_iou_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)
        image_agreement_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        keypoint_tolerance_px = serializers.FloatField(min_value=0, required=False)
        severity_tolerance_ranks = serializers.IntegerField(min_value=0, max_value=100, required=False)
        class_rules = BoundedJSONField(required=False, help_text='{"<class id>": {"measure", "iou_threshold"}}')
        note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(responses=QaPolicyOutput)
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.VIEW_POLICY)
        return Response(QaPolicyOutput(qa_policy_for_project(project=project)).data)

    @extend_schema(request=InputSerializer, responses=QaPolicyOutput)
    def put(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.MANAGE_POLICY)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = qa_policy_update(project=project, actor=request.user, **data.validated_data)
        return Response(QaPolicyOutput(policy).data)


class QaAssignmentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        annotators = serializers.ListField(child=serializers.CharField(), min_length=1, help_text="usernames")
        image_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=10_000)

    class OutputSerializer(serializers.Serializer):
        dual_image_ids = serializers.ListField(child=serializers.IntegerField())
        single_image_ids = serializers.ListField(child=serializers.IntegerField())
        assigned = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.ASSIGN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        names = data.validated_data["annotators"]
        users = annotators_by_username(project=project, usernames=names)
        missing = [name for name in names if name not in users]
        if missing:
            raise NoSuchAnnotator(missing)
        plan = qa_assignments_create(
            user=request.user,
            project=project,
            image_ids=data.validated_data["image_ids"],
            annotators=[users[name] for name in names],
        )
        return Response(self.OutputSerializer(plan).data, status=201)


def _csv(rows: list[dict], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            {key: " ".join(map(str, value)) if isinstance(value, list) else value for key, value in row.items()}
            for row in rows
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class QaStatisticsApi(APIView):
    class FilterSerializer(serializers.Serializer):
        download = serializers.ChoiceField(
            choices=["annotators.csv", "classes.csv", "statistics.json"],
            required=False,
            help_text="a file to save instead of the JSON body",
        )

    class OutputSerializer(serializers.Serializer):
        policy_version = serializers.IntegerField()
        calibration = serializers.DictField()
        annotators = serializers.ListField(child=serializers.DictField())
        classes = serializers.ListField(child=serializers.DictField())
        agreement_by_day = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "application/json"): OutputSerializer, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response | HttpResponse:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.VIEW_STATISTICS)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tables = statistics_tables(qa_statistics_for_project(project=project))
        download = filters.validated_data.get("download")
        if download in ("annotators.csv", "classes.csv"):
            return _csv(tables[download.removesuffix(".csv")], f"{project.slug}-qa-{download}")
        response = Response(tables)
        if download:
            response["Content-Disposition"] = f'attachment; filename="{project.slug}-qa-{download}"'
        return response
