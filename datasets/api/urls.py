from django.urls import path

from datasets.api import coco_imports, versions, views

urlpatterns = [
    path("projects/<int:project_id>/uploads/", views.UploadCreateApi.as_view(), name="upload-create"),
    path("uploads/<int:job_id>/", views.UploadDetailApi.as_view(), name="upload-detail"),
    path("projects/<int:project_id>/versions/", versions.DatasetVersionListApi.as_view(), name="dataset-version-list"),
    path("versions/<int:version_id>/", versions.DatasetVersionDetailApi.as_view(), name="dataset-version-detail"),
    path("versions/<int:version_id>/exports/", versions.DatasetExportListApi.as_view(), name="dataset-export-list"),
    path("exports/<int:export_id>/", versions.DatasetExportDetailApi.as_view(), name="dataset-export-detail"),
    path("exports/<int:export_id>/file", versions.DatasetExportFileApi.as_view(), name="dataset-export-file"),
    path("projects/<int:project_id>/coco-imports/", coco_imports.CocoImportApi.as_view(), name="coco-import"),
]
