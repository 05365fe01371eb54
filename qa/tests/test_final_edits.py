"""After a decision a reviewer edits the image's final annotations in the editor (geometry included) through
annotation's API: each change is audited there and recorded on the decision (`reviewer_edits`) by the task
annotation sends by name; A's and B's work stays as it was."""

import pytest

from annotation.models import Annotation, AuditAction, AuditEntry
from qa.models import Adjudication, SpotCheck
from qa.services.adjudications import adjudication_decide
from qa.services.choices import DefectChoice
from qa.services.final_edits import final_edit_record
from qa.services.policies import qa_policy_update
from qa.services.spot_checks import spot_check_accept, spot_check_sample_draw
from qa.tasks import final_annotation_edited_task
from qa.tests.factories import annotate, assigned_image, square, submit_all

pytestmark = pytest.mark.django_db


def run(sent_events) -> None:
    """What the worker would do with the captured tasks."""
    for name, kwargs in sent_events:
        assert name == final_annotation_edited_task.name
        final_edit_record(**kwargs)


@pytest.fixture
def adjudicated(team, inspector2):
    """A disagreement decided as `edited`, keeping A's crack: the image is final with one final annotation."""
    image = assigned_image(team, team.inspector, inspector2)
    work = [annotate(team.inspector, image, square(x=10)), annotate(inspector2, image, square(x=15))]
    submit_all(image, team.inspector, inspector2)
    adjudication = Adjudication.objects.get(agreement__image=image)
    adjudication_decide(
        user=team.senior,
        adjudication_id=adjudication.pk,
        decision="edited",
        reason="A's crack; its outline is fixed in the editor",
        defects=[DefectChoice(annotation_id=work[0].pk)],
    )
    adjudication.refresh_from_db()
    return image, work, adjudication


def as_stored(annotations) -> list[tuple]:
    return list(
        Annotation.objects.filter(pk__in=[a.pk for a in annotations])
        .order_by("id")
        .values_list("id", "author_id", "geometry", "revision", "is_final")
    )


def test_a_reviewer_edits_adds_and_removes_final_annotations_and_each_change_is_recorded(
    team, api, adjudicated, sent_events, django_capture_on_commit_callbacks
):
    # given
    image, work, adjudication = adjudicated
    work_before = as_stored(work)
    client = api(team.senior)
    final_id = Annotation.objects.get(image=image, is_final=True).pk  # the copy of A's crack
    # when: the final crack gets a new outline; a second defect is added and removed again
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.put(f"/api/v1/annotations/{final_id}/", {"expected_revision": 1, "geometry": square(x=11)})
        extra = client.post(
            f"/api/v1/images/{image.pk}/annotations/",
            {"defect_class_id": team.defect_class.pk, "geometry": square(x=40, y=30), "is_final": True},
            format="json",
        )
        removed = client.delete(f"/api/v1/annotations/{extra.json()['id']}/?expected_revision=1")
    run(sent_events)
    run(sent_events)  # a redelivered task records nothing twice
    # then
    assert [response.status_code for response in (saved, extra, removed)] == [200, 201, 204]
    assert (extra.json()["is_final"], extra.json()["author_id"]) == (True, team.senior.pk)
    final = Annotation.objects.get(image=image, is_final=True)
    assert (final.pk, final.revision, final.geometry["polygons"][0]["exterior"][0]) == (final_id, 2, [11.0, 10.0])
    entries = list(AuditEntry.objects.filter(project=team.project, actor=team.senior).order_by("id"))[-3:]
    assert [(entry.action, entry.object_id) for entry in entries] == [
        (AuditAction.UPDATE, final_id),
        (AuditAction.CREATE, extra.json()["id"]),
        (AuditAction.DELETE, extra.json()["id"]),
    ]
    adjudication.refresh_from_db()
    assert [
        {key: edit[key] for key in ("audit_entry_id", "final_annotation_id", "action", "changes", "reviewer_id")}
        for edit in adjudication.reviewer_edits
    ] == [
        {
            "audit_entry_id": entries[0].pk,
            "final_annotation_id": final_id,
            "action": "update",
            "changes": ["geometry"],
            "reviewer_id": team.senior.pk,
        },
        {
            "audit_entry_id": entries[1].pk,
            "final_annotation_id": extra.json()["id"],
            "action": "create",
            "changes": ["added"],
            "reviewer_id": team.senior.pk,
        },
        {
            "audit_entry_id": entries[2].pk,
            "final_annotation_id": extra.json()["id"],
            "action": "delete",
            "changes": ["removed"],
            "reviewer_id": team.senior.pk,
        },
    ]
    detail = client.get(f"/api/v1/qa/adjudications/{adjudication.pk}/").json()["adjudication"]
    assert (detail["decision"], len(detail["reviewer_edits"])) == ("edited", 3)
    assert as_stored(work) == work_before  # A's and B's work is never touched


def test_only_reviewers_change_final_annotations_and_add_them_only_to_final_images(team, api, adjudicated):
    # given: the final copy of A's crack is authored by the senior who decided, not by A
    image, _, _ = adjudicated
    final = Annotation.objects.get(image=image, is_final=True)
    pending = assigned_image(team, team.inspector, seed=2)
    new_final = {"defect_class_id": team.defect_class.pk, "geometry": square(x=30), "is_final": True}
    count = Annotation.objects.count()
    # when
    by_inspector = api(team.inspector).post(f"/api/v1/images/{image.pk}/annotations/", new_final, format="json")
    edit_by_inspector = api(team.inspector).put(
        f"/api/v1/annotations/{final.pk}/", {"expected_revision": 1, "geometry": square(x=31)}, format="json"
    )
    on_pending = api(team.senior).post(f"/api/v1/images/{pending.pk}/annotations/", new_final, format="json")
    # then
    assert (by_inspector.status_code, by_inspector.json()) == (
        403,
        {"code": "permission_denied", "message": "Only reviewers change an image's final annotations."},
    )
    assert (edit_by_inspector.status_code, edit_by_inspector.json()["code"]) == (403, "permission_denied")
    assert (on_pending.status_code, on_pending.json()["message"]) == (
        400,
        "Final annotations are added to final images only; decide the review first.",
    )
    assert Annotation.objects.count() == count


def test_an_edit_after_an_accepted_spot_check_is_recorded_on_it(
    team, api, sent_events, django_capture_on_commit_callbacks
):
    # given: a one-image sample, accepted as the inspector drew it
    qa_policy_update(project=team.project, actor=team.admin, calibration_image_count=0, spot_check_rate=1.0)
    image = assigned_image(team, team.inspector)
    annotate(team.inspector, image, square(x=10))
    submit_all(image, team.inspector)
    spot_check_sample_draw(user=team.senior, project=team.project, seed=7)
    check = spot_check_accept(user=team.senior, spot_check_id=SpotCheck.objects.get(image=image).pk)
    final = Annotation.objects.get(image=image, is_final=True)
    # when: the reviewer changes its severity afterwards
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.senior).put(
            f"/api/v1/annotations/{final.pk}/", {"expected_revision": 1, "severity_id": team.severity.pk}
        )
    run(sent_events)
    # then
    check.refresh_from_db()
    assert response.status_code == 200, response.json()
    assert [(edit["final_annotation_id"], edit["changes"]) for edit in check.reviewer_edits] == [
        (final.pk, ["severity"])
    ]


def test_edits_of_work_that_is_not_final_are_not_reported(team, api, sent_events, django_capture_on_commit_callbacks):
    # given
    image = assigned_image(team, team.inspector)
    own = annotate(team.inspector, image, square(x=10))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        api(team.inspector).put(f"/api/v1/annotations/{own.pk}/", {"expected_revision": 1, "geometry": square(x=11)})
    # then
    assert sent_events == []


def test_a_final_answer_no_decision_made_keeps_its_edits_in_the_audit_trail_only(team, inspector2, api):
    # given: both annotators agreed, so the answer was made final without a decision
    image = assigned_image(team, team.inspector, inspector2)
    annotate(team.inspector, image, square(x=10))
    annotate(inspector2, image, square(x=10))
    submit_all(image, team.inspector, inspector2)
    final = Annotation.objects.get(image=image, is_final=True)
    api(team.senior).put(f"/api/v1/annotations/{final.pk}/", {"expected_revision": 1, "geometry": square(x=11)})
    entry = AuditEntry.objects.filter(object_type="annotation", object_id=final.pk).latest("id")
    # when
    recorded = final_edit_record(audit_entry_id=entry.pk)
    # then
    assert recorded is None
    assert (entry.action, entry.actor) == (AuditAction.UPDATE, team.senior)
