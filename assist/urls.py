"""The assist's pages (assist/pages.py); its API is assist/api/urls.py."""

from django.urls import path

from assist import pages

urlpatterns = [
    path("projects/<int:project_id>/label-next/", pages.label_next_page, name="label-next-page"),
    path("projects/<int:project_id>/label-errors/", pages.label_errors_page, name="label-errors-page"),
    path("projects/<int:project_id>/training-runs/<int:run_id>/", pages.training_run_page, name="training-run-page"),
    path("projects/<int:project_id>/models/<int:model_id>/", pages.trained_model_page, name="trained-model-page"),
]
