"""Label next and label-error review: the project's promoted model scores images as jobs, and seniors act on
the scores.

- Label next (`assist_label_next`): every image nobody has labelled yet gets the model's uncertainty
  (assist/label_review.py); new work is assigned in that order (annotation's `image_ids_next_to_assign` reads
  it through DEFECTLAB_LABEL_NEXT_RANKING, since annotation imports no other app), so it is what inspectors
  find next in their queues.
- Label-error review (`assist_label_errors`): every final image gets cleanlab's label quality against the
  model's probabilities and what the model drew; seniors go through the worst first, and either keep the label
  or send the image to QA's consensus review: annotation's `final_answer_doubt` announces it
  (FINAL_ANSWER_DOUBTED) and qa opens an edge case, which seniors decide on the QA page (assist imports no qa).

The `*_score` functions take a Predictor, so they run (and are tested) without the registry; the jobs load the
promoted model they were started with (services/promoted_model.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation import geometry
from annotation.models import Annotation, DefectClass, Image, ImageStatus, Project
from annotation.services.reviews import final_answer_doubt
from assist.errors import LabelErrorDecided
from assist.job_kinds import LABEL_ERRORS_JOB_KIND, LABEL_NEXT_JOB_KIND
from assist.label_review import label_quality_of, uncertainty_of
from assist.label_review_selectors import images_to_label, label_error_get_for_review
from assist.models import LabelErrorScore, LabelErrorStatus, LabelNextScore
from assist.outlines import mask_outline
from assist.permissions import AssistAction, project_get_for_assist
from assist.services.pixels import image_pixels
from assist.services.promoted_model import promoted_model_id, promoted_model_load
from assist.training.decision import decision_apply
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import Job
from defectlab.jobs.services import job_start

if TYPE_CHECKING:  # torch and onnxruntime load with a predictor, in the scoring job, not in web processes
    from assist.training.export import Predictor

IMAGE_CHUNK = 100  # images read from the database at a time while scoring
# The probabilities of a whole image are held at once (float32 per class and pixel: 25 MP x 6 classes is 600 MB,
# and the scores take about as much again): larger images are skipped, and counted in the job's result.
SCORE_MAX_IMAGE_PX = 25_000_000


def _start(*, user: User, project_id: int, kind: str) -> Job:
    project, _ = project_get_for_assist(user=user, project_id=project_id, action=AssistAction.REVIEW_LABELS)
    model_id = promoted_model_id(project=project)  # 409 no_promoted_model before a job exists
    return job_start(kind=kind, project=project, created_by=user, params={"model_id": model_id})


def label_next_start(*, user: User, project_id: int) -> Job:
    """Rank the project's unlabelled images by the promoted model's uncertainty, as a job. Seniors and admins
    (403; 404 outside one's projects); 409 no_promoted_model without a promoted model."""
    return _start(user=user, project_id=project_id, kind=LABEL_NEXT_JOB_KIND)


def label_errors_start(*, user: User, project_id: int) -> Job:
    """Score the project's final annotations against the promoted model, as a job. Roles as label_next_start."""
    return _start(user=user, project_id=project_id, kind=LABEL_ERRORS_JOB_KIND)


def _project_of(job: JobContext) -> Project:
    if job.project_id is None:
        raise ValueError(f"A {job.kind} job names no project.")  # _start always sets one
    return Project.objects.get(pk=job.project_id)


def label_next_run(*, job: JobContext) -> dict[str, Any]:
    project = _project_of(job)
    model = promoted_model_load(project=project, model_id=job.params["model_id"])
    return label_next_score(project=project, predictor=model.predictor, model_id=model.model_id, job=job)


def label_errors_run(*, job: JobContext) -> dict[str, Any]:
    project = _project_of(job)
    model = promoted_model_load(project=project, model_id=job.params["model_id"])
    return label_errors_score(project=project, predictor=model.predictor, model_id=model.model_id, job=job)


def _progress(job: JobContext | None, done: int, total: int, message: str) -> None:
    if job is not None:
        job.check_cancelled()
        job.progress(done, total, message)


def label_next_score(
    *, project: Project, predictor: Predictor, model_id: int | None, job: JobContext | None = None
) -> dict[str, Any]:
    """Score every image to label with `predictor`, replacing each one's earlier score; images over
    SCORE_MAX_IMAGE_PX are skipped (counted)."""
    images = images_to_label(project=project).order_by("id")
    total, too_large = images.count(), 0
    _progress(job, 0, total, f"Scoring {total} unlabelled images")
    for index, image in enumerate(images.iterator(chunk_size=IMAGE_CHUNK)):
        if image.width * image.height > SCORE_MAX_IMAGE_PX:
            too_large += 1
            continue
        probabilities, _ = predictor.probabilities(image_pixels(image))
        uncertainty = uncertainty_of(probabilities)
        LabelNextScore.objects.update_or_create(
            image=image,
            defaults={
                "project": project,
                "model_id": model_id,
                "job_id": job.job_id if job is not None else None,
                "score": uncertainty.score,
                "mean_entropy": uncertainty.mean_entropy,
                "defect_region_px": uncertainty.defect_region_px,
                "predicted_defect_px": uncertainty.predicted_defect_px,
            },
        )
        _progress(job, index + 1, total, f"Scored {index + 1} of {total} unlabelled images")
    return {"model_id": model_id, "images": total - too_large, "skipped_too_large": too_large}


def _prediction_json(
    predictor: Predictor, probabilities: np.ndarray, image_probability: float, classes: dict[str, DefectClass]
) -> list[dict[str, Any]]:
    """The regions the model would report (its decision: minimum sizes and threshold), outlined per class."""
    mask, _ = decision_apply(probabilities, image_probability if predictor.has_image_head else None, predictor.decision)
    drawn = []
    for index, name in enumerate(predictor.defect_classes, start=1):
        defect_class = classes.get(name)
        if defect_class is None or not (mask == index).any():
            continue
        polygons = mask_outline(mask == index, geometry_kind=defect_class.geometry_kind)
        drawn.append({"defect_class_id": defect_class.pk, "geometry": geometry.polygons_to_json(polygons)})
    return drawn


def _fingerprint(annotations: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(row["annotation_id"], row["revision"]) for row in annotations}


def label_errors_score(
    *, project: Project, predictor: Predictor, model_id: int | None, job: JobContext | None = None
) -> dict[str, Any]:
    """Score every final image's annotations with `predictor`. Images with a final annotation of a class the
    model does not know are skipped (counted): the model cannot judge it; so are images over SCORE_MAX_IMAGE_PX.
    A senior's decision on an image stays
    while its final annotations are the ones decided on; changed ones open the entry again."""
    classes = {defect_class.name: defect_class for defect_class in DefectClass.objects.filter(project=project)}
    class_index = {classes[name].pk: index for index, name in enumerate(predictor.defect_classes, 1) if name in classes}
    images = Image.objects.filter(project=project, status=ImageStatus.FINAL).order_by("id")
    total, scored, skipped, too_large = images.count(), 0, 0, 0
    _progress(job, 0, total, f"Checking the final annotations of {total} images")
    for index, image in enumerate(images.iterator(chunk_size=IMAGE_CHUNK)):
        finals = list(
            Annotation.objects.filter(image=image, is_final=True)
            .order_by("id")
            .only("pk", "revision", "defect_class_id", "rle")
        )
        if image.width * image.height > SCORE_MAX_IMAGE_PX:
            too_large += 1
        elif any(annotation.defect_class_id not in class_index for annotation in finals):
            skipped += 1
        else:
            _label_error_write(image, finals, predictor, classes, class_index, model_id=model_id, job=job)
            scored += 1
        _progress(job, index + 1, total, f"Checked {index + 1} of {total} final images")
    return {"model_id": model_id, "images": scored, "skipped_unknown_class": skipped, "skipped_too_large": too_large}


def _label_error_write(
    image: Image,
    finals: list[Annotation],
    predictor: Predictor,
    classes: dict[str, DefectClass],
    class_index: dict[int, int],
    *,
    model_id: int | None,
    job: JobContext | None,
) -> None:
    masks = [
        (geometry.rle_decode(annotation.rle).astype(bool), class_index[annotation.defect_class_id])
        for annotation in finals
    ]
    probabilities, image_probability = predictor.probabilities(image_pixels(image))
    quality = label_quality_of(probabilities, masks)
    rows = sorted(
        (
            {
                "annotation_id": annotation.pk,
                "revision": annotation.revision,
                "defect_class_id": annotation.defect_class_id,
                "self_confidence": agreement.self_confidence,
                "area_px": agreement.area_px,
            }
            for annotation, agreement in zip(finals, quality.annotations, strict=True)
        ),
        key=lambda row: (row["self_confidence"], row["annotation_id"]),
    )
    values: dict[str, Any] = {
        "project_id": image.project_id,
        "model_id": model_id,
        "job_id": job.job_id if job is not None else None,
        "score": quality.score,
        "annotations": rows,
        "prediction": _prediction_json(predictor, probabilities, image_probability, classes),
        "unlabelled_defect_px": quality.unlabelled_defect_px,
        "disagreeing_px": quality.disagreeing_px,
    }
    with transaction.atomic():
        earlier = LabelErrorScore.objects.select_for_update().filter(image=image).first()
        if earlier is not None and _fingerprint(earlier.annotations) != _fingerprint(rows):
            values.update(status=LabelErrorStatus.OPEN, decided_by=None, decided_at=None, comment="")
        LabelErrorScore.objects.update_or_create(image=image, defaults=values)


@transaction.atomic
def label_error_decide(*, user: User, label_error_id: int, outcome: str, comment: str = "") -> LabelErrorScore:
    """A senior's answer to one entry of the label-error queue, `outcome`: `kept` (the label is right) or
    `flagged` (the image goes to QA's consensus review, an edge case in the senior's name whose note gives the
    model's scores and `comment`; QA opens it once this commits). NotFound outside one's projects, 403 for roles
    other than senior and admin, 409 once decided, 400 when the image is no longer final."""
    entry = label_error_get_for_review(user=user, label_error_id=label_error_id, lock=True)
    if entry.status != LabelErrorStatus.OPEN:
        raise LabelErrorDecided(f"This entry is already decided ({entry.get_status_display().lower()}).")
    if outcome == LabelErrorStatus.FLAGGED:
        worst = entry.annotations[0]["self_confidence"] if entry.annotations else None
        doubt = f"the model gives the least sure annotation {worst:.0%}" if worst is not None else "judged defect-free"
        note = (
            f"Label-error review: the model disagrees with the final answer (label quality {entry.score:.3f}; "
            f"{doubt}; {entry.unlabelled_defect_px} px it sees as defect are unlabelled)."
        )
        final_answer_doubt(user=user, image_id=entry.image_id, note=f"{note} {comment.strip()}".strip())
    elif outcome != LabelErrorStatus.KEPT:
        raise ValidationFailed(f"Decide 'kept' or 'flagged', not {outcome!r}.")
    entry.status, entry.decided_by, entry.decided_at = outcome, user, timezone.now()
    entry.comment = comment.strip()
    entry.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    return entry
