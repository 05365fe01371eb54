"""The assist's pages (assist/pages.py); its API is assist/api/urls.py."""

from django.urls import path

from assist import pages

urlpatterns = [
    path("projects/<int:project_id>/label-next/", pages.label_next_page, name="label-next-page"),
    path("projects/<int:project_id>/label-errors/", pages.label_errors_page, name="label-errors-page"),
]
