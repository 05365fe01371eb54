from django.urls import path

from datasets.api import views

urlpatterns = [
    path("projects/<int:project_id>/uploads/", views.UploadCreateApi.as_view(), name="upload-create"),
    path("uploads/<int:job_id>/", views.UploadDetailApi.as_view(), name="upload-detail"),
]
