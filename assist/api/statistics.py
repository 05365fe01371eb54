"""The assist's statistics: acceptance, IoU and vertex changes per class and per engine, time per image with and
without the assist (JSON, or CSV and JSON downloads)."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from assist.permissions import AssistAction, project_get_for_assist
from assist.selectors import assist_statistics_for_project
from assist.statistics import GROUP_COLUMNS, statistics_tables
from defectlab.authenticated import AuthenticatedRequest

DOWNLOADS = ["classes.csv", "engines.csv", "statistics.json"]


def _csv(rows: list[dict], columns: list[str], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class AssistStatisticsApi(APIView):
    class FilterSerializer(serializers.Serializer):
        download = serializers.ChoiceField(
            choices=DOWNLOADS, required=False, help_text="a file to save instead of the JSON body"
        )

    class OutputSerializer(serializers.Serializer):
        classes = serializers.ListField(child=serializers.DictField(), help_text="per suggested defect class")
        engines = serializers.ListField(child=serializers.DictField(), help_text="per engine")
        time_per_image = serializers.DictField(help_text="with_assist, without_assist, by_engine")
        models = serializers.ListField(
            child=serializers.DictField(),
            help_text="per trained model, by id: acceptance and clicks per kept defect (before and after a retrain)",
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "application/json"): OutputSerializer, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response | HttpResponse:
        """Definitions in assist/statistics.py. Seniors, ML engineers and admins."""
        project, _ = project_get_for_assist(
            user=request.user, project_id=project_id, action=AssistAction.VIEW_STATISTICS
        )
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tables = statistics_tables(assist_statistics_for_project(project=project))
        download = filters.validated_data.get("download")
        if download in ("classes.csv", "engines.csv"):
            table = download.removesuffix(".csv")
            first = "defect_class" if table == "classes" else "engine"
            return _csv(tables[table], [first, *GROUP_COLUMNS], f"{project.slug}-assist-{download}")
        response = Response(tables)
        if download:
            response["Content-Disposition"] = f'attachment; filename="{project.slug}-assist-{download}"'
        return response
