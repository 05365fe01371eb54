"""API tokens: get one with a username and password (scripts), list your own, revoke one of yours."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from defectlab.accounts.selectors import api_token_list_for_user
from defectlab.accounts.services import api_token_obtain, api_token_revoke
from defectlab.authenticated import AuthenticatedRequest


class ApiTokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    prefix = serializers.CharField(help_text="the key's first characters")
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    created_from = serializers.IPAddressField(allow_null=True, help_text="client address that asked for it")
    expires_at = serializers.DateTimeField()


class ApiTokenObtainApi(APIView):
    """A new token for a username and password; send it as `Authorization: Token <token>`. Each call makes a new
    token (the oldest go past DEFECTLAB_API_TOKENS_PER_USER). Failed tries count towards the login lock-out:
    429 `login_locked_out` then, even with the right password."""

    authentication_classes: list = []  # credentials are in the body; a browser session here means nothing
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    class OutputSerializer(ApiTokenOutput):
        token = serializers.CharField(help_text="the key: shown this once, only its digest is stored")

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = api_token_obtain(request=request, **data.validated_data)
        return Response({**ApiTokenOutput(token).data, "token": key})


class ApiTokenListApi(APIView):
    """Your tokens that still work, newest first (never their keys)."""

    @extend_schema(responses=ApiTokenOutput(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(ApiTokenOutput(api_token_list_for_user(user=request.user), many=True).data)


class ApiTokenRevokeApi(APIView):
    """Revoke one of your tokens at once; another user's token answers 404, like a missing one."""

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, token_id: int) -> Response:
        api_token_revoke(user=request.user, token_id=token_id)
        return Response(status=204)
