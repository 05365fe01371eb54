"""Label next and label-error review: start the jobs that score images with the promoted model, list the
rankings, and a senior's decision on a label the model doubts. Seniors and admins only."""

from typing import Any, cast

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from assist.label_review_selectors import label_error_context, label_error_list_for_project, label_next_list_for_project
from assist.models import LabelErrorScore, LabelErrorStatus, LabelNextScore
from assist.permissions import AssistAction, project_get_for_assist
from assist.services.label_review import label_error_decide, label_errors_start, label_next_start
from defectlab.authenticated import AuthenticatedRequest
from defectlab.jobs.api import JobOutput, job_output

LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX = 100, 500  # the top of a ranking: what a senior works through in a sitting


class LimitSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=LIST_LIMIT_MAX, default=LIST_LIMIT_DEFAULT)


class LabelReviewImageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    original_filename = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    status = serializers.CharField()
    urls = serializers.SerializerMethodField()

    def get_urls(self, image: Any) -> dict[str, str]:
        base = f"/api/v1/images/{image.pk}/file"
        return {"display": f"{base}/display", "thumbnail": f"{base}/thumbnail"}


class LabelNextStartApi(APIView):
    @extend_schema(request=None, responses={202: JobOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """Rank the unlabelled images by the promoted model's uncertainty, as an `assist_label_next` job (202 with
        the job). 409 no_promoted_model while the project has none."""
        job = label_next_start(user=request.user, project_id=project_id)
        return Response(job_output(job=job, user=request.user), status=202)


class LabelNextOutput(serializers.ModelSerializer):
    image = LabelReviewImageOutput()

    class Meta:
        model = LabelNextScore
        fields = ["image", "score", "mean_entropy", "defect_region_px", "predicted_defect_px", "model_id", "scored_at"]


class LabelNextListApi(APIView):
    @extend_schema(parameters=[LimitSerializer], responses=LabelNextOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """The label-next ranking, most uncertain first (`score`: mean normalised pixel entropy over the model's
        defect region, 0..1), of images still to label. New work is assigned in this order
        (`POST /projects/{id}/assignments/` with `count`)."""
        project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.REVIEW_LABELS)
        query = LimitSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = label_next_list_for_project(project=project)[: query.validated_data["limit"]]
        return Response(LabelNextOutput(rows, many=True).data)


class LabelErrorsStartApi(APIView):
    @extend_schema(request=None, responses={202: JobOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """Check every final image's annotations against the promoted model, as an `assist_label_errors` job (202
        with the job). 409 no_promoted_model while the project has none."""
        job = label_errors_start(user=request.user, project_id=project_id)
        return Response(job_output(job=job, user=request.user), status=202)


class LabelErrorAnnotationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    defect_class_id = serializers.IntegerField()
    revision = serializers.IntegerField()
    geometry = serializers.JSONField()
    self_confidence = serializers.FloatField(help_text="mean probability the model gives its class, 0..1")
    area_px = serializers.IntegerField()


class LabelErrorOutput(serializers.ModelSerializer):
    image = LabelReviewImageOutput()
    annotations = serializers.SerializerMethodField(help_text="the final annotations scored, worst first")
    prediction = serializers.JSONField(help_text="what the model drew: [{defect_class_id, geometry}]")
    annotators = serializers.SerializerMethodField(help_text="whose submitted work made the final answer")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    class Meta:
        model = LabelErrorScore
        fields = [
            "id",
            "image",
            "score",
            "annotations",
            "prediction",
            "unlabelled_defect_px",
            "disagreeing_px",
            "annotators",
            "status",
            "decided_by",
            "decided_at",
            "comment",
            "model_id",
            "scored_at",
        ]

    @extend_schema_field(LabelErrorAnnotationOutput(many=True))
    def get_annotations(self, entry: LabelErrorScore) -> list[dict[str, Any]]:
        geometries = self.context["geometries"]
        return cast(
            list[dict[str, Any]],
            LabelErrorAnnotationOutput(
                [
                    {**row, "id": row["annotation_id"], "geometry": geometries.get(row["annotation_id"])}
                    for row in entry.annotations
                    if row["annotation_id"] in geometries
                ],
                many=True,
            ).data,
        )

    def get_annotators(self, entry: LabelErrorScore) -> list[str]:
        return cast(list[str], self.context["annotators"].get(entry.image_id, []))


class LabelErrorFilterSerializer(LimitSerializer):
    status = serializers.ChoiceField(choices=LabelErrorStatus.choices, default=LabelErrorStatus.OPEN)


class LabelErrorListApi(APIView):
    @extend_schema(parameters=[LabelErrorFilterSerializer], responses=LabelErrorOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """The label-error queue, lowest label quality first (`score`: cleanlab's label quality, 0..1; low: the
        model strongly disagrees), with each image's final annotations and the model's drawing."""
        project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.REVIEW_LABELS)
        query = LabelErrorFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        entries = list(
            label_error_list_for_project(project=project, status=query.validated_data["status"])[
                : query.validated_data["limit"]
            ]
        )
        context = label_error_context(entries=entries)
        return Response(LabelErrorOutput(entries, many=True, context=context).data)


class LabelErrorDecideApi(APIView):
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(
            choices=[LabelErrorStatus.KEPT, LabelErrorStatus.FLAGGED],
            help_text="kept: the label is right; flagged: to QA's consensus review, with the comment",
        )
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: LabelErrorOutput})
    def post(self, request: AuthenticatedRequest, label_error_id: int) -> Response:
        """Decide one entry. `flagged` sends the image to QA's consensus review (an edge case in your name, on the
        QA page); 400 when the image is no longer final. 409 label_error_decided once decided."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = label_error_decide(user=request.user, label_error_id=label_error_id, **data.validated_data)
        return Response(LabelErrorOutput(entry, context=label_error_context(entries=[entry])).data)
