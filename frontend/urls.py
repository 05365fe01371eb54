from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.project_list, name="projects-page"),
    path("projects/<int:project_id>/", views.project_detail, name="project-page"),
    path("projects/<int:project_id>/upload/", views.upload, name="project-upload-page"),
]
