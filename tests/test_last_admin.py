"""A project always keeps an admin: the last one can neither demote themselves nor leave."""

import pytest

from annotation.models import Membership, Role


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.INSPECTOR, Role.SENIOR, Role.ML_ENGINEER])
def test_the_last_admin_cannot_demote_themselves(team, api, role):
    # when
    response = api(team.admin).post(
        f"/api/v1/projects/{team.project.pk}/members/", {"username": team.admin.username, "role": role}
    )
    # then
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": "A project keeps at least one admin."},
    )
    assert Membership.objects.get(project=team.project, user=team.admin).role == Role.ADMIN


@pytest.mark.django_db
def test_an_admin_may_step_down_once_another_admin_exists(team, api):
    # given
    client = api(team.admin)
    client.post(f"/api/v1/projects/{team.project.pk}/members/", {"username": "senior", "role": Role.ADMIN})
    # when
    response = client.post(f"/api/v1/projects/{team.project.pk}/members/", {"username": "admin", "role": Role.SENIOR})
    # then
    assert (response.status_code, response.json()) == (
        201,
        {"user_id": team.admin.pk, "username": "admin", "role": "senior"},
    )
    assert dict(Membership.objects.filter(project=team.project).values_list("user__username", "role")) == {
        "inspector": "inspector",
        "senior": "admin",
        "ml_engineer": "ml_engineer",
        "admin": "senior",
    }


@pytest.mark.django_db
def test_the_last_admin_cannot_leave(team, api):
    # when
    response = api(team.admin).delete(f"/api/v1/projects/{team.project.pk}/members/{team.admin.pk}/")
    # then
    assert (response.status_code, response.json()["message"]) == (400, "A project keeps at least one admin.")
    assert Membership.objects.filter(project=team.project, user=team.admin, role=Role.ADMIN).exists()
