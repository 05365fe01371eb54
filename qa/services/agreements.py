"""Dual annotation: once both annotators submitted, compare their work; agreement makes it final, disagreement
queues an adjudication."""

from django.db import transaction

from annotation.models import Annotation, AssignmentStatus, Image, ImageStatus
from annotation.services.reviews import FinalDefect, annotations_finalize, images_review_start
from qa.agreement import Defect, image_agreement
from qa.models import Adjudication, Agreement, AgreementPhase, DefectMatch
from qa.selectors import calibration_progress, dual_work_for_image
from qa.services.policies import agreement_rules_of, qa_policy_current
from qa.services.spot_checks import spot_check_requeue


def defect_of(annotation: Annotation) -> Defect:
    return Defect(
        key=annotation.pk,
        defect_class_id=annotation.defect_class_id,
        rle=annotation.rle,
        bbox=(annotation.bbox_x, annotation.bbox_y, annotation.bbox_width, annotation.bbox_height),
        severity_rank=annotation.severity.rank if annotation.severity is not None else None,
    )


@transaction.atomic
def image_submitted(*, image_id: int) -> None:
    """Every assignment of the image is submitted: compare a dual annotation, or put returned-and-fixed work back
    in the spot-check queue. Safe to run twice: only an image still `submitted` is handled."""
    image = Image.objects.select_for_update().select_related("project").filter(pk=image_id).first()
    if image is None or image.status != ImageStatus.SUBMITTED:
        return  # deleted, or handled already (a redelivered task)
    annotator_ids = list(
        image.assignments.filter(status=AssignmentStatus.SUBMITTED)
        .order_by("id")
        .values_list("annotator_id", flat=True)
    )
    if len(annotator_ids) >= 2:
        agreement_compute(image=image, first_annotator_id=annotator_ids[0], second_annotator_id=annotator_ids[1])
    elif len(annotator_ids) == 1:
        spot_check_requeue(image=image, annotator_id=annotator_ids[0])


@transaction.atomic
def agreement_compute(*, image: Image, first_annotator_id: int, second_annotator_id: int) -> Agreement:
    """Compare A's and B's work under the current policy. The first `calibration_image_count` comparisons of a
    project are its calibration. Agreed work is made final from A's copy (both are within the thresholds);
    a disagreement goes to the adjudication queue and the image is in review."""
    policy = qa_policy_current(project=image.project, lock=True)  # calibration counting takes turns here
    existing = Agreement.objects.filter(image=image).first()
    if existing is not None:
        return existing  # compared once; its decision is history (a third annotator's work is not compared)
    progress = calibration_progress(project=image.project, policy=policy)
    first, second = dual_work_for_image(
        image=image, first_annotator_id=first_annotator_id, second_annotator_id=second_annotator_id
    )
    result = image_agreement([defect_of(a) for a in first], [defect_of(a) for a in second], agreement_rules_of(policy))
    agreement = Agreement.objects.create(
        image=image,
        project=image.project,
        policy=policy,
        phase=AgreementPhase.ONGOING if progress.is_complete else AgreementPhase.CALIBRATION,
        first_annotator_id=first_annotator_id,
        second_annotator_id=second_annotator_id,
        is_agreed=result.is_agreed,
        is_image_judgement_agreed=result.is_image_judgement_agreed,
        reasons=[str(reason) for reason in result.reasons],
        mean_iou=result.mean_iou,
    )
    DefectMatch.objects.bulk_create(
        DefectMatch(
            agreement=agreement,
            first_annotation_id=match.first_key,
            second_annotation_id=match.second_key,
            first_defect_class_id=match.first_class_id,
            second_defect_class_id=match.second_class_id,
            is_matched=match.is_matched,
            measure=match.measure,
            iou=match.iou,
            iou_threshold=match.iou_threshold,
            severity_distance=match.severity_distance,
            reasons=[str(reason) for reason in match.reasons],
            is_agreed=match.is_agreed,
        )
        for match in result.matches
    )
    if result.is_agreed:
        annotations_finalize(image=image, defects=[FinalDefect(source=annotation) for annotation in first], actor=None)
    else:
        Adjudication.objects.create(agreement=agreement)
        images_review_start(image_ids=[image.pk])
    return agreement
