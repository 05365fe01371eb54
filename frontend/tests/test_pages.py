"""Server-rendered pages: each role sees what it may, nobody sees another project."""

import pytest
from django.urls import reverse

from annotation.models import Assignment
from tests.factories import image_create

pytestmark = pytest.mark.django_db


def test_login_page_and_redirect_for_anonymous(client):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("projects-page"))
    assert (response.status_code, response.url) == (302, "/login/?next=/")


def test_login_with_password_lands_on_the_project_list(client, team):
    response = client.post(reverse("login"), {"username": "inspector", "password": "pass"}, follow=True)
    assert response.redirect_chain[-1] == ("/", 302)
    assert "Tile line" in response.content.decode()
    assert "Other line" not in response.content.decode()


def test_project_page_shows_taxonomy_counts_and_thumbnails(client, team):
    image = image_create(project=team.project, seed=1, name="tile-0001.png")
    client.force_login(team.senior)
    page = client.get(reverse("project-page", args=[team.project.pk])).content.decode()
    assert "crack" in page
    assert "1. minor" in page
    assert f"/api/v1/images/{image.pk}/file/thumbnail" in page
    assert "Upload images" not in page  # seniors do not upload


def test_project_page_filters_by_status(client, team):
    image_create(project=team.project, seed=1)
    client.force_login(team.admin)
    page = client.get(reverse("project-page", args=[team.project.pk]), {"status": "final"}).content.decode()
    assert "No images match." in page


def test_inspector_sees_only_assigned_images(client, team):
    assigned = image_create(project=team.project, seed=1, name="mine.png")
    image_create(project=team.project, seed=2, name="not-mine.png")
    Assignment.objects.create(image=assigned, annotator=team.inspector)
    client.force_login(team.inspector)
    page = client.get(reverse("project-page", args=[team.project.pk])).content.decode()
    assert "mine.png" in page
    assert "not-mine.png" not in page


def test_other_projects_page_is_not_found(client, team):
    client.force_login(team.outsider)
    assert client.get(reverse("project-page", args=[team.project.pk])).status_code == 404


def test_upload_page_for_admins_only(client, team):
    client.force_login(team.admin)
    page = client.get(reverse("project-upload-page", args=[team.project.pk]))
    assert page.status_code == 200
    assert b'<progress id="upload-progress"' in page.content
    client.force_login(team.inspector)
    assert client.get(reverse("project-upload-page", args=[team.project.pk])).status_code == 403
