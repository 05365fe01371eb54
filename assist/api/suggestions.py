"""Pre-labels in the editor: the ones waiting for me, accept (it becomes my annotation) or delete; and the moment I
first opened the image (time per image)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.serializers import AnnotationOutput
from assist.selectors import suggestion_list_pending_for_user
from assist.services.suggestions import image_visit_record, suggestion_accept, suggestion_reject
from defectlab.authenticated import AuthenticatedRequest


class SuggestionOutput(serializers.Serializer):
    """A pre-label: a defect an engine found with no prompt, not anyone's work until accepted."""

    id = serializers.IntegerField()
    image_id = serializers.IntegerField()
    defect_class_id = serializers.IntegerField()
    engine = serializers.CharField()
    score = serializers.FloatField()
    geometry = serializers.JSONField(help_text='{"polygons": [{"exterior", "holes"}]}, image px')
    vertex_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class SuggestionListApi(APIView):
    @extend_schema(responses=SuggestionOutput(many=True))
    def get(self, request: AuthenticatedRequest, image_id: int) -> Response:
        """The image's pre-labels you have not accepted or deleted yet, best score first (404 where you may not
        label the image)."""
        suggestions = suggestion_list_pending_for_user(user=request.user, image_id=image_id)
        return Response(SuggestionOutput(suggestions, many=True).data)


class SuggestionAcceptApi(APIView):
    class InputSerializer(serializers.Serializer):
        defect_class_id = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="default: the suggestion's"
        )
        severity_id = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=2**63 - 1, default=None
        )

    @extend_schema(request=InputSerializer, responses={201: AnnotationOutput})
    def post(self, request: AuthenticatedRequest, suggestion_id: int) -> Response:
        """Keep the suggestion as your own annotation (source "model", provenance {engine, score,
        suggestion_id, job_id}); then edit or delete it like any other. 409 suggestion_decided if you already
        did; refused as drawing is (defect_too_small, already_submitted, ...)."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        annotation = suggestion_accept(
            user=request.user,
            suggestion_id=suggestion_id,
            defect_class_id=data.validated_data.get("defect_class_id"),
            severity_id=data.validated_data["severity_id"],
        )
        return Response(AnnotationOutput(annotation).data, status=201)


class SuggestionRejectApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        decision = serializers.CharField(help_text='"rejected"')

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: AuthenticatedRequest, suggestion_id: int) -> Response:
        """Delete the suggestion from your view of the image (kept, decided, for the assist statistics)."""
        suggestion = suggestion_reject(user=request.user, suggestion_id=suggestion_id)
        return Response(self.OutputSerializer({"id": suggestion.pk, "decision": "rejected"}).data)


class ImageVisitApi(APIView):
    class OutputSerializer(serializers.Serializer):
        opened_at = serializers.DateTimeField(help_text="your first opening of the image to work on it")

    @extend_schema(request=None, responses=OutputSerializer)
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        """The editor calls this when it opens an image for your own work: the first call's server time starts
        "time per image" in the assist statistics; later calls change nothing."""
        visit = image_visit_record(user=request.user, image_id=image_id)
        return Response(self.OutputSerializer(visit).data)
