"""Role walls: inspectors cannot open the adjudication or spot-check queues (API or pages), nor see the other
annotator's work on a calibration image before both submitted."""

import pytest

from annotation.services.images import assignment_submit
from qa.models import Adjudication
from qa.tasks import image_submitted_task
from qa.tests.factories import annotate, assigned_image, square, submit_all

pytestmark = pytest.mark.django_db


def test_the_other_annotators_work_stays_hidden_until_both_submitted(team, api, inspector2):
    # given: A drew and submitted; B has not submitted yet
    image = assigned_image(team, team.inspector, inspector2)
    mine = annotate(team.inspector, image, square(x=10))
    assignment_submit(image=image, annotator=team.inspector)
    theirs = annotate(inspector2, image, square(x=11))
    # when
    seen_by_b = api(inspector2).get(f"/api/v1/images/{image.pk}/annotations/").json()
    filtered_by_b = (
        api(inspector2)
        .get(f"/api/v1/projects/{team.project.pk}/images/", {"defect_class": team.defect_class.pk})
        .json()["results"]
    )
    seen_by_senior = api(team.senior).get(f"/api/v1/images/{image.pk}/annotations/").json()
    # then
    assert [annotation["id"] for annotation in seen_by_b] == [theirs.pk]
    assert [item["id"] for item in filtered_by_b] == [image.pk]  # their own crack, not a hint about A's
    assert [annotation["id"] for annotation in seen_by_senior] == [mine.pk, theirs.pk]


def test_after_adjudication_both_see_the_final_answer_but_not_each_others_work(team, api, inspector2):
    # given
    image = assigned_image(team, team.inspector, inspector2)
    mine = annotate(team.inspector, image, square(x=10))
    annotate(inspector2, image, square(x=30))
    submit_all(image, team.inspector, inspector2)
    adjudication = Adjudication.objects.get()
    api(team.senior).post(
        f"/api/v1/qa/adjudications/{adjudication.pk}/decide/", {"decision": "first", "reason": "A is right"}
    )
    # when
    seen_by_b = api(inspector2).get(f"/api/v1/images/{image.pk}/annotations/").json()
    # then
    assert [(item["is_final"], item["geometry"]) for item in seen_by_b if item["author_id"] != inspector2.pk] == [
        (True, mine.geometry)
    ]


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/projects/{project}/qa/adjudications/", "inspector", 403),
        ("/projects/{project}/qa/adjudications/", "ml_engineer", 403),
        ("/projects/{project}/qa/adjudications/", "senior", 200),
        ("/qa/adjudications/{adjudication}/", "inspector", 403),
        ("/qa/adjudications/{adjudication}/", "senior", 200),
        ("/qa/adjudications/{adjudication}/", "outsider", 404),
        ("/projects/{project}/qa/spot-checks/", "inspector", 403),
        ("/projects/{project}/qa/spot-checks/", "senior", 200),
        ("/projects/{project}/qa/", "inspector", 403),
        ("/projects/{project}/qa/", "ml_engineer", 200),
        ("/projects/{project}/qa/", "admin", 200),
        ("/projects/{project}/qa/", "outsider", 404),
    ],
)
def test_qa_pages_by_role(team, client, inspector2, path, role, status):
    # given: one disagreement waiting
    image = assigned_image(team, team.inspector, inspector2)
    annotate(team.inspector, image, square(x=10))
    submit_all(image, team.inspector, inspector2)
    client.force_login(team.member(role))
    # when
    response = client.get(path.format(project=team.project.pk, adjudication=Adjudication.objects.get().pk))
    # then
    assert response.status_code == status
    if status == 403:
        assert b"Not allowed" in response.content


def test_submitting_the_last_assignment_sends_image_submitted_to_qa(
    team, inspector2, sent_events, django_capture_on_commit_callbacks
):
    # given
    image = assigned_image(team, team.inspector, inspector2)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_submit(image=image, annotator=team.inspector)
    after_first = list(sent_events)
    with django_capture_on_commit_callbacks(execute=True):
        assignment_submit(image=image, annotator=inspector2)
    # then
    assert after_first == []
    assert sent_events == [(image_submitted_task.name, {"image_id": image.pk})]
