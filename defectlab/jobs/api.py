"""The jobs API: one shape for every kind. Follow a job, cancel it, list a project's jobs."""

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from defectlab.api.pagination import IdCursorPagination
from defectlab.authenticated import AuthenticatedRequest
from defectlab.jobs.access import JobAccess
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.selectors import job_access_for_user, job_get_for_user, job_list_for_project
from defectlab.jobs.services import job_cancel, job_may_cancel


class JobOutput(serializers.Serializer[Any]):
    """A background job of any kind: its status, progress, result, and whether you may cancel it."""

    # Its context holds `user`, and `access` (the user's JobAccess to these jobs) where it is known.

    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress_done = serializers.IntegerField()
    progress_total = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    error = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    result = serializers.DictField(help_text="The kind's result once succeeded, e.g. {version_id} for a freeze.")
    can_cancel = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField())
    def get_can_cancel(self, job: Job) -> bool:
        user = self.context["user"]
        access = self.context.get("access")
        if access is None:
            access = job_access_for_user(job=job, user=user)
        return job_may_cancel(job=job, user=user, access=access)


def job_output(*, job: Job, user: User, access: JobAccess | None = None) -> dict[str, Any]:
    """The API's JSON for one job, as seen by `user` (other apps answer with it when they start a job)."""
    return JobOutput(job, context={"user": user, "access": access}).data


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutput)
    def get(self, request: AuthenticatedRequest, job_id: int) -> Response:
        job, access = job_get_for_user(user=request.user, job_id=job_id)
        return Response(job_output(job=job, user=request.user, access=access))


class JobCancelApi(APIView):
    @extend_schema(request=None, responses=JobOutput)
    def post(self, request: AuthenticatedRequest, job_id: int) -> Response:
        """Cancel a job: a queued one at once, a running one at its next check (it answers `running` with
        can_cancel false until its worker stops it). 403 unless you started it or manage its project; 409
        `job_finished` once it has ended."""
        job, _ = job_get_for_user(user=request.user, job_id=job_id)
        job = job_cancel(job=job, user=request.user)
        return Response(job_output(job=job, user=request.user))


class ProjectJobListApi(APIView):
    class FilterSerializer(serializers.Serializer[Any]):
        kind = serializers.CharField(required=False, help_text="e.g. dataset_version_freeze, dataset_export")
        status = serializers.ChoiceField(choices=JobStatus.choices, required=False)

    class Pagination(IdCursorPagination):
        ordering = "-id"

    pagination_class = Pagination  # read by drf-spectacular: the schema shows the paginated envelope

    @extend_schema(parameters=[FilterSerializer], responses=JobOutput(many=True))
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        status = filters.validated_data.get("status")
        jobs, access = job_list_for_project(
            user=request.user,
            project_id=project_id,
            kind=filters.validated_data.get("kind"),
            statuses=[status] if status else None,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs, request, view=self)
        context = {"user": request.user, "access": access}
        return paginator.get_paginated_response(JobOutput(page, many=True, context=context).data)
