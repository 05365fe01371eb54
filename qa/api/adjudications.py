"""The adjudication queue, one adjudication with everything to decide it, and the decision."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from defectlab.api.pagination import IdCursorPagination
from defectlab.authenticated import AuthenticatedRequest
from qa.api.serializers import (
    DefectChoiceInput,
    QaAnnotationOutput,
    QaDefectClassOutput,
    QaImageOutput,
    defect_choices,
)
from qa.models import Adjudication, AdjudicationDecision
from qa.permissions import QaAction, project_get_for_qa
from qa.selectors import adjudication_get_for_review, adjudication_list_for_project, adjudication_view
from qa.services.adjudications import adjudication_decide


class AdjudicationOutput(serializers.ModelSerializer):
    image = QaImageOutput(source="agreement.image")
    phase = serializers.CharField(source="agreement.phase")
    first_annotator = serializers.CharField(source="agreement.first_annotator.username", default=None)
    second_annotator = serializers.CharField(source="agreement.second_annotator.username", default=None)
    reasons = serializers.ListField(source="agreement.reasons", child=serializers.CharField())
    mean_iou = serializers.FloatField(source="agreement.mean_iou", allow_null=True)
    adjudicator = serializers.CharField(source="adjudicator.username", allow_null=True, default=None)
    status = serializers.CharField(help_text="pending | decided")

    class Meta:
        model = Adjudication
        fields = [
            "id",
            "status",
            "image",
            "phase",
            "first_annotator",
            "second_annotator",
            "reasons",
            "mean_iou",
            "decision",
            "reason",
            "adjudicator",
            "final_sources",
            "reviewer_edits",
            "created_at",
            "decided_at",
        ]


class AdjudicationListApi(APIView):
    pagination_class = IdCursorPagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(responses=AdjudicationOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.ADJUDICATE)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(adjudication_list_for_project(project=project), request, view=self)
        return paginator.get_paginated_response(AdjudicationOutput(page, many=True).data)


class MatchOutput(serializers.Serializer):
    first_annotation_id = serializers.IntegerField(allow_null=True)
    second_annotation_id = serializers.IntegerField(allow_null=True)
    first_defect_class_id = serializers.IntegerField(allow_null=True)
    second_defect_class_id = serializers.IntegerField(allow_null=True)
    is_matched = serializers.BooleanField()
    measure = serializers.CharField(help_text="mask or box")
    iou = serializers.FloatField()
    iou_threshold = serializers.FloatField()
    severity_distance = serializers.IntegerField(allow_null=True, help_text="|rank A - rank B|")
    reasons = serializers.ListField(child=serializers.CharField())
    is_agreed = serializers.BooleanField()


class DifferenceOutput(serializers.Serializer):
    """Uncompressed COCO runs over the image (column-major, starting with background)."""

    height = serializers.IntegerField()
    width = serializers.IntegerField()
    only_first = serializers.ListField(child=serializers.IntegerField())
    only_second = serializers.ListField(child=serializers.IntegerField())
    both = serializers.ListField(child=serializers.IntegerField())


class AdjudicationDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        adjudication = AdjudicationOutput()
        first = QaAnnotationOutput(many=True, source="first_work", help_text="annotator A's work")
        second = QaAnnotationOutput(many=True, source="second_work", help_text="annotator B's work")
        matches = MatchOutput(many=True)
        difference = DifferenceOutput()
        defect_classes = QaDefectClassOutput(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: AuthenticatedRequest, adjudication_id: int) -> Response:
        adjudication = adjudication_get_for_review(user=request.user, adjudication_id=adjudication_id)
        return Response(self.OutputSerializer(adjudication_view(adjudication=adjudication)).data)


class AdjudicationDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=AdjudicationDecision.choices)
        reason = serializers.CharField(max_length=5000)
        defects = DefectChoiceInput(many=True, required=False, default=list)

    @extend_schema(request=InputSerializer, responses=AdjudicationOutput)
    def post(self, request: AuthenticatedRequest, adjudication_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adjudication = adjudication_decide(
            user=request.user,
            adjudication_id=adjudication_id,
            decision=data.validated_data["decision"],
            reason=data.validated_data["reason"],
            defects=defect_choices(data.validated_data["defects"]),
        )
        return Response(AdjudicationOutput(adjudication).data)
