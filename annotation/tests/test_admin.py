"""The Django admin keeps the services' rules: a project keeps an admin, and a new px_per_mm is a calibration
(audited, taxonomy revision bumped, re-review of the classes with mm minimums)."""

import pytest
from django.test import Client

from annotation.models import AuditEntry, Membership, Project, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN_STAYS = "A project keeps at least one admin."


@pytest.fixture
def site_admin() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


def change_url(project) -> str:
    return f"/admin/annotation/project/{project.pk}/change/"


def change_form_data(client: Client, project) -> dict:
    """What the project's change page posts back untouched: the project form and the membership inline."""
    context = client.get(change_url(project)).context
    forms = [context["adminform"].form]
    for inline in context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is not None and value is not False:
                data[field.html_name] = value
    return data


def membership_prefix(data: dict, user) -> str:
    """The inline row prefix ("memberships-2") of `user`'s membership."""
    [key] = [key for key, value in data.items() if key.endswith("-user") and value == user.pk]
    return key.removesuffix("-user")


def inline_errors(response) -> list[str]:
    return [error for inline in response.context["inline_admin_formsets"] for error in inline.formset.non_form_errors()]


def roles(project) -> dict[str, str]:
    return dict(Membership.objects.filter(project=project).values_list("user__username", "role"))


ROLES_BEFORE = {"inspector": "inspector", "senior": "senior", "ml_engineer": "ml_engineer", "admin": "admin"}


def test_the_admin_cannot_demote_the_last_admin(team, site_admin):
    # given
    data = change_form_data(site_admin, team.project)
    data[f"{membership_prefix(data, team.admin)}-role"] = Role.SENIOR
    # when
    response = site_admin.post(change_url(team.project), data)
    # then
    assert (response.status_code, inline_errors(response)) == (200, [ADMIN_STAYS])
    assert roles(team.project) == ROLES_BEFORE


def test_the_admin_cannot_remove_the_last_admin(team, site_admin):
    # given
    data = change_form_data(site_admin, team.project)
    data[f"{membership_prefix(data, team.admin)}-DELETE"] = "on"
    # when
    response = site_admin.post(change_url(team.project), data)
    # then
    assert (response.status_code, inline_errors(response)) == (200, [ADMIN_STAYS])
    assert roles(team.project) == ROLES_BEFORE


def test_the_admin_may_give_the_admin_row_to_someone_new(team, site_admin):
    # given
    newcomer = UserFactory.create(username="newcomer")
    data = change_form_data(site_admin, team.project)
    data[f"{membership_prefix(data, team.admin)}-user"] = newcomer.pk
    # when
    response = site_admin.post(change_url(team.project), data)
    # then
    assert response.status_code == 302
    assert roles(team.project) == {**{k: v for k, v in ROLES_BEFORE.items() if k != "admin"}, "newcomer": "admin"}


def test_the_admin_may_hand_over_to_a_new_admin_in_the_same_save(team, site_admin):
    # given
    data = change_form_data(site_admin, team.project)
    data[f"{membership_prefix(data, team.admin)}-role"] = Role.SENIOR
    data[f"{membership_prefix(data, team.senior)}-role"] = Role.ADMIN
    # when
    response = site_admin.post(change_url(team.project), data)
    # then
    assert response.status_code == 302
    assert roles(team.project) == {**ROLES_BEFORE, "senior": "admin", "admin": "senior"}


def test_a_px_per_mm_change_in_the_admin_is_a_calibration(
    team, site_admin, sent_events, django_capture_on_commit_callbacks
):
    # given
    Project.objects.filter(pk=team.project.pk).update(px_per_mm=10)
    team.defect_class.min_length_mm = 2.0
    team.defect_class.save()
    revision_before = Project.objects.get(pk=team.project.pk).taxonomy_revision
    data = change_form_data(site_admin, team.project)
    data["px_per_mm"] = "20"
    data["description"] = "Recalibrated camera"
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = site_admin.post(change_url(team.project), data)
    # then
    assert response.status_code == 302
    stored = Project.objects.get(pk=team.project.pk)
    assert (stored.px_per_mm, stored.description, stored.taxonomy_revision) == (
        20.0,
        "Recalibrated camera",
        revision_before + 1,
    )
    assert list(AuditEntry.objects.filter(object_type="project").values_list("actor__username", "before", "after")) == [
        ("root", {"px_per_mm": 10.0}, {"px_per_mm": 20.0})
    ]
    assert [(name, kwargs["defect_class_id"], kwargs["changes"]) for name, kwargs in sent_events] == [
        ("qa.tasks.taxonomy_change_review_task", team.defect_class.pk, ["min_size_changed"])
    ]


def test_saving_the_admin_form_unchanged_keeps_the_taxonomy_revision(team, site_admin):
    # given
    revision_before = Project.objects.get(pk=team.project.pk).taxonomy_revision
    data = change_form_data(site_admin, team.project)
    # when
    response = site_admin.post(change_url(team.project), data)
    # then
    assert response.status_code == 302
    assert Project.objects.get(pk=team.project.pk).taxonomy_revision == revision_before
    assert AuditEntry.objects.filter(object_type="project").count() == 0
