"""An inspector's work is closed once they submitted the image: no create, save, delete or defect-free change
(409 already_submitted) until a reviewer returns it. Reviewers are not bound by it."""

import pytest

from annotation.errors import AlreadySubmitted
from annotation.models import Annotation, AssignmentStatus, AuditEntry
from annotation.services.annotations import (
    annotation_create,
    annotation_delete,
    annotation_save,
    image_defect_free_set,
)
from annotation.services.images import assignment_submit, assignments_create
from annotation.services.reviews import assignment_return
from tests.factories import image_create

pytestmark = pytest.mark.django_db

SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}
MOVED = {"polygons": [{"exterior": [[12, 12], [22, 12], [22, 22], [12, 22]]}]}
MESSAGE = (
    "You submitted this image, so your work on it can no longer change; a reviewer can return it to you for changes."
)


@pytest.fixture
def submitted(team):
    """An image assigned to the inspector and the senior; the inspector drew a square and submitted it."""
    image = image_create(project=team.project, seed=1)
    for annotator in (team.inspector, team.senior):
        assignments_create(project=team.project, image_ids=[image.pk], annotator=annotator, assigned_by=team.admin)
    annotation = annotation_create(
        user=team.inspector, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=SQUARE
    )
    assignment_submit(image=image, annotator=team.inspector)
    return image, annotation


def stored_state(image) -> tuple:
    return (
        list(Annotation.objects.filter(image=image).order_by("id").values_list("id", "revision", "geometry")),
        AuditEntry.objects.count(),
        image.__class__.objects.get(pk=image.pk).is_defect_free,
    )


def test_an_inspector_cannot_create_save_or_delete_after_submitting(team, submitted):
    # given
    image, annotation = submitted
    before = stored_state(image)
    # when
    refusals = []
    for attempt in (
        lambda: annotation_create(
            user=team.inspector, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=MOVED
        ),
        lambda: annotation_save(
            user=team.inspector, annotation_id=annotation.pk, expected_revision=1, geometry_data=MOVED
        ),
        lambda: annotation_delete(user=team.inspector, annotation_id=annotation.pk, expected_revision=1),
        lambda: image_defect_free_set(user=team.inspector, image_id=image.pk, is_defect_free=True),
    ):
        with pytest.raises(AlreadySubmitted) as error:
            attempt()
        refusals.append((error.value.code, error.value.status, error.value.message))
    # then
    assert refusals == [("already_submitted", 409, MESSAGE)] * 4
    assert stored_state(image) == before


def test_a_refused_save_costs_no_more_queries_than_a_save(team, submitted, django_assert_max_num_queries):
    # given
    _, annotation = submitted
    # when: savepoint, the locked annotation with the user's role and assignment status, rollback
    with pytest.raises(AlreadySubmitted), django_assert_max_num_queries(3):
        annotation_save(user=team.inspector, annotation_id=annotation.pk, expected_revision=1, geometry_data=MOVED)


def test_a_returned_image_can_be_changed_again(team, submitted):
    # given
    image, annotation = submitted
    assignment_return(image=image, annotator=team.inspector, comment="Outline the whole crack", actor=team.senior)
    # when
    saved = annotation_save(user=team.inspector, annotation_id=annotation.pk, expected_revision=1, geometry_data=MOVED)
    created = annotation_create(
        user=team.inspector, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=SQUARE
    )
    annotation_delete(user=team.inspector, annotation_id=created.pk, expected_revision=1)
    # then
    assert saved.revision == 2
    assert not Annotation.objects.filter(pk=created.pk).exists()
    assert image.assignments.get(annotator=team.inspector).status == AssignmentStatus.RETURNED


def test_reviewers_change_submitted_work_their_own_included(team, submitted):
    # given: the senior submitted their own assignment too
    image, annotation = submitted
    assignment_submit(image=image, annotator=team.senior)
    # when
    saved = annotation_save(user=team.senior, annotation_id=annotation.pk, expected_revision=1, geometry_data=MOVED)
    own = annotation_create(
        user=team.senior, image_id=image.pk, defect_class_id=team.defect_class.pk, geometry_data=SQUARE
    )
    by_admin = annotation_save(user=team.admin, annotation_id=own.pk, expected_revision=1, geometry_data=MOVED)
    # then
    assert (saved.revision, own.author_id, by_admin.revision) == (2, team.senior.pk, 2)


def test_the_api_answers_409_already_submitted_and_the_editor_is_read_only(team, api, submitted):
    # given
    image, annotation = submitted
    client = api(team.inspector)
    # when
    saved = client.put(f"/api/v1/annotations/{annotation.pk}/", {"expected_revision": 1, "geometry": MOVED})
    created = client.post(
        f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": team.defect_class.pk, "geometry": SQUARE}
    )
    editor = client.get(f"/api/v1/images/{image.pk}/editor/").json()
    # then
    assert (saved.status_code, saved.json()) == (409, {"code": "already_submitted", "message": MESSAGE})
    assert (created.status_code, created.json()["code"]) == (409, "already_submitted")
    assert (editor["capabilities"], editor["assignment"]["status"]) == (
        {"can_label": False, "can_review": False},
        "submitted",
    )
