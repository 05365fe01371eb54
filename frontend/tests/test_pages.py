"""Server-rendered pages: each role sees what it may, nobody sees another project."""

import pytest
from django.urls import reverse

from annotation.models import Assignment
from qa.models import Adjudication
from qa.tests.factories import annotate, assigned_image, second_inspector, square, submit_all
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


def test_project_page_states_every_minimum_size_with_its_unit(client, team):
    # given
    team.defect_class.min_length_px, team.defect_class.min_width_mm, team.defect_class.min_area_mm2 = 8, 0.25, 1.5
    team.defect_class.save()
    client.force_login(team.senior)
    # when
    page = client.get(reverse("project-page", args=[team.project.pk])).content.decode()
    # then
    assert '<td class="small">length ≥ 8 px<br>width ≥ 0.25 mm<br>area ≥ 1.5 mm²<br></td>' in page


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


@pytest.mark.parametrize(
    ("role", "has_link"), [("inspector", False), ("senior", True), ("ml_engineer", True), ("admin", True)]
)
def test_project_page_links_to_the_qa_page_for_the_roles_that_may_see_it(client, team, role, has_link):
    # given
    client.force_login(team.member(role))
    quality = f'<a class="button secondary" href="/projects/{team.project.pk}/qa/">Quality</a>'
    # when
    page = client.get(reverse("project-page", args=[team.project.pk])).content.decode()
    qa_page = client.get(reverse("qa-project-page", args=[team.project.pk]))
    # then: the link is there exactly when the QA page opens
    assert (quality in page, qa_page.status_code) == (has_link, 200 if has_link else 403)


def test_the_editor_opens_on_the_final_annotations_for_reviewers_only(client, team):
    # given
    image = image_create(project=team.project, seed=1)
    Assignment.objects.create(image=image, annotator=team.inspector)
    path = reverse("image-edit-page", args=[image.pk]) + "?final=1"
    # when
    client.force_login(team.senior)
    senior = client.get(path)
    client.force_login(team.inspector)
    inspector = client.get(path)
    # then
    assert (senior.status_code, 'data-mode="final"' in senior.content.decode()) == (200, True)
    assert inspector.status_code == 403
    assert "only reviewers may" in inspector.content.decode()
    assert 'data-mode="final"' not in client.get(reverse("image-edit-page", args=[image.pk])).content.decode()


def test_the_adjudication_page_links_to_the_editor_on_the_final_annotations(client, team):
    # given
    inspector2 = second_inspector(team)
    image = assigned_image(team, team.inspector, inspector2)
    annotate(team.inspector, image, square(x=10))
    submit_all(image, team.inspector, inspector2)
    adjudication = Adjudication.objects.get(agreement__image=image)
    client.force_login(team.senior)
    # when
    page = client.get(reverse("qa-adjudication-page", args=[adjudication.pk])).content.decode()
    # then
    assert f'href="/images/{image.pk}/edit/?final=1"' in page
    assert 'id="decide-and-edit"' in page
