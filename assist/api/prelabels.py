"""Pre-label jobs: an engine suggests defects on many images; inspectors accept or delete each suggestion."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from assist.services.prelabels import prelabels_start
from defectlab.authenticated import AuthenticatedRequest
from defectlab.jobs.api import JobOutput, job_output

MAX_IMAGE_IDS = 100_000  # one request's list; "all_unlabelled" covers a whole project


class PrelabelStartApi(APIView):
    class InputSerializer(serializers.Serializer):
        image_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
            required=False,
            allow_null=True,
            default=None,
            min_length=1,
            max_length=MAX_IMAGE_IDS,
        )
        all_unlabelled = serializers.BooleanField(
            required=False, default=False, help_text="every image without annotations or waiting suggestions"
        )
        engine = serializers.CharField(required=False, max_length=100, help_text="default: the best that can")
        defect_class_id = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=2**63 - 1,
            help_text="class of the suggestions whose engine names none (default: the project's first)",
        )

    @extend_schema(request=InputSerializer, responses={202: JobOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """Pre-label images (`image_ids`, or `all_unlabelled`) as an `assist_prelabel` job: 202 with the job
        (follow it at /api/v1/jobs/{id}/). Seniors and admins only. 409 no_prelabel_engine while no engine can
        find defects on its own (the classical engine and SAM need a prompt): train a model."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = prelabels_start(
            user=request.user,
            project_id=project_id,
            image_ids=values["image_ids"],
            is_all_unlabelled=values["all_unlabelled"],
            engine_name=values.get("engine"),
            defect_class_id=values.get("defect_class_id"),
        )
        return Response(job_output(job=job, user=request.user), status=202)
