from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.project_list, name="projects-page"),
    path("projects/<int:project_id>/", views.project_detail, name="project-page"),
    path("projects/<int:project_id>/upload/", views.upload, name="project-upload-page"),
    path("account/tokens/<int:token_id>/revoke/", views.api_token_revoke_page, name="api-token-revoke-page"),
]

# QA pages (frontend/qa_views.py)
from frontend import qa_views  # noqa: E402 - appended with the QA app

urlpatterns += [
    path("projects/<int:project_id>/qa/", qa_views.qa_project, name="qa-project-page"),
    path(
        "projects/<int:project_id>/qa/adjudications/",
        qa_views.qa_adjudication_queue,
        name="qa-adjudication-queue-page",
    ),
    path("qa/adjudications/<int:adjudication_id>/", qa_views.qa_adjudication, name="qa-adjudication-page"),
    path("projects/<int:project_id>/qa/spot-checks/", qa_views.qa_spot_check_queue, name="qa-spot-check-page"),
]

from frontend import editor_views  # noqa: E402 - appended: the editor and queue pages

urlpatterns += [
    path("images/<int:image_id>/edit/", editor_views.image_edit, name="image-edit-page"),
    path("queue/", editor_views.my_queue, name="queue-page"),
    path("editor/sam/<str:name>", editor_views.sam_worker_file, name="sam-worker-file"),
]

from frontend import version_views  # noqa: E402 - appended: dataset version pages

urlpatterns += [
    path("projects/<int:project_id>/versions/", version_views.version_list, name="version-list-page"),
    path("versions/<int:version_id>/", version_views.version_detail, name="version-page"),
]
