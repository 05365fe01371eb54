""" "No defect" is an explicit, recorded judgement."""

import pytest

from annotation.models import Assignment, AuditEntry, Image
from annotation.tests.editing import assign, create_square
from tests.factories import image_create


@pytest.mark.django_db
def test_marking_an_image_defect_free_is_recorded_with_who_and_when(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    # when
    response = api(team.inspector).post(f"/api/v1/images/{image.pk}/defect-free/", {"is_defect_free": True})
    # then
    assert (response.status_code, response.json()) == (
        200,
        {"image_id": image.pk, "is_defect_free": True, "status": "in_progress"},
    )
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.before, entry.after) == (
        team.inspector.pk,
        "update",
        "image",
        image.pk,
        {"is_defect_free": False},
        {"is_defect_free": True},
    )
    assert entry.created_at is not None
    assert Assignment.objects.get(image=image).status == "in_progress"


@pytest.mark.django_db
def test_an_image_with_ones_own_annotations_cannot_be_marked_defect_free(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    own = create_square(team.inspector, image, team.defect_class)
    audit_count = AuditEntry.objects.count()
    # when
    response = api(team.inspector).post(f"/api/v1/images/{image.pk}/defect-free/", {"is_defect_free": True})
    # then
    assert (response.status_code, response.json()) == (
        409,
        {
            "code": "has_annotations",
            "message": "You have 1 annotation on this image; delete it before marking it defect-free.",
            "annotation_ids": [own.pk],
        },
    )
    assert Image.objects.get(pk=image.pk).is_defect_free is False
    assert AuditEntry.objects.count() == audit_count


@pytest.mark.django_db
def test_someone_elses_annotations_do_not_block_the_judgement_and_it_can_be_withdrawn(team, api):
    # given: the senior drew on the image (dual annotation)
    image = image_create(project=team.project, seed=1)
    assign(team, [image])
    assign(team, [image], annotator=team.senior)
    create_square(team.senior, image, team.defect_class)
    client = api(team.inspector)
    # when
    marked = client.post(f"/api/v1/images/{image.pk}/defect-free/", {"is_defect_free": True})
    withdrawn = client.post(f"/api/v1/images/{image.pk}/defect-free/", {"is_defect_free": False})
    # then
    assert (marked.json()["is_defect_free"], withdrawn.json()["is_defect_free"]) == (True, False)
    assert list(AuditEntry.objects.filter(object_type="image").order_by("id").values_list("before", "after")) == [
        ({"is_defect_free": False}, {"is_defect_free": True}),
        ({"is_defect_free": True}, {"is_defect_free": False}),
    ]


@pytest.mark.django_db
def test_a_defect_free_judgement_needs_a_value(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    # when
    response = api(team.senior).post(f"/api/v1/images/{image.pk}/defect-free/", {})
    # then
    assert (response.status_code, response.json()["message"]) == (400, "is_defect_free: This field is required.")
    assert AuditEntry.objects.count() == 0


# Conflicts: someone else saved or deleted the annotation
