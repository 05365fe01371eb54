"""SAM for the browser: an image's embedding (fp16 .npy) and the installed int8 decoder (ONNX), so the editor can
decode clicks itself; the assist endpoint stays the fallback."""

from django.http import FileResponse, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from annotation.api.serializers import ErrorOutput
from assist.services.sam import sam_decoder_int8_path, sam_embedding_for_user
from defectlab.authenticated import AuthenticatedRequest

IMMUTABLE = "private, max-age=31536000, immutable"


class ImageEmbeddingApi(APIView):
    class FilterSerializer(serializers.Serializer):
        region = serializers.RegexField(
            r"^\d{1,9},\d{1,9},\d{1,9},\d{1,9}$", required=False, help_text="x,y,width,height image px (a crop)"
        )
        model = serializers.CharField(required=False, max_length=64, help_text="the model id the editor expects")

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "application/octet-stream"): bytes, 404: ErrorOutput, 409: ErrorOutput},
    )
    def get(self, request: AuthenticatedRequest, image_id: int) -> HttpResponse:
        """SAM's embedding of the image (or of `region`) as a float16 (1, 256, 64, 64) .npy, computed now when the
        cache lacks it. With `model` equal to the installed model id the bytes never change: cached for good.
        404 for an image you do not see or another model; 409 sam_not_installed."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        region_text = filters.validated_data.get("region")
        region = tuple(int(value) for value in region_text.split(",")) if region_text else None
        embedding = sam_embedding_for_user(
            user=request.user, image_id=image_id, region=region, model_id=filters.validated_data.get("model")
        )
        response = HttpResponse(embedding.npy, content_type="application/octet-stream")
        response["ETag"] = f'"{embedding.model_id}-{embedding.image_sha256}-{region_text or "whole"}"'
        response["X-Sam-Model"] = embedding.model_id
        response["Cache-Control"] = IMMUTABLE if filters.validated_data.get("model") else "private, no-cache"
        return response


class SamDecoderApi(APIView):
    @extend_schema(
        operation_id="assist_sam_decoder_retrieve",
        parameters=[OpenApiParameter("model", str, required=False, description="the model id the editor expects")],
        responses={(200, "application/octet-stream"): bytes, 404: ErrorOutput, 409: ErrorOutput},
    )
    def get(self, request: AuthenticatedRequest) -> FileResponse:
        """The installed SAM's int8 decoder (ONNX) for the editor's Web Worker; any signed-in user. With `model`
        equal to the installed model id, cached for good; 404 for another model, 409 sam_not_installed."""
        model_id, path = sam_decoder_int8_path(model_id=request.query_params.get("model"))
        response = FileResponse(open(path, "rb"), content_type="application/octet-stream")  # noqa: SIM115
        response["ETag"] = f'"{model_id}-decoder-int8"'
        response["X-Sam-Model"] = model_id
        response["Cache-Control"] = IMMUTABLE if request.query_params.get("model") else "private, no-cache"
        return response
