"""Merging and splitting defect classes through the API: admins only, audited, the old class retired, and QA asked
by task name to flag the final annotations for re-review (qa/tests/test_re_reviews.py runs that task)."""

import pytest

from annotation.events import TAXONOMY_CHANGED
from annotation.models import AuditAction, AuditEntry, DefectClass, Project
from tests.factories import DefectClassFactory, ProjectFactory

pytestmark = pytest.mark.django_db

(RE_REVIEW_TASK,) = [subscription.task_name for subscription in TAXONOMY_CHANGED.subscriptions]  # QA's handler


def class_names(project) -> list[tuple[str, bool]]:
    return list(DefectClass.objects.filter(project=project).order_by("id").values_list("name", "is_active"))


def audited(project) -> list[tuple[str, str]]:
    entries = AuditEntry.objects.filter(project=project, object_type="defect_class").order_by("id")
    return [(entry.action, (entry.after or entry.before or {})["name"]) for entry in entries]


def test_admin_merges_a_class_into_another(team, api, sent_events, django_capture_on_commit_callbacks):
    # given
    fracture = DefectClassFactory.create(project=team.project, name="fracture", position=1)
    revision = team.project.taxonomy_revision
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.admin).post(
            f"/api/v1/defect-classes/{team.defect_class.pk}/merge/", {"into_defect_class_id": fracture.pk}
        )
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["retired"]["id"], body["retired"]["is_active"]) == (team.defect_class.pk, False)
    assert (body["merged_into"]["id"], body["merged_into"]["name"], body["merged_into"]["is_active"]) == (
        fracture.pk,
        "fracture",
        True,
    )
    assert class_names(team.project) == [("crack", False), ("fracture", True)]
    assert audited(team.project) == [(AuditAction.UPDATE, "crack")]
    assert Project.objects.get(pk=team.project.pk).taxonomy_revision > revision
    assert [(name, kwargs["defect_class_id"], kwargs["changes"]) for name, kwargs in sent_events] == [
        (RE_REVIEW_TASK, team.defect_class.pk, ["merged"])
    ]
    assert sent_events[0][1]["after"]["merged_into"] == {"id": fracture.pk, "name": "fracture"}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("itself", (400, "Merge two different defect classes of the same project.")),
        ("retired", (400, "'old crack' is retired; merge into an active class.")),
        ("other project", (404, "No such project.")),  # as for any foreign defect class id
    ],
)
def test_a_merge_needs_another_active_class_of_the_same_project(team, api, sent_events, target, expected):
    # given
    into = {
        "itself": team.defect_class,
        "retired": DefectClassFactory.create(project=team.project, name="old crack", is_active=False),
        "other project": DefectClassFactory.create(project=ProjectFactory.create(), name="fracture"),
    }[target]
    before = class_names(team.project)
    # when
    response = api(team.admin).post(
        f"/api/v1/defect-classes/{team.defect_class.pk}/merge/", {"into_defect_class_id": into.pk}
    )
    # then
    assert (response.status_code, response.json()["message"]) == expected
    assert class_names(team.project) == before
    assert audited(team.project) == []


def test_admin_splits_a_class_into_new_ones_with_its_rules_and_levels(
    team, api, sent_events, django_capture_on_commit_callbacks
):
    # given
    DefectClass.objects.filter(pk=team.defect_class.pk).update(min_area_px=20)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.admin).post(
            f"/api/v1/defect-classes/{team.defect_class.pk}/split/", {"into": ["surface crack", "deep crack"]}
        )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["retired"]["name"], body["retired"]["is_active"]) == ("crack", False)
    assert [
        (item["name"], item["min_area_px"], [level["name"] for level in item["severity_levels"]])
        for item in body["created"]
    ] == [("surface crack", 20.0, ["minor"]), ("deep crack", 20.0, ["minor"])]
    assert class_names(team.project) == [("crack", False), ("surface crack", True), ("deep crack", True)]
    assert audited(team.project) == [
        (AuditAction.CREATE, "surface crack"),
        (AuditAction.CREATE, "deep crack"),
        (AuditAction.UPDATE, "crack"),
    ]
    assert [(name, kwargs["changes"]) for name, kwargs in sent_events] == [(RE_REVIEW_TASK, ["split"])]


@pytest.mark.parametrize(
    ("into", "message"),
    [
        (["deep crack"], "into: Ensure this field has at least 2 elements."),
        (["deep crack", "deep crack"], "Split a class into at least two differently named classes."),
        (["deep crack", "crack"], "The project already has a defect class named 'crack'."),
    ],
)
def test_a_split_needs_two_new_distinct_names(team, api, sent_events, into, message):
    # given
    before = class_names(team.project)
    # when
    response = api(team.admin).post(f"/api/v1/defect-classes/{team.defect_class.pk}/split/", {"into": into})
    # then
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert class_names(team.project) == before
    assert audited(team.project) == []


def test_a_retired_class_is_neither_merged_nor_split_again(team, api, sent_events):
    # given
    fracture = DefectClassFactory.create(project=team.project, name="fracture")
    DefectClass.objects.filter(pk=team.defect_class.pk).update(is_active=False)
    # when
    merged = api(team.admin).post(
        f"/api/v1/defect-classes/{team.defect_class.pk}/merge/", {"into_defect_class_id": fracture.pk}
    )
    split = api(team.admin).post(f"/api/v1/defect-classes/{team.defect_class.pk}/split/", {"into": ["a", "b"]})
    # then
    assert [(r.status_code, r.json()["message"]) for r in (merged, split)] == [
        (400, "'crack' is already retired."),
        (400, "'crack' is already retired."),
    ]
    assert sent_events == []
