"""Whoever adds members or hands out work (project admins, seniors) types usernames. Unknown users and users who
may not take the work must get the same answer, or those forms tell which usernames exist on the site."""

import pytest
from django.contrib.auth import get_user_model

from annotation.errors import NoSuchAnnotator
from annotation.models import Assignment, Membership, Role
from annotation.services.images import assignments_create
from qa.services.assignments import qa_assignments_create
from tests.factories import MembershipFactory, UserFactory, image_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def names(team) -> dict[str, str]:
    """A username per case: nobody has it, or someone who may not annotate in the team's project has it."""
    UserFactory.create(username="stranger")  # exists, member of no project
    MembershipFactory.create(
        project=team.project, role=Role.INSPECTOR, user=UserFactory.create(username="retired", is_active=False)
    )
    return {
        "unknown": "nobody-by-this-name",
        "not a member": "stranger",
        "member of another project": team.outsider.username,
        "member without a labelling role": team.ml_engineer.username,
        "deactivated inspector": "retired",
    }


def expected(username: str) -> dict:
    return {
        "code": "invalid",
        "message": f"No annotator {username} in this project: name its inspectors, seniors or admins.",
        "usernames": [username],
    }


@pytest.mark.parametrize("assigner", ["senior", "admin"])
def test_assigning_work_answers_alike_for_unknown_and_ineligible_users(team, api, names, assigner):
    # given
    image = image_create(project=team.project, seed=1)
    path = f"/api/v1/projects/{team.project.pk}/assignments/"
    # when
    answers = {
        case: api(team.member(assigner)).post(path, {"annotator": username, "image_ids": [image.pk]})
        for case, username in names.items()
    }
    # then
    assert {case: (response.status_code, response.json()) for case, response in answers.items()} == {
        case: (400, expected(username)) for case, username in names.items()
    }
    assert not Assignment.objects.exists()


def test_qa_assignment_answers_alike_for_unknown_and_ineligible_users(team, api, names):
    # given
    image = image_create(project=team.project, seed=1)
    path = f"/api/v1/projects/{team.project.pk}/qa/assignments/"
    # when
    answers = {
        case: api(team.senior).post(path, {"annotators": ["inspector", username], "image_ids": [image.pk]})
        for case, username in names.items()
    }
    # then
    assert {case: (response.status_code, response.json()) for case, response in answers.items()} == {
        case: (400, expected(username)) for case, username in names.items()
    }
    assert not Assignment.objects.exists()


def test_the_services_refuse_ineligible_annotators_with_the_same_words(team, names):
    # given: a caller that skipped the API's lookup still gets the same answer
    image = image_create(project=team.project, seed=1)
    existing = get_user_model().objects.filter(username__in=names.values())
    # when / then
    for user in existing:
        with pytest.raises(NoSuchAnnotator) as error:
            assignments_create(project=team.project, image_ids=[image.pk], annotator=user, assigned_by=team.senior)
        assert error.value.message == expected(user.username)["message"]
        with pytest.raises(NoSuchAnnotator):
            qa_assignments_create(
                user=team.senior, project=team.project, image_ids=[image.pk], annotators=[team.inspector, user]
            )
    assert not Assignment.objects.exists()


def test_assigning_to_a_project_inspector_still_works(team, api):
    # given
    image = image_create(project=team.project, seed=1)
    # when
    response = api(team.senior).post(
        f"/api/v1/projects/{team.project.pk}/assignments/", {"annotator": "inspector", "image_ids": [image.pk]}
    )
    # then
    assert (response.status_code, response.json()) == (201, {"assigned": 1})


def test_adding_a_member_answers_alike_for_unknown_and_deactivated_users(team, api):
    # given
    UserFactory.create(username="left-the-company", is_active=False)
    path = f"/api/v1/projects/{team.project.pk}/members/"
    memberships_before = Membership.objects.count()
    # when
    answers = [
        api(team.admin).post(path, {"username": username, "role": Role.INSPECTOR})
        for username in ("nobody-by-this-name", "left-the-company")
    ]
    # then
    assert [(response.status_code, response.json()) for response in answers] == [
        (404, {"code": "not_found", "message": "No such user."})
    ] * 2
    assert Membership.objects.count() == memberships_before
