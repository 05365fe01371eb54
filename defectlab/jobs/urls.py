from django.urls import path

from defectlab.jobs import api

urlpatterns = [
    path("jobs/<int:job_id>/", api.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/cancel/", api.JobCancelApi.as_view(), name="job-cancel"),
    path("projects/<int:project_id>/jobs/", api.ProjectJobListApi.as_view(), name="project-job-list"),
]
