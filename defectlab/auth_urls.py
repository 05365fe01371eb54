from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser

from defectlab.api.parsers import JSONParser

# DRF's view names its own parsers; the API's JSON parser bounds nesting (a deep body is a 400, not a 500).
urlpatterns = [
    path("", ObtainAuthToken.as_view(parser_classes=[FormParser, MultiPartParser, JSONParser]), name="auth-token")
]
