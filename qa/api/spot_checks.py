"""Spot-check samples (draw, list with their reproducibility), the spot-check queue, and the decision."""

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from defectlab.api.pagination import IdCursorPagination
from defectlab.authenticated import AuthenticatedRequest
from defectlab.errors import ValidationFailed
from qa.api.serializers import DefectChoiceInput, QaAnnotationOutput, QaImageOutput, defect_choices
from qa.models import SpotCheck, SpotCheckSample
from qa.permissions import QaAction, project_get_for_qa
from qa.selectors import (
    annotator_work_for_spot_checks,
    spot_check_list_for_project,
    spot_check_sample_is_reproducible,
    spot_check_sample_list_for_project,
)
from qa.services.spot_checks import spot_check_accept, spot_check_reject, spot_check_sample_draw


class SampleOutput(serializers.ModelSerializer):
    drawn_by = serializers.CharField(source="drawn_by.username", allow_null=True, default=None)
    policy_version = serializers.IntegerField(source="policy.version")
    is_reproducible = serializers.SerializerMethodField(
        help_text="drawing again from the recorded population, rate and seed gives the recorded sample"
    )

    class Meta:
        model = SpotCheckSample
        fields = [
            "id",
            "seed",
            "rate",
            "policy_version",
            "population_image_ids",
            "drawn_image_ids",
            "is_reproducible",
            "drawn_by",
            "created_at",
        ]

    def get_is_reproducible(self, sample: SpotCheckSample) -> bool:
        return spot_check_sample_is_reproducible(sample)


class SpotCheckSampleListApi(APIView):
    class InputSerializer(serializers.Serializer):
        seed = serializers.IntegerField(
            min_value=0, max_value=2**63 - 1, required=False, help_text="omit for a fresh random seed"
        )

    class Pagination(IdCursorPagination):
        ordering = "-id"

    pagination_class = Pagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(responses=SampleOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.SPOT_CHECK)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(spot_check_sample_list_for_project(project=project), request, view=self)
        return paginator.get_paginated_response(SampleOutput(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SampleOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.SPOT_CHECK)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sample = spot_check_sample_draw(user=request.user, project=project, seed=data.validated_data.get("seed"))
        return Response(SampleOutput(sample).data, status=201)


class SpotCheckOutput(serializers.ModelSerializer):
    image = QaImageOutput()
    annotator = serializers.CharField(source="annotator.username", allow_null=True, default=None)
    reviewer = serializers.CharField(source="reviewer.username", allow_null=True, default=None)
    status = serializers.CharField(help_text="pending | accepted | rejected (returned to the annotator)")

    class Meta:
        model = SpotCheck
        fields = [
            "id",
            "sample_id",
            "status",
            "image",
            "annotator",
            "reviewer",
            "comment",
            "reviewer_edits",
            "created_at",
            "decided_at",
        ]


class SpotCheckWithWorkOutput(SpotCheckOutput):
    class Meta(SpotCheckOutput.Meta):
        fields = [*SpotCheckOutput.Meta.fields, "annotations"]

    annotations = serializers.SerializerMethodField(help_text="the annotator's work under check")

    def get_annotations(self, spot_check: SpotCheck) -> list[dict]:
        work = self.context["work"].get((spot_check.image_id, spot_check.annotator_id), [])
        return cast(list[dict], QaAnnotationOutput(work, many=True).data)


class SpotCheckListApi(APIView):
    pagination_class = IdCursorPagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(responses=SpotCheckWithWorkOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_qa(user=request.user, project_id=project_id, action=QaAction.SPOT_CHECK)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(spot_check_list_for_project(project=project), request, view=self)
        work = annotator_work_for_spot_checks(spot_checks=page or [])
        return paginator.get_paginated_response(SpotCheckWithWorkOutput(page, many=True, context={"work": work}).data)


class SpotCheckDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=["accept", "reject"])
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        defects = DefectChoiceInput(
            many=True, required=False, help_text="accept only: the reviewer's corrected version of the work"
        )

    @extend_schema(request=InputSerializer, responses=SpotCheckOutput)
    def post(self, request: AuthenticatedRequest, spot_check_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["verdict"] == "reject":
            if "defects" in values:
                raise ValidationFailed("A rejection returns the work as it is; send no defects.")
            spot_check = spot_check_reject(user=request.user, spot_check_id=spot_check_id, comment=values["comment"])
        else:
            defects = defect_choices(values["defects"]) if "defects" in values else None
            spot_check = spot_check_accept(user=request.user, spot_check_id=spot_check_id, defects=defects)
        return Response(SpotCheckOutput(spot_check).data)
