"""The editor's assist: ask an engine for the defect under a box or clicks; list the engines a project gets."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.api.annotations import GeometryField
from assist.permissions import AssistAction, project_get_for_assist
from assist.selectors import engines_for_project
from assist.services.assist import AssistPrompt, assist_record, assist_run
from defectlab.authenticated import AuthenticatedRequest

HARD_MAX_CLICKS = 1_000  # per list, refused while parsing; the service applies DEFECTLAB_ASSIST_MAX_CLICKS


def point_field() -> serializers.ListField:
    """[x, y] in image px: (0, 0) is the centre of the top-left pixel (annotation/geometry.py)."""
    return serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)


class PromptInput(serializers.Serializer):
    defect_class_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    box = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        required=False,
        allow_null=True,
        default=None,
        help_text="[x0, y0, x1, y1] image px, both corners included (pixel centres)",
    )
    positive_clicks = serializers.ListField(
        child=point_field(), required=False, default=list, max_length=HARD_MAX_CLICKS, help_text='"this is defect"'
    )
    negative_clicks = serializers.ListField(
        child=point_field(), required=False, default=list, max_length=HARD_MAX_CLICKS, help_text='"this is not"'
    )


class AssistOutput(serializers.Serializer):
    """An engine's suggestion: polygons simplified to few vertices (assist/outlines.py), or no geometry when the
    engine found nothing there. Save it as an annotation with source "assisted" and a provenance holding
    engine, prompt, score and suggestion_id."""

    suggestion_id = serializers.IntegerField(allow_null=True, help_text="null when nothing was found")
    engine = serializers.CharField()
    model_id = serializers.IntegerField(
        allow_null=True, help_text="the trained model that answered (engines model-<id>, interactive-<id>); null: none"
    )
    score = serializers.FloatField(help_text="the engine's confidence, 0..1")
    geometry = serializers.JSONField(allow_null=True, help_text='{"polygons": [{"exterior", "holes"}]}, image px')
    bbox = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[x, y, width, height], pixel extent"
    )
    vertex_count = serializers.IntegerField()
    ms = serializers.FloatField(help_text="server time for the answer, milliseconds")


class AssistRunApi(APIView):
    class InputSerializer(serializers.Serializer):
        engine = serializers.CharField(required=False, max_length=100, help_text="default: the project's preferred")
        prompt = PromptInput()
        replaces_suggestion_id = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="the answer this replaces"
        )
        region = serializers.ListField(
            child=serializers.IntegerField(min_value=0, max_value=2**31 - 1),
            min_length=4,
            max_length=4,
            required=False,
            allow_null=True,
            default=None,
            help_text="[x, y, width, height] image px: the part the editor shows (SAM embeds it, not a 16k frame)",
        )
        previous_geometry = GeometryField(
            required=False,
            allow_null=True,
            default=None,
            help_text="the outline being corrected (the last answer, or a pre-label refined): the interactive "
            "model's previous mask; other engines ignore it",
        )

    @extend_schema(request=InputSerializer, responses=AssistOutput)
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        """Ask an engine for the defect under a box and/or clicks. Checked as drawing is (404 for an image you do
        not see, 403 for a role that does not label); 400 for a prompt outside the image, inverted, empty, with
        too many clicks, a box too large, or an unknown engine; 409 no_assist_engine when none can run."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        prompt = values["prompt"]
        answer = assist_run(
            user=request.user,
            image_id=image_id,
            prompt=_prompt(prompt),
            engine_name=values.get("engine"),
            replaces_suggestion_id=values.get("replaces_suggestion_id"),
            region=tuple(values["region"]) if values.get("region") is not None else None,
            previous_geometry_json=values.get("previous_geometry"),
        )
        box = answer.bbox
        body = {
            "suggestion_id": answer.suggestion.pk if answer.suggestion else None,
            "engine": answer.engine,
            "model_id": answer.model_id,
            "score": answer.score,
            "geometry": answer.geometry_json,
            "bbox": [box.x, box.y, box.width, box.height] if box else None,
            "vertex_count": answer.suggestion.vertex_count if answer.suggestion else 0,
            "ms": round(answer.ms, 1),
        }
        return Response(AssistOutput(body).data)


def _prompt(values: dict) -> AssistPrompt:
    return AssistPrompt(
        defect_class_id=values["defect_class_id"],
        box=tuple(values["box"]) if values["box"] is not None else None,
        positive_clicks=tuple(tuple(point) for point in values["positive_clicks"]),
        negative_clicks=tuple(tuple(point) for point in values["negative_clicks"]),
    )


class AssistRecordApi(APIView):
    class InputSerializer(serializers.Serializer):
        engine = serializers.CharField(max_length=100, help_text='the engine the browser ran: "sam"')
        prompt = PromptInput()
        score = serializers.FloatField(min_value=0.0, max_value=1.0)
        geometry = GeometryField(allow_null=True, help_text="the outline the browser traced, image px; null: none")
        replaces_suggestion_id = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=2**63 - 1, help_text="the answer this replaces"
        )

    class OutputSerializer(serializers.Serializer):
        suggestion_id = serializers.IntegerField(allow_null=True, help_text="null when nothing was found")
        vertex_count = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: AuthenticatedRequest, image_id: int) -> Response:
        """Record an answer the editor decoded itself (SAM's decoder in a Web Worker), so the assist statistics
        count it as they count the server's answers; its suggestion_id goes into the kept annotation's
        provenance. Null geometry: SAM found nothing (the answer it replaces ends, nothing is recorded). Checked
        as POST .../assist/ is; 400 for an engine the browser does not run or a geometry the annotation API would
        refuse."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        suggestion = assist_record(
            user=request.user,
            image_id=image_id,
            prompt=_prompt(values["prompt"]),
            engine_name=values["engine"],
            score=values["score"],
            geometry_json=values["geometry"],
            replaces_suggestion_id=values.get("replaces_suggestion_id"),
        )
        body = {
            "suggestion_id": suggestion.pk if suggestion else None,
            "vertex_count": suggestion.vertex_count if suggestion else 0,
        }
        return Response(self.OutputSerializer(body).data, status=201)


class EngineOutput(serializers.Serializer):
    name = serializers.CharField()
    can_prelabel = serializers.BooleanField(help_text="finds defects with no prompt (pre-label jobs)")
    is_preferred = serializers.BooleanField()


class UnavailableEngineOutput(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField(help_text="why it cannot run here, for the editor to show")


class EngineListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        engines = EngineOutput(many=True)
        unavailable = UnavailableEngineOutput(many=True, help_text="engines this server knows but cannot run yet")
        preferred = serializers.CharField(allow_null=True, help_text="what the editor's assist tools use; null: none")
        prelabel_engine = serializers.CharField(allow_null=True, help_text="what pre-labels use; null: refused")
        sam_model_id = serializers.CharField(
            allow_null=True,
            help_text="the installed SAM model: the editor decodes SAM's clicks itself with it (null: not installed)",
        )

    @extend_schema(responses=OutputSerializer)
    def get(self, request: AuthenticatedRequest, project_id: int) -> Response:
        """The engines this server runs, best first for this project (a trained model when it beats the others,
        then SAM, then the weight-free classical engine)."""
        project, _ = project_get_for_assist(user=request.user, project_id=project_id, action=AssistAction.VIEW_ENGINES)
        engines = engines_for_project(project=project)
        return Response(self.OutputSerializer(engines).data)
