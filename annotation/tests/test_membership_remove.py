"""Removing a member ends their access to the project's work at once, everywhere: the queue, the next image, the
editor, saves replayed from a local draft, comments, QA flags. Their open work goes back to the pool, audited.

As the probe found it: an admin removed an inspector, and the inspector's /api/v1/queue/ still listed the
project's images and /api/v1/queue/next/ still answered. The tests act as that inspector afterwards.
(API tokens belong to a user, not to a project: every request with one goes through the same membership checks,
so there is no token to revoke here.)"""

import pytest

from annotation.models import Assignment, AssignmentStatus, AuditAction, AuditEntry, ImageStatus, Role
from annotation.services.annotations import annotation_create
from annotation.services.images import assignment_submit, assignments_create
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, image_create

SQUARE = {"polygons": [{"exterior": [[10, 10], [20, 10], [20, 20], [10, 20]]}]}


@pytest.fixture
def work(team):
    """The inspector's work: an image assigned, one in progress (a defect drawn), one submitted, one returned, and
    one assigned to both the inspector and the senior (dual annotation)."""
    images = {
        name: image_create(project=team.project, seed=seed, name=f"{name}.png")
        for seed, name in enumerate(["assigned", "in_progress", "submitted", "returned", "dual"])
    }
    assignments_create(
        project=team.project,
        image_ids=[image.pk for image in images.values()],
        annotator=team.inspector,
        assigned_by=team.senior,
    )
    assignments_create(
        project=team.project, image_ids=[images["dual"].pk], annotator=team.senior, assigned_by=team.senior
    )
    drawn = annotation_create(
        user=team.inspector,
        image_id=images["in_progress"].pk,
        defect_class_id=team.defect_class.pk,
        geometry_data=SQUARE,
    )
    assignment_submit(image=images["submitted"], annotator=team.inspector)
    Assignment.objects.filter(image=images["returned"]).update(status=AssignmentStatus.RETURNED, review_comment="Redo")
    return images, drawn


def remove(api, team, user):
    response = api(team.admin).delete(f"/api/v1/projects/{team.project.pk}/members/{user.pk}/")
    assert response.status_code == 204, response.content


@pytest.mark.django_db
def test_removed_inspector_has_an_empty_queue_and_no_next_image(team, api, work):
    # given
    client = api(team.inspector)
    assert len(client.get("/api/v1/queue/").json()["results"]) == 5
    # when
    remove(api, team, team.inspector)
    # then
    assert client.get("/api/v1/queue/").json()["results"] == []
    assert client.get(f"/api/v1/queue/?project={team.project.pk}").status_code == 404
    assert client.get("/api/v1/queue/next/").status_code == 204
    assert client.get(f"/api/v1/queue/next/?project={team.project.pk}").status_code == 404


@pytest.mark.django_db
def test_removed_inspector_keeps_the_queue_of_the_projects_they_still_belong_to(team, api, work):
    # given: the inspector also works on another line
    other = ProjectFactory.create(name="Glaze line", slug="glaze-line")
    MembershipFactory.create(project=other, user=team.inspector, role=Role.INSPECTOR)
    MembershipFactory.create(project=other, user=team.admin, role=Role.ADMIN)
    elsewhere = image_create(project=other, seed=50, name="elsewhere.png")
    assignments_create(project=other, image_ids=[elsewhere.pk], annotator=team.inspector, assigned_by=team.admin)
    # when
    remove(api, team, team.inspector)
    # then
    client = api(team.inspector)
    assert [item["image"]["id"] for item in client.get("/api/v1/queue/").json()["results"]] == [elsewhere.pk]
    assert client.get("/api/v1/queue/next/").json()["image"]["id"] == elsewhere.pk


@pytest.mark.django_db
def test_removed_inspector_cannot_open_save_comment_or_flag(team, api, work):
    # given
    images, drawn = work
    client = api(team.inspector)
    # when
    remove(api, team, team.inspector)
    # then: a draft replayed from the browser, a comment, a flag, a submit: all as if the image did not exist
    image = images["in_progress"]
    statuses = {
        "editor": client.get(f"/api/v1/images/{image.pk}/editor/").status_code,
        "save": client.put(
            f"/api/v1/annotations/{drawn.pk}/", {"expected_revision": 1, "geometry": SQUARE}
        ).status_code,
        "create": client.post(
            f"/api/v1/images/{image.pk}/annotations/", {"defect_class_id": team.defect_class.pk, "geometry": SQUARE}
        ).status_code,
        "delete": client.delete(f"/api/v1/annotations/{drawn.pk}/?expected_revision=1").status_code,
        "comment": client.post(f"/api/v1/images/{image.pk}/comments/", {"text": "still here?"}).status_code,
        "flag": client.post(f"/api/v1/images/{image.pk}/edge-cases/", {"note": "?"}).status_code,
        "submit": client.post(f"/api/v1/images/{image.pk}/submit/").status_code,
        "file": client.get(f"/api/v1/images/{image.pk}/file/display").status_code,
    }
    assert statuses == dict.fromkeys(statuses, 404)


@pytest.mark.django_db
def test_open_work_goes_back_to_the_pool_and_is_audited(team, api, work):
    # given
    images, _ = work
    open_assignments = {
        assignment.pk: assignment.status
        for assignment in Assignment.objects.filter(annotator=team.inspector).exclude(status=AssignmentStatus.SUBMITTED)
    }
    # when
    remove(api, team, team.inspector)
    # then: open assignments are gone, submitted work stays with QA
    left = Assignment.objects.filter(annotator=team.inspector)
    assert [(assignment.image_id, assignment.status) for assignment in left] == [
        (images["submitted"].pk, AssignmentStatus.SUBMITTED)
    ]
    statuses = {name: image.__class__.objects.get(pk=image.pk).status for name, image in images.items()}
    assert statuses == {
        "assigned": ImageStatus.NEW,
        "in_progress": ImageStatus.NEW,
        "submitted": ImageStatus.SUBMITTED,
        "returned": ImageStatus.NEW,
        "dual": ImageStatus.ASSIGNED,  # still the senior's
    }
    released = AuditEntry.objects.filter(object_type="assignment", action=AuditAction.DELETE)
    assert {entry.object_id: entry.before["status"] for entry in released} == open_assignments
    assert {(entry.actor_id, entry.after) for entry in released} == {(team.admin.pk, None)}
    assert {entry.before["reason"] for entry in released} == {"member_removed"}
    membership_entry = AuditEntry.objects.get(object_type="membership", action=AuditAction.DELETE)
    assert (membership_entry.actor_id, membership_entry.before) == (
        team.admin.pk,
        {"user_id": team.inspector.pk, "username": "inspector", "role": Role.INSPECTOR},
    )


@pytest.mark.django_db
def test_released_images_can_be_assigned_to_someone_else(team, api, work):
    # given
    images, _ = work
    newcomer = UserFactory.create(username="newcomer")
    MembershipFactory.create(project=team.project, user=newcomer, role=Role.INSPECTOR)
    remove(api, team, team.inspector)
    # when
    response = api(team.senior).post(
        f"/api/v1/projects/{team.project.pk}/assignments/",
        {"annotator": "newcomer", "image_ids": [images["assigned"].pk, images["in_progress"].pk]},
    )
    # then
    assert response.json() == {"assigned": 2}
    queued = [item["image"]["id"] for item in api(newcomer).get("/api/v1/queue/").json()["results"]]
    assert queued == [images["assigned"].pk, images["in_progress"].pk]


@pytest.mark.django_db
def test_a_member_made_ml_engineer_gives_their_open_work_back_too(team, api, work):
    # when: the inspector becomes an ML engineer (who does not label)
    response = api(team.admin).post(
        f"/api/v1/projects/{team.project.pk}/members/", {"username": "inspector", "role": Role.ML_ENGINEER}
    )
    # then
    assert response.status_code == 201
    assert list(Assignment.objects.filter(annotator=team.inspector).values_list("status", flat=True)) == [
        AssignmentStatus.SUBMITTED
    ]
    assert api(team.inspector).get("/api/v1/queue/next/").status_code == 204
