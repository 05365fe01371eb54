"""Consensus review (edge cases and class precedents) and re-reviews after taxonomy changes."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from defectlab.api.pagination import IdCursorPagination
from defectlab.authenticated import AuthenticatedRequest
from qa.models import EdgeCase, EdgeCaseStatus, ReReview, ReReviewStatus
from qa.permissions import QaAction, project_get_for_qa
from qa.selectors import edge_case_list_for_project, precedent_list_for_project, re_review_list_for_project
from qa.services.edge_cases import edge_case_decide, edge_case_flag
from qa.services.re_reviews import re_review_resolve


class EdgeCaseOutput(serializers.ModelSerializer):
    flagged_by = serializers.CharField(source="flagged_by.username", allow_null=True, default=None)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    status = serializers.CharField(help_text="open | decided")

    class Meta:
        model = EdgeCase
        fields = [
            "id",
            "image_id",
            "note",
            "status",
            "flagged_by",
            "decision",
            "decided_by",
            "precedent_defect_class_id",
            "created_at",
            "decided_at",
        ]


class EdgeCaseFlagApi(APIView):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(
            max_length=5000, required=False, allow_blank=True, default="", help_text="what makes it hard to call"
        )

    @extend_schema(request=InputSerializer, responses={201: EdgeCaseOutput})
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edge_case = edge_case_flag(user=request.user, image_id=image_id, note=data.validated_data["note"])
        return Response(EdgeCaseOutput(edge_case).data, status=201)


class EdgeCaseListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        # A plain string in the schema: each app's "status" choice set would otherwise need an enum name override.
        status = serializers.CharField(required=False, help_text="open | decided")

        def validate_status(self, value: str) -> str:
            if value not in EdgeCaseStatus.values:
                raise serializers.ValidationError(f"Choose one of {', '.join(EdgeCaseStatus.values)}.")
            return value

    pagination_class = IdCursorPagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(parameters=[FilterSerializer], responses=EdgeCaseOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, role = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.FLAG_EDGE_CASE)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        edge_cases = edge_case_list_for_project(
            user=request.user, role=role, project=project, status=filters.validated_data.get("status")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(edge_cases, request, view=self)
        return paginator.get_paginated_response(EdgeCaseOutput(page, many=True).data)


class EdgeCaseDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        decision = serializers.CharField(max_length=5000)
        precedent_defect_class_id = serializers.IntegerField(
            min_value=1, required=False, allow_null=True, default=None, help_text="attach as a precedent"
        )

    @extend_schema(request=InputSerializer, responses=EdgeCaseOutput)
    def post(self, request: AuthenticatedRequest, edge_case_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edge_case = edge_case_decide(user=request.user, edge_case_id=edge_case_id, **data.validated_data)
        return Response(EdgeCaseOutput(edge_case).data)


class PrecedentListApi(APIView):
    """Decided edge cases attached to defect classes: the editor shows them with each class's description."""

    class FilterSerializer(serializers.Serializer):
        defect_class = serializers.IntegerField(min_value=1, required=False)

    class OutputSerializer(serializers.ModelSerializer):
        defect_class_id = serializers.IntegerField(source="precedent_defect_class_id")
        defect_class = serializers.CharField(source="precedent_defect_class.name")
        decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
        can_open_image = serializers.BooleanField(help_text="whether you may open the image (link to it)")

        class Meta:
            model = EdgeCase
            fields = [
                "id",
                "defect_class_id",
                "defect_class",
                "image_id",
                "can_open_image",
                "note",
                "decision",
                "decided_by",
                "decided_at",
            ]

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, role = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.VIEW_PRECEDENTS)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        precedents = precedent_list_for_project(
            user=request.user, role=role, project=project, defect_class_id=filters.validated_data.get("defect_class")
        )
        return Response(self.OutputSerializer(precedents, many=True).data)


class ReReviewOutput(serializers.ModelSerializer):
    image_id = serializers.IntegerField(source="annotation.image_id")
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True, default=None)
    status = serializers.CharField(help_text="open | resolved")

    class Meta:
        model = ReReview
        fields = [
            "id",
            "annotation_id",
            "image_id",
            "defect_class_id",
            "change",
            "details",
            "status",
            "resolution",
            "resolved_by",
            "created_at",
            "resolved_at",
        ]


class ReReviewListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, default=ReReviewStatus.OPEN, help_text="open | resolved")

        def validate_status(self, value: str) -> str:
            if value not in ReReviewStatus.values:
                raise serializers.ValidationError(f"Choose one of {', '.join(ReReviewStatus.values)}.")
            return value

    pagination_class = IdCursorPagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(parameters=[FilterSerializer], responses=ReReviewOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.RE_REVIEW)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        re_reviews = re_review_list_for_project(project=project, status=filters.validated_data["status"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(re_reviews, request, view=self)
        return paginator.get_paginated_response(ReReviewOutput(page, many=True).data)


class ReReviewResolveApi(APIView):
    class InputSerializer(serializers.Serializer):
        resolution = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        defect_class_id = serializers.IntegerField(
            min_value=1, required=False, allow_null=True, default=None, help_text="relabel to this class"
        )

    @extend_schema(request=InputSerializer, responses=ReReviewOutput)
    def post(self, request: AuthenticatedRequest, re_review_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        re_review = re_review_resolve(user=request.user, re_review_id=re_review_id, **data.validated_data)
        return Response(ReReviewOutput(re_review).data)
