"""Dual annotation after both annotators submitted: agreement makes A's copy final, disagreement is queued."""

import pytest

from annotation.models import Annotation, AuditEntry, Image, ImageStatus
from qa.models import Adjudication, AdjudicationStatus, Agreement, AgreementPhase, DefectMatch
from qa.services.agreements import image_submitted
from qa.services.policies import qa_policy_update
from qa.tests.factories import annotate, assigned_image, square, submit_all

pytestmark = pytest.mark.django_db


def snapshot(annotations) -> list[tuple]:
    return [(a.pk, a.author_id, a.defect_class_id, a.geometry, a.revision, a.is_final) for a in annotations]


def test_agreeing_work_becomes_final_from_the_first_annotators_copy(team, inspector2):
    # given
    image = assigned_image(team, team.inspector, inspector2)
    first = annotate(team.inspector, image, square(x=10), severity=team.severity)
    second = annotate(inspector2, image, square(x=11), severity=team.severity)
    work_before = snapshot([first, second])
    # when
    submit_all(image, team.inspector, inspector2)
    # then
    agreement = Agreement.objects.get(image=image)
    assert (agreement.is_agreed, agreement.phase, agreement.reasons, round(agreement.mean_iou, 4)) == (
        True,
        AgreementPhase.CALIBRATION,
        [],
        round(90 / 110, 4),
    )
    assert list(DefectMatch.objects.values_list("first_annotation_id", "second_annotation_id", "is_agreed")) == [
        (first.pk, second.pk, True)
    ]
    final = Annotation.objects.get(image=image, is_final=True)
    assert (final.geometry, final.rle, final.severity_id, final.author_id) == (
        first.geometry,
        first.rle,
        team.severity.pk,
        None,  # decided automatically: no annotator may edit it as their own
    )
    assert Image.objects.get(pk=image.pk).status == ImageStatus.FINAL
    assert snapshot(Annotation.objects.filter(pk__in=[first.pk, second.pk]).order_by("id")) == work_before
    assert not Adjudication.objects.exists()


def test_disagreeing_work_is_queued_for_adjudication_and_nothing_is_final(team, inspector2):
    # given
    image = assigned_image(team, team.inspector, inspector2)
    annotate(team.inspector, image, square(x=10))
    annotate(inspector2, image, square(x=15))
    # when
    submit_all(image, team.inspector, inspector2)
    # then
    agreement = Agreement.objects.get(image=image)
    assert (agreement.is_agreed, agreement.reasons) == (False, ["iou_below_threshold"])
    assert agreement.adjudication.status == AdjudicationStatus.PENDING
    assert Image.objects.get(pk=image.pk).status == ImageStatus.IN_REVIEW
    assert not Annotation.objects.filter(image=image, is_final=True).exists()


def test_two_defect_free_judgements_agree_and_the_image_is_final_and_defect_free(team, inspector2):
    # given
    image = assigned_image(team, team.inspector, inspector2)
    # when
    submit_all(image, team.inspector, inspector2)
    # then
    image.refresh_from_db()
    assert (Agreement.objects.get(image=image).is_agreed, image.status, image.is_defect_free) == (
        True,
        ImageStatus.FINAL,
        True,
    )


def test_comparisons_after_the_calibration_size_are_ongoing(team, inspector2):
    # given
    qa_policy_update(project=team.project, actor=team.admin, calibration_image_count=1)
    images = [assigned_image(team, team.inspector, inspector2, seed=seed) for seed in (1, 2)]
    # when
    for image in images:
        submit_all(image, team.inspector, inspector2)
    # then
    assert list(Agreement.objects.order_by("id").values_list("phase", flat=True)) == [
        AgreementPhase.CALIBRATION,
        AgreementPhase.ONGOING,
    ]


def test_a_redelivered_task_changes_nothing(team, inspector2, django_assert_max_num_queries):
    # given
    image = assigned_image(team, team.inspector, inspector2)
    annotate(team.inspector, image, square(x=10))
    annotate(inspector2, image, square(x=30))
    submit_all(image, team.inspector, inspector2)
    counts = (Agreement.objects.count(), Adjudication.objects.count(), AuditEntry.objects.count())
    # when
    with django_assert_max_num_queries(3):
        image_submitted(image_id=image.pk)
    # then
    assert (Agreement.objects.count(), Adjudication.objects.count(), AuditEntry.objects.count()) == counts


def test_a_task_for_a_deleted_image_does_nothing(db):
    # when / then: no exception
    image_submitted(image_id=987654)
