"""Dataset versions and their exports: freeze, read, request an export, follow it, download it."""

from typing import cast

from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import ImageStatus
from annotation.permissions import Capability
from annotation.selectors import project_get_for_user
from datasets import storage
from datasets.balance import balance_report
from datasets.errors import ExportNotReady
from datasets.exporters.registry import exporter_names
from datasets.models import DatasetExport, DatasetVersion, LineKind
from datasets.selectors import (
    dataset_export_get_for_user,
    dataset_export_list_for_version,
    dataset_version_get_for_user,
    dataset_version_list_for_project,
)
from datasets.services.exports import dataset_export_download_name, dataset_export_request
from datasets.services.versions import FreezeOptions, dataset_version_freeze_start
from datasets.splits import DEFAULT_SPLIT_RATIOS
from defectlab.api.fields import NameField, column_integer_field
from defectlab.authenticated import AuthenticatedRequest
from defectlab.jobs.api import JobOutput, job_output
from defectlab.jobs.models import JobStatus


class DatasetExportOutput(serializers.ModelSerializer):
    """An export file; whether it is built comes from its latest build's job (/api/v1/jobs/{job_id}/)."""

    status = serializers.ChoiceField(source="job.status", choices=JobStatus.choices)
    progress_done = serializers.IntegerField(source="job.progress_done")
    progress_total = serializers.IntegerField(source="job.progress_total")
    error = serializers.CharField(source="job.error")
    started_at = serializers.DateTimeField(source="job.started_at", allow_null=True)
    finished_at = serializers.DateTimeField(source="job.finished_at", allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DatasetExport
        fields = [
            "id",
            "job_id",
            "version_id",
            "format",
            "format_version",
            "with_images",
            "status",
            "progress_done",
            "progress_total",
            "sha256",
            "size_bytes",
            "error",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_download_url(self, export: DatasetExport) -> str | None:
        return f"/api/v1/exports/{export.pk}/file" if export.job.status == JobStatus.SUCCEEDED else None


class DatasetVersionOutput(serializers.ModelSerializer):
    previous = serializers.SerializerMethodField()
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = [
            "id",
            "project_id",
            "number",
            "name",
            "content_hash",
            "seed",
            "split_ratios",
            "filter",
            "line_kind",
            "counts",
            "previous",
            "manifest_size_bytes",
            "created_by",
            "created_at",
        ]

    def get_previous(self, version: DatasetVersion) -> dict | None:
        if version.previous_id is None:
            return None
        return {"id": version.previous_id, "name": cast(DatasetVersion, version.previous).name}


class DatasetVersionDetailOutput(DatasetVersionOutput):
    balance = serializers.SerializerMethodField()
    exports = serializers.SerializerMethodField()

    class Meta(DatasetVersionOutput.Meta):
        fields = [*DatasetVersionOutput.Meta.fields, "taxonomy", "diff", "balance", "exports"]

    def get_balance(self, version: DatasetVersion) -> dict:
        return balance_report(counts=version.counts, line_kind=version.line_kind)

    def get_exports(self, version: DatasetVersion) -> list[dict]:
        exports = dataset_export_list_for_version(version=version).select_related("job")
        return cast(list[dict], DatasetExportOutput(exports, many=True).data)


class DatasetVersionListApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = NameField(max_length=100)
        seed = column_integer_field(DatasetVersion, "seed", default=0)
        defect_classes = serializers.ListField(
            child=serializers.CharField(), required=False, allow_null=True, default=None, help_text="null: all"
        )
        image_statuses = serializers.ListField(
            child=serializers.ChoiceField(choices=ImageStatus.choices), default=[ImageStatus.FINAL], min_length=1
        )
        final_annotations_only = serializers.BooleanField(default=True)
        include_defect_free = serializers.BooleanField(default=True)
        split_ratios = serializers.DictField(
            child=serializers.FloatField(min_value=0, max_value=1),
            default=DEFAULT_SPLIT_RATIOS,
            help_text='{"train": 0.7, "val": 0.15, "test": 0.15}',
        )
        line_kind = serializers.ChoiceField(choices=LineKind.choices, default=LineKind.SAFETY_CRITICAL)

    @extend_schema(responses=DatasetVersionOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_VERSIONS
        )
        versions = dataset_version_list_for_project(project=project).select_related("previous")
        return Response(DatasetVersionOutput(versions, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: JobOutput})
    def post(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """Freeze a version: checked now (400 with the reason), frozen by a worker. Answers 202 with the job;
        follow it at /api/v1/jobs/{id}/: once it has succeeded, its result is {"version_id": ...}."""
        project, _ = project_get_for_user(
            user=request.user, project_id=project_id, capability=Capability.MANAGE_VERSIONS
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        classes = values["defect_classes"]
        job = dataset_version_freeze_start(
            project=project,
            name=values["name"],
            created_by=request.user,
            line_kind=values["line_kind"],
            options=FreezeOptions(
                seed=values["seed"],
                defect_classes=tuple(classes) if classes is not None else None,
                image_statuses=tuple(values["image_statuses"]),
                final_annotations_only=values["final_annotations_only"],
                include_defect_free=values["include_defect_free"],
                split_ratios=tuple(values["split_ratios"].items()),
            ),
        )
        return Response(job_output(job=job, user=request.user), status=202)


class DatasetVersionDetailApi(APIView):
    @extend_schema(responses=DatasetVersionDetailOutput)
    def get(self, request: AuthenticatedRequest, version_id: int) -> Response:
        version = dataset_version_get_for_user(user=request.user, version_id=version_id)
        return Response(DatasetVersionDetailOutput(version).data)


class DatasetExportListApi(APIView):
    class InputSerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=exporter_names())
        with_images = serializers.BooleanField(default=False)

    @extend_schema(responses=DatasetExportOutput(many=True))
    def get(self, request: AuthenticatedRequest, version_id: int) -> Response:
        version = dataset_version_get_for_user(user=request.user, version_id=version_id)
        return Response(
            DatasetExportOutput(dataset_export_list_for_version(version=version).select_related("job"), many=True).data
        )

    @extend_schema(request=InputSerializer, responses={200: DatasetExportOutput, 202: DatasetExportOutput})
    def post(self, request: AuthenticatedRequest, version_id: int) -> Response:
        """The export in that format: 200 with its download URL when it is built, else 202 while a worker
        builds it (poll export-detail)."""
        version = dataset_version_get_for_user(user=request.user, version_id=version_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        export = dataset_export_request(
            version=version,
            export_format=data.validated_data["format"],
            with_images=data.validated_data["with_images"],
            requested_by=request.user,
        )
        return Response(
            DatasetExportOutput(export).data, status=200 if export.job.status == JobStatus.SUCCEEDED else 202
        )


class DatasetExportDetailApi(APIView):
    @extend_schema(responses=DatasetExportOutput)
    def get(self, request: AuthenticatedRequest, export_id: int) -> Response:
        return Response(DatasetExportOutput(dataset_export_get_for_user(user=request.user, export_id=export_id)).data)


class DatasetExportFileApi(APIView):
    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: AuthenticatedRequest, export_id: int) -> FileResponse:
        export = dataset_export_get_for_user(user=request.user, export_id=export_id)
        if export.job.status != JobStatus.SUCCEEDED:
            raise ExportNotReady(f"This export is {export.job.status}; download it once it has succeeded.")
        response = FileResponse(
            storage.open_key(export.file_key),
            as_attachment=True,
            filename=dataset_export_download_name(export),
            content_type="application/zip",
        )
        # The file is stored under its sha256: the bytes behind this URL never change.
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        response["ETag"] = f'"{export.sha256}"'
        return response
