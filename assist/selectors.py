"""Reads: which engines a project gets, the suggestions waiting for an inspector, and the assist's statistics.

Annotation rows are read here (assist may import annotation); they are written only through annotation's
services (assist/services/suggestions.py)."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotation.models import Annotation, AnnotationSource, Assignment, AssignmentStatus, Image, ImageStatus, Project
from annotation.permissions import Capability
from annotation.selectors import image_get_for_user
from assist.engines.base import engine_can_prelabel, engine_names
from assist.engines.sam import ENGINE_NAME as SAM_ENGINE_NAME
from assist.engines.sam import sam_unavailable_reason
from assist.models import ImageVisit, Suggestion, SuggestionDecision, SuggestionOrigin
from assist.statistics import (
    AssistStatistics,
    OutcomeRow,
    WorkTimeRow,
    assist_statistics,
    suggestion_compare,
)
from defectlab.errors import NotFound

# Engines a project prefers, best first, after its own trained model (trained_model_engine_for_project). A name
# matches an entry equal to it or starting with it and "-" or "_" ("sam-vit_t" is a "sam"). Engines named by
# nothing here (a plant's own, through DEFECTLAB_ASSIST_ENGINE_MODULES) come after them, by name.
ENGINE_PREFERENCE = ("sam", "classical")


def trained_model_engine_for_project(*, project: Project) -> str | None:
    """The hook for "a trained model is preferred when its quality is better": the engine name of the project's
    trained model when its measured quality (held-out mask IoU, docs/assist-quality.md) beats the best other
    engine's on the same data; None while there is none. Training (assist/training) registers its exported
    models as engines and fills this in; nothing else changes, since every caller chooses through here."""
    return None


def _rank(name: str) -> tuple[int, str]:
    for index, prefix in enumerate(ENGINE_PREFERENCE):
        if name == prefix or name.startswith((f"{prefix}-", f"{prefix}_")):
            return index, name
    return len(ENGINE_PREFERENCE), name


def engine_preferred(*, project: Project, names: list[str], for_prelabel: bool = False) -> str | None:
    """The engine this project's inspectors get unless they name one (None: no engine can do it here).
    `for_prelabel`: among the engines that find defects with no prompt."""
    candidates = [name for name in names if engine_can_prelabel(name)] if for_prelabel else list(names)
    trained = trained_model_engine_for_project(project=project)
    if trained is not None and trained in candidates:
        return trained
    return min(candidates, key=_rank, default=None)


@dataclass(frozen=True)
class EngineChoice:
    name: str
    can_prelabel: bool
    is_preferred: bool


@dataclass(frozen=True)
class UnavailableEngine:
    name: str
    reason: str


@dataclass(frozen=True)
class ProjectEngines:
    engines: list[EngineChoice]
    unavailable: list[UnavailableEngine]  # known but not runnable here (SAM before its checkpoint is installed)
    preferred: str | None  # for the editor's assist tools
    prelabel_engine: str | None  # what a pre-label job would use; None: pre-labels are refused (409)


def engines_for_project(*, project: Project) -> ProjectEngines:
    names = engine_names()
    preferred = engine_preferred(project=project, names=names)
    return ProjectEngines(
        engines=[
            EngineChoice(name=name, can_prelabel=engine_can_prelabel(name), is_preferred=name == preferred)
            for name in sorted(names, key=_rank)
        ],
        unavailable=_unavailable_engines(),
        preferred=preferred,
        prelabel_engine=engine_preferred(project=project, names=names, for_prelabel=True),
    )


def _unavailable_engines() -> list[UnavailableEngine]:
    reason = sam_unavailable_reason()
    return [] if reason is None else [UnavailableEngine(name=SAM_ENGINE_NAME, reason=reason)]


# Suggestions waiting for an inspector


def suggestion_list_pending_for_user(*, user: AbstractBaseUser, image_id: int) -> QuerySet[Suggestion]:
    """The image's pre-labels the user has not decided yet (NotFound where they may not label the image, as for
    its annotations). Assist answers are not listed: the editor that asked holds them."""
    image, _ = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    decided = SuggestionDecision.objects.filter(suggestion=OuterRef("pk"), user=user)
    return (
        Suggestion.objects.filter(image=image, origin=SuggestionOrigin.PRELABEL, is_superseded=False)
        .exclude(Exists(decided))
        .order_by("-score", "id")
    )


def suggestion_get_for_user(*, user: AbstractBaseUser, suggestion_id: int) -> tuple[Suggestion, str]:
    """A pre-label the user may decide, with their role: NotFound for anyone who may not label its image."""
    suggestion = (
        Suggestion.objects.select_related("image", "defect_class")
        .filter(pk=suggestion_id, origin=SuggestionOrigin.PRELABEL)
        .first()
    )
    if suggestion is None:
        raise NotFound("No such suggestion.")
    try:
        _, role = image_get_for_user(user=user, image_id=suggestion.image_id, capability=Capability.LABEL)
    except NotFound:
        raise NotFound("No such suggestion.") from None
    return suggestion, role


# Statistics

SETTLED_IMAGE_STATUSES = (ImageStatus.SUBMITTED, ImageStatus.IN_REVIEW, ImageStatus.FINAL)


@dataclass(frozen=True)
class _Kept:
    geometry: dict
    rle: dict
    defect_class_id: int


def _settled_pairs(*, project: Project) -> tuple[set[tuple[int, int]], set[int], dict[tuple[int, int], object]]:
    """((user, image) pairs whose assignment is submitted, images past submission, submission time per pair)."""
    submitted = Assignment.objects.filter(
        image__project=project, status=AssignmentStatus.SUBMITTED, submitted_at__isnull=False
    ).values_list("annotator_id", "image_id", "submitted_at")
    submitted_at = {(user_id, image_id): at for user_id, image_id, at in submitted}
    settled_images = set(
        Image.objects.filter(project=project, status__in=SETTLED_IMAGE_STATUSES).values_list("pk", flat=True)
    )
    return set(submitted_at), settled_images, submitted_at


def _kept_by_suggestion(*, project: Project) -> dict[int, tuple[int, int, _Kept]]:
    """suggestion id -> (author, image, the annotation made from it), for assisted and model annotations whose
    provenance names a suggestion (the oldest one, should a copy carry the same provenance)."""
    rows = (
        Annotation.objects.filter(
            image__project=project,
            source__in=[AnnotationSource.ASSISTED, AnnotationSource.MODEL],
            provenance__has_key="suggestion_id",
        )
        .order_by("id")
        .values_list("author_id", "image_id", "provenance", "geometry", "rle", "defect_class_id")
    )
    kept: dict[int, tuple[int, int, _Kept]] = {}
    for author_id, image_id, provenance, geometry, rle, class_id in rows:
        suggestion_id = provenance.get("suggestion_id") if isinstance(provenance, dict) else None
        if isinstance(suggestion_id, int) and suggestion_id not in kept:
            kept[suggestion_id] = (author_id, image_id, _Kept(geometry=geometry, rle=rle, defect_class_id=class_id))
    return kept


def assist_statistics_for_project(*, project: Project) -> AssistStatistics:
    """Acceptance, IoU and vertex changes per class and per engine, and time per image with and without the
    assist, over settled work (definitions: assist/statistics.py)."""
    settled, settled_images, submitted_at = _settled_pairs(project=project)

    def is_settled(user_id: int | None, image_id: int) -> bool:
        return user_id is not None and ((user_id, image_id) in settled or image_id in settled_images)

    suggestions = {
        row["pk"]: row
        for row in Suggestion.objects.filter(project=project)
        .filter(Q(origin=SuggestionOrigin.ASSIST, is_superseded=False) | Q(origin=SuggestionOrigin.PRELABEL))
        .values(
            "pk",
            "origin",
            "image_id",
            "requested_by_id",
            "engine",
            "defect_class_id",
            "defect_class__name",
            "geometry",
            "rle",
            "is_superseded",
            "created_at",
        )
    }
    kept = _kept_by_suggestion(project=project)
    engines_used: dict[tuple[int, int], set[str]] = defaultdict(set)
    outcomes: list[OutcomeRow] = []

    def add(suggestion: dict, final: _Kept | None) -> None:
        comparison = suggestion_compare(
            suggested_geometry=suggestion["geometry"],
            suggested_rle=suggestion["rle"],
            suggested_class_id=suggestion["defect_class_id"],
            final_geometry=final.geometry if final else None,
            final_rle=final.rle if final else None,
            final_class_id=final.defect_class_id if final else None,
        )
        outcomes.append(
            OutcomeRow(
                engine=suggestion["engine"],
                defect_class=suggestion["defect_class__name"],
                origin=suggestion["origin"],
                comparison=comparison,
            )
        )

    for suggestion in suggestions.values():
        if suggestion["origin"] != SuggestionOrigin.ASSIST:
            continue
        user_id, image_id = suggestion["requested_by_id"], suggestion["image_id"]
        engines_used[(user_id, image_id)].add(suggestion["engine"])
        if is_settled(user_id, image_id):
            found = kept.get(suggestion["pk"])
            add(suggestion, found[2] if found and found[:2] == (user_id, image_id) else None)

    decided: set[tuple[int, int]] = set()
    decisions = SuggestionDecision.objects.filter(suggestion__project=project).values_list(
        "suggestion_id", "user_id", "decision", "annotation_id"
    )
    accepted_ids = [annotation_id for *_, annotation_id in decisions if annotation_id is not None]
    accepted = {
        pk: _Kept(geometry=geometry, rle=rle, defect_class_id=class_id)
        for pk, geometry, rle, class_id in Annotation.objects.filter(pk__in=accepted_ids).values_list(
            "pk", "geometry", "rle", "defect_class_id"
        )
    }
    for suggestion_id, user_id, _, annotation_id in decisions:
        suggestion = suggestions[suggestion_id]
        decided.add((suggestion_id, user_id))
        engines_used[(user_id, suggestion["image_id"])].add(suggestion["engine"])
        if is_settled(user_id, suggestion["image_id"]):
            add(suggestion, accepted.get(annotation_id) if annotation_id is not None else None)
    # A pre-label its inspector left undecided when they submitted did not make it into their work: deleted.
    open_prelabels: dict[int, list[dict]] = defaultdict(list)
    for suggestion in suggestions.values():
        if suggestion["origin"] == SuggestionOrigin.PRELABEL and not suggestion["is_superseded"]:
            open_prelabels[suggestion["image_id"]].append(suggestion)
    for (user_id, image_id), at in submitted_at.items():
        for suggestion in open_prelabels.get(image_id, ()):
            if (suggestion["pk"], user_id) not in decided and suggestion["created_at"] < at:
                add(suggestion, None)

    opened = {
        (user_id, image_id): at
        for user_id, image_id, at in ImageVisit.objects.filter(image__project=project).values_list(
            "user_id", "image_id", "opened_at"
        )
    }
    times = [
        WorkTimeRow(seconds=(at - opened[pair]).total_seconds(), engines=frozenset(engines_used.get(pair, ())))
        for pair, at in submitted_at.items()
        if pair in opened
    ]
    return assist_statistics(outcomes, times)
