"""My queue's next image: open work only, wrapping round, within the user's projects."""

import pytest

from annotation.models import Assignment, AssignmentStatus
from annotation.services.images import assignment_submit, assignments_create
from annotation.tests.editing import assign
from tests.factories import MembershipFactory, ProjectFactory, image_create


@pytest.fixture
def queue(team):
    """Four images assigned to the inspector in order; the second is already submitted."""
    images = [image_create(project=team.project, seed=seed, name=f"queued-{seed}.png") for seed in range(4)]
    assign(team, images)
    assignment_submit(image=images[1], annotator=team.inspector)
    return images


@pytest.mark.django_db
def test_next_skips_submitted_work_and_wraps_round_to_the_start(team, api, queue):
    # given
    client = api(team.inspector)

    def next_after(image) -> int | None:
        response = client.get(f"/api/v1/queue/next/?after={image.pk}")
        return response.json()["image"]["id"] if response.status_code == 200 else response.status_code

    # when
    answers = [next_after(image) for image in queue]
    # then
    assert answers == [queue[2].pk, queue[2].pk, queue[3].pk, queue[0].pk]


@pytest.mark.django_db
def test_next_returns_returned_work_with_the_reviewers_comment(team, api, queue):
    # given
    Assignment.objects.filter(image=queue[1]).update(status=AssignmentStatus.RETURNED, review_comment="Missed a pore.")
    # when
    response = api(team.inspector).get(f"/api/v1/queue/next/?after={queue[0].pk}")
    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["assignment_id"], body["status"], body["review_comment"], body["image"]["id"]) == (
        Assignment.objects.get(image=queue[1]).pk,
        "returned",
        "Missed a pore.",
        queue[1].pk,
    )
    listed = api(team.inspector).get("/api/v1/queue/").json()["results"]
    assert [item["review_comment"] for item in listed] == ["", "Missed a pore.", "", ""]


@pytest.mark.django_db
def test_next_without_after_is_the_first_open_image(team, api, queue):
    # when
    response = api(team.inspector).get("/api/v1/queue/next/")
    # then
    assert response.json()["image"]["id"] == queue[0].pk


@pytest.mark.django_db
def test_next_is_204_when_nothing_else_is_open(team, api, queue):
    # given
    for image in (queue[0], queue[2]):
        assignment_submit(image=image, annotator=team.inspector)
    # when
    response = api(team.inspector).get(f"/api/v1/queue/next/?after={queue[3].pk}")
    # then
    assert (response.status_code, response.content) == (204, b"")


@pytest.mark.django_db
def test_next_stays_in_a_project_when_asked(team, api, queue):
    # given: the inspector also works on another line, assigned later
    other = ProjectFactory.create(name="Other line")
    MembershipFactory.create(project=other, user=team.inspector, role="inspector")
    elsewhere = image_create(project=other, seed=9)
    assignments_create(project=other, image_ids=[elsewhere.pk], annotator=team.inspector, assigned_by=None)
    client = api(team.inspector)
    # when
    anywhere = client.get(f"/api/v1/queue/next/?after={queue[3].pk}").json()["image"]["id"]
    here = client.get(f"/api/v1/queue/next/?after={queue[3].pk}&project={team.project.pk}").json()["image"]["id"]
    # then
    assert (anywhere, here) == (elsewhere.pk, queue[0].pk)


@pytest.mark.django_db
def test_next_in_a_foreign_project_is_404(team, api, queue):
    # when
    response = api(team.outsider).get(f"/api/v1/queue/next/?project={team.project.pk}")
    # then
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# The defect-free judgement
