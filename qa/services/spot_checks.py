"""Spot checks after calibration: an auditable random sample of single-annotated work, accepted or returned."""

from collections.abc import Sequence
from functools import partial
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotation.models import Annotation, Assignment, AssignmentStatus, Image, ImageStatus, Project
from annotation.services.reviews import FinalDefect, annotations_finalize, assignment_return, images_review_start
from defectlab.errors import ValidationFailed
from qa.errors import AlreadyDecided, CalibrationIncomplete, NothingToSample
from qa.models import SpotCheck, SpotCheckSample, SpotCheckStatus
from qa.sampling import seed_new, spot_check_draw
from qa.selectors import (
    annotator_work_for_image,
    calibration_progress,
    spot_check_get_for_review,
    spot_check_population_for_project,
)
from qa.services.choices import DefectChoice, final_defects_from
from qa.services.policies import qa_policy_current
from qa.tasks import spot_check_sample_release_task


@transaction.atomic
def spot_check_sample_draw(*, user: User, project: Project, seed: int | None = None) -> SpotCheckSample:
    """Draw the policy's share of the submitted single-annotated images not drawn from before. The drawn ones wait
    in the spot-check queue; the rest are made final by a task after commit. Seed, rate and population are
    recorded, so anyone can repeat the draw (qa/sampling.py)."""
    policy = qa_policy_current(project=project, lock=True)  # one draw at a time per project
    progress = calibration_progress(project=project, policy=policy)
    if not progress.is_complete:
        raise CalibrationIncomplete(
            f"Spot checks start after calibration: {progress.compared_images} of {progress.target_images} "
            "dual-annotated images are compared.",
            compared_images=progress.compared_images,
            target_images=progress.target_images,
        )
    population = spot_check_population_for_project(project=project)
    if not population:
        raise NothingToSample("No submitted single-annotated images are waiting for a draw.")
    seed = seed_new() if seed is None else seed
    drawn = spot_check_draw(population, rate=policy.spot_check_rate, seed=seed)
    sample = SpotCheckSample.objects.create(
        project=project,
        policy=policy,
        seed=seed,
        rate=policy.spot_check_rate,
        population_image_ids=population,
        drawn_image_ids=drawn,
        drawn_by=user,
    )
    sample.population.set(population)
    annotator_of = dict(
        Assignment.objects.filter(image_id__in=drawn, status=AssignmentStatus.SUBMITTED).values_list(
            "image_id", "annotator_id"
        )
    )
    SpotCheck.objects.bulk_create(
        SpotCheck(sample=sample, image_id=image_id, annotator_id=annotator_of.get(image_id)) for image_id in drawn
    )
    images_review_start(image_ids=drawn)
    transaction.on_commit(partial(spot_check_sample_release_task.delay, sample_id=sample.pk))
    return sample


def spot_check_sample_release(*, sample_id: int) -> int:
    """Make final the work on the images the sample did not draw (they pass without a check); returns how many.
    Safe to run twice: only images still `submitted` are touched."""
    sample = SpotCheckSample.objects.filter(pk=sample_id).first()
    if sample is None:
        return 0
    passed = set(sample.population_image_ids) - set(sample.drawn_image_ids)
    released = 0
    for image in Image.objects.filter(pk__in=passed, status=ImageStatus.SUBMITTED).order_by("id"):
        with transaction.atomic():
            image = Image.objects.select_for_update().get(pk=image.pk)
            if image.status != ImageStatus.SUBMITTED:
                continue
            annotator_id = image.assignments.values_list("annotator_id", flat=True).first()
            work = annotator_work_for_image(image=image, annotator_id=annotator_id)
            annotations_finalize(
                image=image, defects=[FinalDefect(source=annotation) for annotation in work], actor=None
            )
            released += 1
    return released


def _pending(spot_check: SpotCheck) -> None:
    if spot_check.status != SpotCheckStatus.PENDING:
        raise AlreadyDecided(f"This spot check was already {spot_check.status}.", status=spot_check.status)


def _reviewer_edits(
    work: Sequence[Annotation], finals: Sequence[FinalDefect], created: Sequence[Annotation]
) -> list[dict[str, Any]]:
    """The reviewer's changes, recorded apart from the annotator's work (which is not touched)."""
    edits = [
        {
            "source_annotation_id": final.source.pk if final.source else None,
            "final_annotation_id": row.pk,
            "changes": final.changes,
        }
        for final, row in zip(finals, created, strict=True)
        if final.changes
    ]
    kept = {final.source.pk for final in finals if final.source is not None}
    edits += [
        {"source_annotation_id": annotation.pk, "final_annotation_id": None, "changes": ["removed"]}
        for annotation in work
        if annotation.pk not in kept
    ]
    return edits


@transaction.atomic
def spot_check_accept(*, user: User, spot_check_id: int, defects: Sequence[DefectChoice] | None = None) -> SpotCheck:
    """Accept the annotator's work as the final answer, or (with `defects`) the reviewer's corrected version of it.
    The reviewer's edits are recorded on the spot check; the annotator's annotations stay as they were."""
    spot_check = spot_check_get_for_review(user=user, spot_check_id=spot_check_id, lock=True)
    _pending(spot_check)
    work = annotator_work_for_image(image=spot_check.image, annotator_id=spot_check.annotator_id)
    finals = (
        [FinalDefect(source=annotation) for annotation in work]
        if defects is None
        else final_defects_from(defects, sources=work)
    )
    created = annotations_finalize(image=spot_check.image, defects=finals, actor=user)
    spot_check.status, spot_check.reviewer, spot_check.decided_at = SpotCheckStatus.ACCEPTED, user, timezone.now()
    spot_check.reviewer_edits = _reviewer_edits(work, finals, created)
    spot_check.save(update_fields=["status", "reviewer", "decided_at", "reviewer_edits"])
    return spot_check


@transaction.atomic
def spot_check_reject(*, user: User, spot_check_id: int, comment: str) -> SpotCheck:
    """Return the image to its annotator's queue with the comment; their resubmission is checked again."""
    spot_check = spot_check_get_for_review(user=user, spot_check_id=spot_check_id, lock=True)
    _pending(spot_check)
    if not comment.strip():
        raise ValidationFailed("Say what to fix: a rejection needs a comment.")
    assignment_return(image=spot_check.image, annotator=cast(User, spot_check.annotator), comment=comment, actor=user)
    spot_check.status, spot_check.reviewer, spot_check.decided_at = SpotCheckStatus.REJECTED, user, timezone.now()
    spot_check.comment = comment
    spot_check.save(update_fields=["status", "reviewer", "decided_at", "comment"])
    return spot_check


def spot_check_requeue(*, image: Image, annotator_id: int) -> SpotCheck | None:
    """A returned image came back from its annotator: it waits for a new check in the same sample."""
    rejected = SpotCheck.objects.filter(image=image, status=SpotCheckStatus.REJECTED).order_by("-id").first()
    if rejected is None or SpotCheck.objects.filter(image=image, status=SpotCheckStatus.PENDING).exists():
        return None
    spot_check = SpotCheck.objects.create(sample_id=rejected.sample_id, image=image, annotator_id=annotator_id)
    images_review_start(image_ids=[image.pk])
    return spot_check
