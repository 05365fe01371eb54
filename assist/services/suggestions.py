"""An inspector's answers to pre-labels, and the start of their time on an image.

Accepting a pre-label makes it the inspector's own annotation through annotation's services (revisions, audit,
size rules, budget as for anything drawn), with source "model" and a provenance naming the engine, its score and
the suggestion; the decision keeps the link, so statistics compare what was suggested with what was kept."""

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from annotation.models import Annotation, AnnotationSource
from annotation.permissions import Capability
from annotation.selectors import image_get_for_user
from annotation.services.annotations import annotation_create
from assist.engines.trained import FAMILY as MODEL_FAMILY
from assist.errors import SuggestionDecided
from assist.models import DecisionKind, ImageVisit, Suggestion, SuggestionDecision
from assist.selectors import suggestion_get_for_user


def _decidable(*, user: User, suggestion_id: int) -> Suggestion:
    suggestion, _ = suggestion_get_for_user(user=user, suggestion_id=suggestion_id)
    decision = SuggestionDecision.objects.filter(suggestion=suggestion, user=user).first()
    if decision is not None:
        raise SuggestionDecided(f"You already {decision.get_decision_display().lower()} this suggestion.")
    if suggestion.is_superseded:
        raise SuggestionDecided("A newer pre-label of this image replaced this suggestion; reload the image.")
    return suggestion


def _decide(*, suggestion: Suggestion, user: User, decision: str, annotation: Annotation | None) -> None:
    try:
        with transaction.atomic():
            SuggestionDecision.objects.create(
                suggestion=suggestion, user=user, decision=decision, annotation=annotation
            )
    except IntegrityError:  # a second tab decided it at the same moment
        raise SuggestionDecided("You already decided this suggestion.") from None


def suggestion_provenance(suggestion: Suggestion) -> dict[str, Any]:
    """What the annotation made from a pre-label records of how it was made (Annotation.provenance)."""
    provenance: dict[str, Any] = {
        "engine": suggestion.engine,
        "score": suggestion.score,
        "suggestion_id": suggestion.pk,
        "job_id": suggestion.job_id,
    }
    family, _, key = suggestion.engine.partition("-")
    if family == MODEL_FAMILY and key.isdigit():  # a trained model's pre-label names the model in the registry
        provenance["model_id"] = int(key)
    return provenance


@transaction.atomic
def suggestion_accept(
    *,
    user: User,
    suggestion_id: int,
    defect_class_id: int | None = None,
    severity_id: int | None = None,
) -> Annotation:
    """Keep a pre-label as the user's own annotation (its class, or `defect_class_id`). Refused as drawing would
    be (404, 403, already_submitted, defect_too_small...); 409 suggestion_decided when already decided."""
    suggestion = _decidable(user=user, suggestion_id=suggestion_id)
    annotation = annotation_create(
        user=user,
        image_id=suggestion.image_id,
        defect_class_id=defect_class_id or suggestion.defect_class_id,
        severity_id=severity_id,
        geometry_data=suggestion.geometry,
        source=AnnotationSource.MODEL,
        provenance=suggestion_provenance(suggestion),
    )
    _decide(suggestion=suggestion, user=user, decision=DecisionKind.ACCEPTED, annotation=annotation)
    return annotation


@transaction.atomic
def suggestion_reject(*, user: User, suggestion_id: int) -> Suggestion:
    """Delete a pre-label from the user's view (it stays, decided, for the statistics)."""
    suggestion = _decidable(user=user, suggestion_id=suggestion_id)
    _decide(suggestion=suggestion, user=user, decision=DecisionKind.REJECTED, annotation=None)
    return suggestion


def image_visit_record(*, user: User, image_id: int) -> ImageVisit:
    """Note when the user first opened the image to work on it (later openings keep the first time)."""
    image, _ = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    visit, _ = ImageVisit.objects.get_or_create(image=image, user=user)
    return visit
