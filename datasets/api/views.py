"""Uploads: files and zips in, an import job out (the worker decodes)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.permissions import Capability
from annotation.selectors import project_get_for_user
from datasets.models import ImportJob
from datasets.services.jobs import import_job_create
from defectlab.authenticated import AuthenticatedRequest
from defectlab.errors import NotFound, ValidationFailed
from defectlab.jobs.models import JobStatus


class ImportJobOutput(serializers.ModelSerializer):
    """An upload's counts and rejections; its lifecycle comes from its job (also at /api/v1/jobs/{job_id}/)."""

    status = serializers.ChoiceField(source="job.status", choices=JobStatus.choices)
    total_files = serializers.IntegerField(source="job.progress_total")
    processed_files = serializers.IntegerField(source="job.progress_done")
    error = serializers.CharField(source="job.error")
    started_at = serializers.DateTimeField(source="job.started_at", allow_null=True)
    finished_at = serializers.DateTimeField(source="job.finished_at", allow_null=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "job_id",
            "project_id",
            "status",
            "with_masks",
            "total_files",
            "processed_files",
            "imported_count",
            "duplicate_count",
            "annotation_count",
            "rejected",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class UploadCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(child=serializers.FileField(allow_empty_file=True), min_length=1)
        with_masks = serializers.BooleanField(default=False, help_text="zip in CLASS/NAME.jpg + NAME.png layout")

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={202: ImportJobOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(user=request.user, project_id=project_id, capability=Capability.UPLOAD)
        files = request.FILES.getlist("files")
        with_masks = request.data.get("with_masks", False) if isinstance(request.data, dict) else False
        data = self.InputSerializer(data={"files": files, "with_masks": with_masks})
        data.is_valid(raise_exception=True)
        too_big = [upload.name for upload in files if upload.size > settings.DEFECTLAB_MAX_UPLOAD_BYTES]
        if too_big:
            raise ValidationFailed(
                f"Larger than {settings.DEFECTLAB_MAX_UPLOAD_BYTES:,} bytes: {', '.join(too_big)}.", files=too_big
            )
        job = import_job_create(
            project=project, files=files, created_by=request.user, with_masks=data.validated_data["with_masks"]
        )
        return Response(ImportJobOutput(job).data, status=202)


class UploadDetailApi(APIView):
    @extend_schema(responses=ImportJobOutput)
    def get(self, request: AuthenticatedRequest, job_id: int) -> Response:
        job = ImportJob.objects.select_related("job").filter(pk=job_id).first()
        if job is None:
            raise NotFound("No such upload.")
        project_get_for_user(user=request.user, project_id=job.project_id, capability=Capability.UPLOAD)
        return Response(ImportJobOutput(job).data)
