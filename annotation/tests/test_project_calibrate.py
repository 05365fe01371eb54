"""A project's px_per_mm rescales every minimum size given in mm: a new calibration is a taxonomy change. It is
audited, bumps the taxonomy revision and asks QA to re-review the final annotations of the classes whose minimum
is in mm (qa/tests/test_re_reviews.py checks which annotations get flagged)."""

import pytest

from annotation.events import TAXONOMY_CHANGED
from annotation.models import AuditAction, AuditEntry, Project
from annotation.services.projects import project_calibrate, project_update
from defectlab.errors import ValidationFailed
from tests.factories import DefectClassFactory

pytestmark = pytest.mark.django_db

(RE_REVIEW_TASK,) = [subscription.task_name for subscription in TAXONOMY_CHANGED.subscriptions]  # QA's handler


@pytest.fixture
def calibrated(team):
    """The project at 10 px/mm; "crack" has a minimum in mm, "stain" only in px."""
    Project.objects.filter(pk=team.project.pk).update(px_per_mm=10)
    team.project.refresh_from_db()
    team.defect_class.min_area_mm2 = 0.5
    team.defect_class.save()
    DefectClassFactory.create(project=team.project, name="stain", min_area_px=20)
    return team


def requests_by_class(sent) -> list[tuple]:
    return [
        (
            name,
            kwargs["defect_class_id"],
            kwargs["changes"],
            kwargs["before"]["px_per_mm"],
            kwargs["after"]["px_per_mm"],
        )
        for name, kwargs in sent
    ]


def test_a_new_calibration_is_audited_bumps_the_revision_and_asks_to_re_review_the_mm_classes(
    calibrated, sent_events, django_capture_on_commit_callbacks
):
    # given
    project = calibrated.project
    revision_before = project.taxonomy_revision
    # when
    with django_capture_on_commit_callbacks(execute=True):
        returned = project_calibrate(project=project, actor=calibrated.admin, px_per_mm=20)
    # then
    entry = AuditEntry.objects.get(object_type="project")
    assert (entry.project_id, entry.actor_id, entry.action, entry.object_id, entry.before, entry.after) == (
        project.pk,
        calibrated.admin.pk,
        AuditAction.UPDATE,
        project.pk,
        {"px_per_mm": 10.0},
        {"px_per_mm": 20.0},
    )
    stored = Project.objects.get(pk=project.pk)
    assert (stored.px_per_mm, stored.taxonomy_revision) == (20.0, revision_before + 1)
    assert (returned.px_per_mm, returned.taxonomy_revision) == (20.0, revision_before + 1)
    assert requests_by_class(sent_events) == [
        (RE_REVIEW_TASK, calibrated.defect_class.pk, ["min_size_changed"], 10.0, 20.0)
    ]
    assert sent_events[0][1]["after"]["min_area_mm2"] == 0.5  # the class's rule, for the reviewer


def test_removing_the_calibration_is_a_change_too(calibrated, sent_events, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        project_calibrate(project=calibrated.project, actor=calibrated.admin, px_per_mm=None)
    # then
    assert list(AuditEntry.objects.filter(object_type="project").values_list("before", "after")) == [
        ({"px_per_mm": 10.0}, {"px_per_mm": None})
    ]
    assert requests_by_class(sent_events) == [
        (RE_REVIEW_TASK, calibrated.defect_class.pk, ["min_size_changed"], 10.0, None)
    ]


def test_the_same_calibration_again_changes_nothing(calibrated, sent_events, django_capture_on_commit_callbacks):
    # given
    revision_before = calibrated.project.taxonomy_revision
    # when
    with django_capture_on_commit_callbacks(execute=True):
        project_calibrate(project=calibrated.project, actor=calibrated.admin, px_per_mm=10)
    # then
    assert AuditEntry.objects.filter(object_type="project").count() == 0
    assert Project.objects.get(pk=calibrated.project.pk).taxonomy_revision == revision_before
    assert sent_events == []


def test_a_calibration_must_be_positive(calibrated):
    # when
    with pytest.raises(ValidationFailed) as error:
        project_calibrate(project=calibrated.project, actor=calibrated.admin, px_per_mm=0)
    # then
    assert str(error.value) == "px_per_mm must be positive (or empty: not calibrated)."
    assert Project.objects.get(pk=calibrated.project.pk).px_per_mm == 10.0


def test_project_update_routes_px_per_mm_through_the_calibration(
    calibrated, sent_events, django_capture_on_commit_callbacks
):
    # given
    revision_before = calibrated.project.taxonomy_revision
    # when
    with django_capture_on_commit_callbacks(execute=True):
        project_update(project=calibrated.project, actor=calibrated.admin, name="Tile line 2", px_per_mm=12.5)
    # then
    stored = Project.objects.get(pk=calibrated.project.pk)
    assert (stored.name, stored.px_per_mm, stored.taxonomy_revision) == ("Tile line 2", 12.5, revision_before + 1)
    assert list(AuditEntry.objects.filter(object_type="project").values_list("before", "after")) == [
        ({"px_per_mm": 10.0}, {"px_per_mm": 12.5})
    ]
    assert requests_by_class(sent_events) == [
        (RE_REVIEW_TASK, calibrated.defect_class.pk, ["min_size_changed"], 10.0, 12.5)
    ]


def test_a_rename_alone_is_not_a_taxonomy_change(calibrated, sent_events, django_capture_on_commit_callbacks):
    # given
    revision_before = calibrated.project.taxonomy_revision
    # when
    with django_capture_on_commit_callbacks(execute=True):
        project_update(project=calibrated.project, actor=calibrated.admin, name="Tile line 2")
    # then
    assert Project.objects.get(pk=calibrated.project.pk).taxonomy_revision == revision_before
    assert (AuditEntry.objects.filter(object_type="project").count(), sent_events) == (0, [])


def test_the_api_patch_is_audited_and_answers_with_the_new_revision(
    calibrated, api, sent_events, django_capture_on_commit_callbacks
):
    # given
    project = calibrated.project
    revision_before = project.taxonomy_revision
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api(calibrated.admin).patch(f"/api/v1/projects/{project.pk}/", {"px_per_mm": 20}, format="json")
    # then
    body = response.json()
    assert (response.status_code, body["px_per_mm"], body["taxonomy_revision"]) == (200, 20.0, revision_before + 1)
    assert list(AuditEntry.objects.filter(object_type="project").values_list("actor_id", "before", "after")) == [
        (calibrated.admin.pk, {"px_per_mm": 10.0}, {"px_per_mm": 20.0})
    ]
    assert requests_by_class(sent_events) == [
        (RE_REVIEW_TASK, calibrated.defect_class.pk, ["min_size_changed"], 10.0, 20.0)
    ]
