"""The label-next and label-error review pages: for seniors and admins, with the server's rankings in them."""

import pytest

from annotation.models import Image, ImageStatus
from assist.models import LabelErrorScore, LabelNextScore
from assist.tests.factories import spotted_image_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(team):
    """One row in each ranking, as the jobs would have written them: an image still to label, and a final one."""
    to_label = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="scored-part.png")
    LabelNextScore.objects.create(
        project=team.project,
        image=to_label,
        score=0.61,
        mean_entropy=0.07,
        defect_region_px=100,
        predicted_defect_px=90,
    )
    final = spotted_image_create(project=team.project, spots=[(20, 20, 10)], name="scored-part.png", seed=1)
    Image.objects.filter(pk=final.pk).update(status=ImageStatus.FINAL, is_defect_free=True)
    LabelErrorScore.objects.create(
        project=team.project,
        image=final,
        score=0.015,
        annotations=[],
        prediction=[],
        unlabelled_defect_px=100,
        disagreeing_px=100,
    )


@pytest.mark.parametrize("page", ["label-next", "label-errors"])
@pytest.mark.parametrize(
    ("role", "status"), [("senior", 200), ("admin", 200), ("inspector", 403), ("ml_engineer", 403), ("outsider", 404)]
)
def test_the_pages_are_for_seniors_and_admins(team, client, scored, page, role, status):
    client.force_login(team.member(role))
    response = client.get(f"/projects/{team.project.pk}/{page}/")
    assert response.status_code == status
    if status == 200:
        assert "scored-part.png" in response.content.decode()
    if status == 403:
        assert "may not review labels in this project" in response.content.decode()


def test_the_pages_need_a_login(team, client):
    response = client.get(f"/projects/{team.project.pk}/label-errors/")
    assert (response.status_code, response.headers["Location"]) == (
        302,
        f"/login/?next=/projects/{team.project.pk}/label-errors/",
    )


def test_the_label_error_page_lists_the_entry_with_its_scores(team, client, scored):
    client.force_login(team.senior)
    body = client.get(f"/projects/{team.project.pk}/label-errors/").content.decode()
    entry = LabelErrorScore.objects.get()
    assert f'<tr data-label-error="{entry.pk}"><td>1</td><td>scored-part.png</td>' in body
    assert "<td>0.015</td><td>— (defect-free)</td>" in body
    assert "<td>— (no annotator)</td>" in body
