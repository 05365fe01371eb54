"""A senior decides a disagreement; the decision becomes new final annotations and A's and B's work stays."""

import pytest

from annotation.models import Annotation, AuditEntry, DefectClass, Image, ImageStatus
from defectlab.errors import ValidationFailed
from qa.errors import AlreadyDecided
from qa.models import Adjudication, AdjudicationStatus
from qa.services.adjudications import adjudication_decide
from qa.services.choices import DefectChoice
from qa.tests.factories import annotate, assigned_image, square, submit_all
from tests.factories import DefectClassFactory, SeverityLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def disagreement(team, inspector2):
    """Image with A: one crack at x=10; B: a crack at x=15 and a second crack far away."""
    image = assigned_image(team, team.inspector, inspector2)
    first = [annotate(team.inspector, image, square(x=10))]
    second = [annotate(inspector2, image, square(x=15)), annotate(inspector2, image, square(x=40, y=30))]
    submit_all(image, team.inspector, inspector2)
    return image, first, second, Adjudication.objects.get(agreement__image=image)


def work(annotations) -> list[tuple]:
    return [
        (a.pk, a.author_id, a.defect_class_id, a.severity_id, a.geometry, a.revision, a.is_final) for a in annotations
    ]


def finals(image) -> list[tuple]:
    return list(
        Annotation.objects.filter(image=image, is_final=True)
        .order_by("id")
        .values_list("defect_class_id", "severity_id", "geometry", "author_id")
    )


def test_taking_b_makes_copies_of_b_final_and_keeps_a_and_b(team, disagreement):
    # given
    image, first, second, adjudication = disagreement
    before = work(first + second)
    # when
    decided = adjudication_decide(
        user=team.senior, adjudication_id=adjudication.pk, decision="second", reason="B found the second crack"
    )
    # then
    assert finals(image) == [(a.defect_class_id, None, a.geometry, team.senior.pk) for a in second]
    assert work(Annotation.objects.filter(pk__in=[a.pk for a in first + second]).order_by("id")) == before
    assert (decided.status, decided.decision, decided.reason, decided.adjudicator) == (
        AdjudicationStatus.DECIDED,
        "second",
        "B found the second crack",
        team.senior,
    )
    assert [source["source_annotation_id"] for source in decided.final_sources] == [a.pk for a in second]
    assert Image.objects.get(pk=image.pk).status == ImageStatus.FINAL


def test_picking_per_defect_takes_the_chosen_annotations_as_drawn(team, disagreement):
    # given
    image, first, second, adjudication = disagreement
    # when
    adjudication_decide(
        user=team.senior,
        adjudication_id=adjudication.pk,
        decision="per_defect",
        reason="A's outline, B's extra crack",
        defects=[DefectChoice(annotation_id=first[0].pk), DefectChoice(annotation_id=second[1].pk)],
    )
    # then
    assert [geometry for _, _, geometry, _ in finals(image)] == [first[0].geometry, second[1].geometry]


def test_an_edit_can_change_class_severity_and_geometry(team, disagreement):
    # given
    image, first, _, adjudication = disagreement
    pore = DefectClassFactory.create(project=team.project, name="pore")
    large = SeverityLevelFactory.create(defect_class=pore, name="large", rank=1)
    # when
    decided = adjudication_decide(
        user=team.senior,
        adjudication_id=adjudication.pk,
        decision="edited",
        reason="it is a pore, and a little larger",
        defects=[
            DefectChoice(
                annotation_id=first[0].pk, defect_class_id=pore.pk, severity_id=large.pk, geometry=square(x=10, side=12)
            )
        ],
    )
    # then
    stored = {"polygons": [{"exterior": [[10.0, 10.0], [21.0, 10.0], [21.0, 21.0], [10.0, 21.0]], "holes": []}]}
    assert finals(image) == [(pore.pk, large.pk, stored, team.senior.pk)]
    assert Annotation.objects.get(image=image, is_final=True).area_px == 144
    assert decided.final_sources[0]["is_edited"] is True
    assert Annotation.objects.get(pk=first[0].pk).defect_class_id == team.defect_class.pk  # A's stays a crack


def test_per_defect_refuses_changed_defects(team, disagreement):
    # given
    image, first, _, adjudication = disagreement
    # when / then
    with pytest.raises(ValidationFailed, match="send 'edited'"):
        adjudication_decide(
            user=team.senior,
            adjudication_id=adjudication.pk,
            decision="per_defect",
            reason="x",
            defects=[DefectChoice(annotation_id=first[0].pk, geometry=square(x=11))],
        )
    assert finals(image) == []


def test_a_decision_needs_a_reason_and_happens_once(team, disagreement):
    # given
    _, _, _, adjudication = disagreement
    # when / then
    with pytest.raises(ValidationFailed, match="reason"):
        adjudication_decide(user=team.senior, adjudication_id=adjudication.pk, decision="first", reason="  ")
    adjudication_decide(user=team.senior, adjudication_id=adjudication.pk, decision="first", reason="A is right")
    audit_count = AuditEntry.objects.count()
    with pytest.raises(AlreadyDecided):
        adjudication_decide(user=team.admin, adjudication_id=adjudication.pk, decision="second", reason="no, B")
    assert AuditEntry.objects.count() == audit_count


def test_annotations_of_another_image_cannot_be_taken(team, inspector2, disagreement):
    # given
    _, _, _, adjudication = disagreement
    other = assigned_image(team, team.inspector, seed=9)
    stranger = annotate(team.inspector, other, square(x=5))
    # when / then
    with pytest.raises(ValidationFailed, match="not part of the work under review"):
        adjudication_decide(
            user=team.senior,
            adjudication_id=adjudication.pk,
            decision="per_defect",
            reason="x",
            defects=[DefectChoice(annotation_id=stranger.pk)],
        )


def test_the_api_decision_and_its_role_wall(team, api, disagreement):
    # given
    image, _, second, adjudication = disagreement
    path = f"/api/v1/qa/adjudications/{adjudication.pk}/decide/"
    body = {"decision": "per_defect", "reason": "B", "defects": [{"annotation_id": second[0].pk}]}
    # when
    refused = api(team.inspector).post(path, body)
    decided = api(team.senior).post(path, body)
    # then
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert decided.status_code == 200, decided.json()
    assert (decided.json()["status"], decided.json()["decision"]) == ("decided", "per_defect")
    assert [geometry for _, _, geometry, _ in finals(image)] == [second[0].geometry]


def test_work_kept_as_drawn_is_final_even_if_its_class_was_retired_since(team, disagreement):
    # given: the crack class is retired after both submitted (its annotations get re-reviews instead)
    image, first, _, adjudication = disagreement
    DefectClass.objects.filter(pk=team.defect_class.pk).update(is_active=False)
    # when
    adjudication_decide(user=team.senior, adjudication_id=adjudication.pk, decision="first", reason="A is right")
    # then
    assert [geometry for _, _, geometry, _ in finals(image)] == [first[0].geometry]
