"""The per-image comment thread: who reads and posts, comments about one annotation, and what stays hidden."""

import pytest

from annotation.models import ImageComment
from annotation.services.annotations import annotation_create, annotation_delete
from annotation.services.comments import image_comment_create
from annotation.services.images import assignments_create
from annotation.tests.test_api_contract import TIMESTAMP, blank_timestamps
from defectlab.errors import ValidationFailed
from tests.factories import image_create

SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}


@pytest.fixture
def image(team):
    """A 64 x 48 image that the inspector and the senior both label (dual annotation)."""
    image = image_create(project=team.project, seed=1)
    for annotator in (team.inspector, team.senior):
        assignments_create(project=team.project, image_ids=[image.pk], annotator=annotator, assigned_by=team.admin)
    return image


def square_by(user, image, team):
    return annotation_create(user=user, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=SQUARE)


@pytest.mark.django_db
def test_comment_create_contract(team, api, image):
    # given
    annotation = square_by(team.inspector, image, team)
    # when
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/comments/",
        {"text": "  Is this a crack or a scratch?  ", "annotation_id": annotation.pk},
    )
    # then
    comment = ImageComment.objects.get()
    assert response.status_code == 201
    assert blank_timestamps(response.json()) == {
        "id": comment.pk,
        "image_id": image.pk,
        "annotation_id": annotation.pk,
        "author_id": team.inspector.pk,
        "author": "inspector",
        "text": "Is this a crack or a scratch?",
        "created_at": TIMESTAMP,
    }


@pytest.mark.django_db
def test_anyone_who_sees_the_image_reads_the_thread_oldest_first(team, api, image):
    # given
    image_comment_create(user=team.inspector, image_id=image.pk, text="Is this a crack?")
    image_comment_create(user=team.ml_engineer, image_id=image.pk, text="The model calls it a scratch.")
    image_comment_create(user=team.senior, image_id=image.pk, text="A crack.")
    # when
    threads = {
        role: [comment["text"] for comment in api(team.member(role)).get(f"/api/v1/images/{image.pk}/comments/").json()]
        for role in ("inspector", "senior", "ml_engineer", "admin")
    }
    # then
    expected = ["Is this a crack?", "The model calls it a scratch.", "A crack."]
    assert threads == {"inspector": expected, "senior": expected, "ml_engineer": expected, "admin": expected}


@pytest.mark.django_db
def test_an_inspector_does_not_see_comments_about_the_other_annotators_work(team, api, image):
    # given
    seniors = square_by(team.senior, image, team)
    image_comment_create(user=team.senior, image_id=image.pk, text="Mine reaches the edge.", annotation_id=seniors.pk)
    image_comment_create(user=team.senior, image_id=image.pk, text="Check the left side.")
    # when
    inspector_sees = api(team.inspector).get(f"/api/v1/images/{image.pk}/comments/").json()
    senior_sees = api(team.senior).get(f"/api/v1/images/{image.pk}/comments/").json()
    # then
    assert [comment["text"] for comment in inspector_sees] == ["Check the left side."]
    assert [comment["text"] for comment in senior_sees] == ["Mine reaches the edge.", "Check the left side."]


@pytest.mark.django_db
def test_a_comment_about_an_annotation_one_cannot_see_is_refused(team, image):
    # given
    seniors = square_by(team.senior, image, team)
    # when
    with pytest.raises(ValidationFailed, match="No such annotation on this image."):
        image_comment_create(user=team.inspector, image_id=image.pk, text="Too big?", annotation_id=seniors.pk)
    # then
    assert ImageComment.objects.count() == 0


@pytest.mark.django_db
def test_a_comment_outlives_the_annotation_it_was_about(team, image):
    # given
    annotation = square_by(team.inspector, image, team)
    comment = image_comment_create(user=team.inspector, image_id=image.pk, text="Unsure.", annotation_id=annotation.pk)
    # when
    annotation_delete(user=team.inspector, annotation_id=annotation.pk, expected_revision=1)
    # then
    comment.refresh_from_db()
    assert (comment.text, comment.annotation_id) == ("Unsure.", None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": "   "}, "text: This field may not be blank."),
        ({}, "text: This field is required."),
        ({"text": "x" * 5001}, "text: Ensure this field has no more than 5000 characters."),
        ({"text": "a\x00b"}, "text: Null characters are not allowed."),
        ({"text": "Here", "annotation_id": 999_999}, "No such annotation on this image."),
    ],
)
def test_malformed_comments_are_refused(team, api, image, body, message):
    # when
    response = api(team.inspector).post(f"/api/v1/images/{image.pk}/comments/", body)
    # then
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert ImageComment.objects.count() == 0


@pytest.mark.django_db
def test_the_thread_of_an_image_outside_the_inspectors_queue_is_hidden(team, api):
    # given
    unassigned = image_create(project=team.project, seed=2)
    # when
    response = api(team.inspector).post(f"/api/v1/images/{unassigned.pk}/comments/", {"text": "Hello"})
    # then
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "message": "No such image."})
    assert ImageComment.objects.count() == 0
