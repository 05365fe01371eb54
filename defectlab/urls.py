from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from defectlab.health import healthz

api_v1 = [
    path("", include("annotation.api.urls")),
    path("", include("datasets.api.urls")),
    path("", include("qa.api.urls")),
    path("", include("assist.api.urls")),  # the URL root includes assist; no app imports it
    path("", include("defectlab.jobs.urls")),
    path("auth/token/", include("defectlab.auth_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("", include("frontend.urls")),
]

# A database lost while middleware runs (a session saved on the way out) reaches only this handler: 503, not 500.
handler500 = "defectlab.database_unavailable.server_error"
