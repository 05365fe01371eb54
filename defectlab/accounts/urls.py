from django.urls import path

from defectlab.accounts import api

urlpatterns = [
    path("token/", api.ApiTokenObtainApi.as_view(), name="auth-token"),
    path("tokens/", api.ApiTokenListApi.as_view(), name="auth-token-list"),
    path("tokens/<int:token_id>/", api.ApiTokenRevokeApi.as_view(), name="auth-token-revoke"),
]
