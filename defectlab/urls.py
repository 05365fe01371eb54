from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from defectlab.health import healthz

api_v1 = [
    path("", include("annotation.api.urls")),
    path("", include("datasets.api.urls")),
    path("", include("qa.api.urls")),
    path("", include("assist.api.urls")),  # the URL root includes assist; no app imports it
    path("", include("defectlab.jobs.urls")),
    path("auth/", include("defectlab.accounts.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="frontend/swagger_ui.html"),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
    path("", include("assist.urls")),  # the label-next and label-error pages
    path("", include("frontend.urls")),
]

# A database lost while middleware runs (a session saved on the way out) reaches only this handler: 503, not 500.
handler500 = "defectlab.database_unavailable.server_error"
