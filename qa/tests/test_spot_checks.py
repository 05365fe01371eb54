"""Spot checks after calibration: a recorded, repeatable draw; accept (with reviewer edits kept apart) or return."""

import pytest

from annotation.models import Annotation, Assignment, AssignmentStatus, Image, ImageStatus
from qa.errors import AlreadyDecided, CalibrationIncomplete
from qa.models import SpotCheck, SpotCheckStatus
from qa.selectors import spot_check_sample_is_reproducible
from qa.services.choices import DefectChoice
from qa.services.policies import qa_policy_update
from qa.services.spot_checks import (
    spot_check_accept,
    spot_check_reject,
    spot_check_sample_draw,
    spot_check_sample_release,
)
from qa.tests.factories import annotate, assigned_image, square, submit_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted_work(team):
    """No calibration; ten images each annotated and submitted by the inspector."""
    qa_policy_update(project=team.project, actor=team.admin, calibration_image_count=0, spot_check_rate=0.10)
    images = []
    for seed in range(1, 11):
        image = assigned_image(team, team.inspector, seed=seed)
        annotate(team.inspector, image, square(x=10))
        submit_all(image, team.inspector)
        images.append(image)
    return images


def statuses(images) -> list[str]:
    return list(Image.objects.filter(pk__in=[i.pk for i in images]).order_by("id").values_list("status", flat=True))


def test_spot_checks_wait_for_calibration(team):
    with pytest.raises(CalibrationIncomplete) as error:
        spot_check_sample_draw(user=team.senior, project=team.project)
    assert error.value.details == {"compared_images": 0, "target_images": 200}


def test_a_draw_takes_ten_percent_records_its_seed_and_releases_the_rest(team, submitted_work):
    # when
    sample = spot_check_sample_draw(user=team.senior, project=team.project, seed=1234)
    released = spot_check_sample_release(sample_id=sample.pk)  # what the task does after commit
    # then
    assert (sample.seed, sample.rate, sample.population_image_ids) == (1234, 0.1, [i.pk for i in submitted_work])
    assert (len(sample.drawn_image_ids), released) == (1, 9)
    assert spot_check_sample_is_reproducible(sample)
    check = SpotCheck.objects.get()
    assert (check.image_id, check.annotator, check.status) == (sample.drawn_image_ids[0], team.inspector, "pending")
    assert sorted(statuses(submitted_work)) == [ImageStatus.FINAL] * 9 + [ImageStatus.IN_REVIEW]
    assert Annotation.objects.filter(is_final=True).count() == 9


def test_images_in_an_earlier_draw_are_not_drawn_again(team, submitted_work):
    # given
    spot_check_sample_draw(user=team.senior, project=team.project, seed=1)
    # when / then
    with pytest.raises(Exception, match="No submitted single-annotated images"):
        spot_check_sample_draw(user=team.senior, project=team.project, seed=1)


def test_accepting_with_edits_records_them_apart_from_the_annotators_work(team, submitted_work):
    # given
    sample = spot_check_sample_draw(user=team.senior, project=team.project, seed=1234)
    check = SpotCheck.objects.get(sample=sample)
    original = Annotation.objects.get(image=check.image, is_final=False)
    # when
    spot_check_accept(
        user=team.senior,
        spot_check_id=check.pk,
        defects=[DefectChoice(annotation_id=original.pk, geometry=square(x=10, side=11))],
    )
    # then
    check.refresh_from_db()
    final = Annotation.objects.get(image=check.image, is_final=True)
    assert check.status == SpotCheckStatus.ACCEPTED
    assert check.reviewer_edits == [
        {"source_annotation_id": original.pk, "final_annotation_id": final.pk, "changes": ["geometry"]}
    ]
    assert (final.area_px, Annotation.objects.get(pk=original.pk).area_px) == (121, 100)
    with pytest.raises(AlreadyDecided):
        spot_check_accept(user=team.senior, spot_check_id=check.pk)


def test_a_rejection_returns_the_image_with_the_comment_and_the_resubmission_is_checked_again(team, submitted_work):
    # given
    sample = spot_check_sample_draw(user=team.senior, project=team.project, seed=1234)
    check = SpotCheck.objects.get(sample=sample)
    # when
    spot_check_reject(user=team.senior, spot_check_id=check.pk, comment="The crack goes on to the edge.")
    assignment = Assignment.objects.get(image=check.image, annotator=team.inspector)
    returned = (assignment.status, assignment.review_comment, Image.objects.get(pk=check.image_id).status)
    submit_all(check.image, team.inspector)
    # then
    assert returned == (AssignmentStatus.RETURNED, "The crack goes on to the edge.", ImageStatus.IN_PROGRESS)
    assert list(SpotCheck.objects.filter(image=check.image).order_by("id").values_list("status", flat=True)) == [
        "rejected",
        "pending",
    ]
    assert Image.objects.get(pk=check.image_id).status == ImageStatus.IN_REVIEW


def test_a_rejection_needs_a_comment(team, submitted_work):
    sample = spot_check_sample_draw(user=team.senior, project=team.project, seed=1234)
    check = SpotCheck.objects.get(sample=sample)
    with pytest.raises(Exception, match="needs a comment"):
        spot_check_reject(user=team.senior, spot_check_id=check.pk, comment=" ")
    assert SpotCheck.objects.get(pk=check.pk).status == SpotCheckStatus.PENDING


def test_spot_check_api_draw_list_and_decide(team, api, submitted_work):
    # given
    base = f"/api/v1/projects/{team.project.pk}/qa"
    # when
    drawn = api(team.senior).post(f"{base}/spot-check-samples/", {"seed": 1234})
    queue = api(team.senior).get(f"{base}/spot-checks/").json()["results"]
    inspector_queue = api(team.inspector).get(f"{base}/spot-checks/")
    accepted = api(team.senior).post(f"/api/v1/qa/spot-checks/{queue[0]['id']}/decide/", {"verdict": "accept"})
    samples = api(team.senior).get(f"{base}/spot-check-samples/").json()["results"]
    # then
    assert drawn.status_code == 201, drawn.json()
    assert [item["image"]["id"] for item in queue] == drawn.json()["drawn_image_ids"]
    assert [annotation["area_px"] for annotation in queue[0]["annotations"]] == [100]
    assert (inspector_queue.status_code, inspector_queue.json()["code"]) == (403, "permission_denied")
    assert (accepted.status_code, accepted.json()["status"], accepted.json()["reviewer"]) == (200, "accepted", "senior")
    assert [(sample["seed"], sample["is_reproducible"]) for sample in samples] == [(1234, True)]


def test_the_queue_costs_the_same_for_one_check_or_many(team, api, submitted_work, django_assert_max_num_queries):
    # given: half of the ten images drawn
    qa_policy_update(project=team.project, actor=team.admin, spot_check_rate=0.5)
    spot_check_sample_draw(user=team.senior, project=team.project, seed=7)
    # when
    with django_assert_max_num_queries(6):
        queue = api(team.senior).get(f"/api/v1/projects/{team.project.pk}/qa/spot-checks/").json()["results"]
    # then
    assert [len(item["annotations"]) for item in queue] == [1] * 5


def test_the_qa_page_counts_the_projects_pending_spot_checks_through_their_samples(team, submitted_work):
    # given: a draw in this project (one pending check), and a pending check in another project
    from qa.models import QaPolicy, SpotCheckSample
    from qa.selectors import qa_queue_counts
    from tests.factories import ProjectFactory, image_create

    spot_check_sample_draw(user=team.senior, project=team.project, seed=1234)
    other = ProjectFactory.create(name="Other plant", slug="other-plant")
    other_sample = SpotCheckSample.objects.create(
        project=other,
        policy=QaPolicy.objects.create(project=other, version=1, seed=0),
        seed=1,
        rate=0.1,
        population_image_ids=[],
        drawn_image_ids=[],
    )
    SpotCheck.objects.create(sample=other_sample, image=image_create(project=other, seed=99), annotator=team.inspector)
    # when
    counts, other_counts = (qa_queue_counts(project=project) for project in (team.project, other))
    # then: each project its own
    assert (counts.spot_checks, other_counts.spot_checks) == (1, 1)
    assert SpotCheck.objects.filter(status=SpotCheckStatus.PENDING).count() == 2
