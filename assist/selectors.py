"""Reads: which engines a project gets, the suggestions waiting for an inspector, and the assist's statistics.

Annotation rows are read here (assist may import annotation); they are written only through annotation's
services (assist/services/suggestions.py)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotation.models import (
    Annotation,
    AnnotationSource,
    Assignment,
    AssignmentStatus,
    Image,
    ImageStatus,
    Project,
)
from annotation.permissions import Capability
from annotation.selectors import image_get_for_user
from assist.engines.base import engine_can_prelabel, engine_names
from assist.engines.sam import ENGINE_NAME as SAM_ENGINE_NAME
from assist.engines.sam import sam_manifest, sam_unavailable_reason
from assist.models import (
    ImageVisit,
    ModelKind,
    Suggestion,
    SuggestionDecision,
    SuggestionOrigin,
    TrainedModel,
    TrainingRun,
)
from assist.permissions import AssistAction, project_get_for_assist
from assist.statistics import (
    AssistStatistics,
    OutcomeRow,
    WorkTimeRow,
    assist_statistics,
    suggestion_compare,
)
from defectlab.errors import NotFound
from defectlab.jobs.models import JobStatus

# Engines a project prefers, best first. A name matches an entry equal to it or starting with it and "-" or "_"
# ("sam-vit_t" is a "sam", "model-12" a "model": the project's promoted model, engine_names_for_project). Engines
# named by nothing here (a plant's own, through DEFECTLAB_ASSIST_ENGINE_MODULES) come after them, by name. The
# project's interactive model ("interactive-<id>") goes first instead where its record beats the others
# (`interactive_model_is_better`).
ENGINE_PREFERENCE = ("sam", "model", "classical", "interactive")
QUALITY_MAX_CLICKS = 20  # the benchmark's NoC cap (assist/engines/quality.py MAX_CLICKS)


def trained_model_engine_for_project(*, project: Project) -> str | None:
    """The engine name ("model-<id>") of the project's promoted model when its files are on this server, else None.
    An admin promotes a model after reading its evaluation on held-out data; pre-labels use it first."""
    from assist.engines.trained import model_engine_name  # local: the engines package imports this module's peers
    from assist.services.models import model_is_usable

    model = model_promoted_for_project(project)
    return model_engine_name(model.pk) if model is not None and model_is_usable(model) else None


def interactive_model_for_project(*, project: Project) -> TrainedModel | None:
    """The project's promoted interactive model when its files are on this server, else None."""
    from assist.services.models import model_is_usable

    model = model_promoted_for_project(project, kind=ModelKind.INTERACTIVE)
    return model if model is not None and model_is_usable(model) else None


def assist_quality(metrics: dict[str, Any]) -> float:
    """One number per engine from the benchmark's scores: box IoU + 1 - NoC@85 / 20 (higher is better), the box
    tool's answer and the click tool's effort weighed equally, as the interactive training chooses its weights."""
    return float(metrics["box_mean_iou"]) + 1.0 - float(metrics["noc85"]) / QUALITY_MAX_CLICKS


def interactive_model_is_better(*, model: TrainedModel, names: list[str]) -> bool:
    """Whether the editor should use the interactive model before the other engines: its run scored it on the
    version's held-out regions beside the classical engine (and SAM where it was installed); it goes first when
    its `assist_quality` beats each of them. SAM installed since the run has no score there, so it keeps its place
    until a retrain records the comparison."""
    metrics = model.metrics
    baselines = metrics.get("baselines") or {}
    rivals = {_rank(name)[0] for name in names} & {ENGINE_PREFERENCE.index("sam"), ENGINE_PREFERENCE.index("classical")}
    try:
        quality = assist_quality(metrics)
        for rival in rivals:
            if assist_quality(baselines[ENGINE_PREFERENCE[rival]]) >= quality:
                return False
    except (KeyError, TypeError, ValueError):  # no record to compare with (a model from before the comparison)
        return False
    return True


def engine_names_for_project(*, project: Project) -> list[str]:
    """The engines this project's users may ask for: the registered ones and the project's promoted models (the
    segmentation model, "model-<id>", and the interactive one, "interactive-<id>")."""
    from assist.engines.interactive_model import interactive_engine_name

    names = engine_names()
    trained = trained_model_engine_for_project(project=project)
    interactive = interactive_model_for_project(project=project)
    extra = [trained] if trained is not None else []
    extra += [interactive_engine_name(interactive.pk)] if interactive is not None else []
    return sorted([*names, *extra]) if extra else names


def _rank(name: str) -> tuple[int, str]:
    for index, prefix in enumerate(ENGINE_PREFERENCE):
        if name == prefix or name.startswith((f"{prefix}-", f"{prefix}_")):
            return index, name
    return len(ENGINE_PREFERENCE), name


def engine_preferred(*, project: Project, names: list[str], for_prelabel: bool = False) -> str | None:
    """The engine this project's inspectors get unless they name one (None: no engine can do it here).
    `for_prelabel`: among the engines that find defects with no prompt, the promoted model first (it was trained
    on this project's defects). For the editor's box and clicks: the promoted interactive model where its record
    beats the others (`interactive_model_is_better`), else SAM, then the segmentation model, then classical."""
    candidates = [name for name in names if engine_can_prelabel(name)] if for_prelabel else list(names)
    trained = trained_model_engine_for_project(project=project) if for_prelabel else None
    if trained is not None and trained in candidates:
        return trained
    if not for_prelabel:
        from assist.engines.interactive_model import interactive_engine_name

        interactive = interactive_model_for_project(project=project)
        if interactive is not None and interactive_engine_name(interactive.pk) in candidates:
            others = [name for name in candidates if name != interactive_engine_name(interactive.pk)]
            if interactive_model_is_better(model=interactive, names=others):
                return interactive_engine_name(interactive.pk)
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
    sam_model_id: str | None  # the installed SAM's model id (the editor's decoder and embedding URLs); None: none


def engines_for_project(*, project: Project) -> ProjectEngines:
    names = engine_names_for_project(project=project)
    preferred = engine_preferred(project=project, names=names)
    return ProjectEngines(
        engines=[
            EngineChoice(name=name, can_prelabel=engine_can_prelabel(name), is_preferred=name == preferred)
            for name in sorted(names, key=lambda name: (name != preferred, _rank(name)))  # the preferred first
        ],
        unavailable=_unavailable_engines(),
        preferred=preferred,
        prelabel_engine=engine_preferred(project=project, names=names, for_prelabel=True),
        sam_model_id=_sam_model_id(),
    )


def _sam_model_id() -> str | None:
    manifest = sam_manifest()
    return manifest.model_id if manifest is not None and sam_unavailable_reason() is None else None


def _unavailable_engines() -> list[UnavailableEngine]:
    reason = sam_unavailable_reason()
    return [] if reason is None else [UnavailableEngine(name=SAM_ENGINE_NAME, reason=reason)]


# Suggestions waiting for an inspector


def suggestion_list_pending_for_user(*, user: User, image_id: int) -> QuerySet[Suggestion]:
    """The image's pre-labels the user has not decided yet (NotFound where they may not label the image, as for
    its annotations). Assist answers are not listed: the editor that asked holds them."""
    image, _ = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    decided = SuggestionDecision.objects.filter(suggestion=OuterRef("pk"), user=user)
    return (
        Suggestion.objects.filter(image=image, origin=SuggestionOrigin.PRELABEL, is_superseded=False)
        .exclude(Exists(decided))
        .order_by("-score", "id")
    )


def suggestion_get_for_user(*, user: User, suggestion_id: int) -> tuple[Suggestion, str]:
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
    geometry: dict[str, Any]
    rle: dict[str, Any]
    defect_class_id: int


@dataclass(frozen=True)
class _SuggestionRow:
    pk: int
    origin: str
    image_id: int
    requested_by_id: int | None
    engine: str
    defect_class_id: int
    defect_class: str
    geometry: dict[str, Any]
    rle: dict[str, Any]
    is_superseded: bool
    created_at: datetime
    prompt: dict[str, Any] | None


def _submitted_at(*, project: Project) -> dict[tuple[int, int], datetime]:
    """When each (user, image) assignment of the project was submitted, for those that are submitted now."""
    submitted = Assignment.objects.filter(
        image__project=project, status=AssignmentStatus.SUBMITTED, submitted_at__isnull=False
    ).values_list("annotator_id", "image_id", "submitted_at")
    return {(user_id, image_id): at for user_id, image_id, at in submitted if at is not None}


def _kept_by_suggestion(*, project: Project) -> dict[int, tuple[int | None, int, _Kept]]:
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
    kept: dict[int, tuple[int | None, int, _Kept]] = {}
    for author_id, image_id, provenance, geometry, rle, class_id in rows:
        suggestion_id = provenance.get("suggestion_id") if isinstance(provenance, dict) else None
        if isinstance(suggestion_id, int) and suggestion_id not in kept:
            kept[suggestion_id] = (author_id, image_id, _Kept(geometry=geometry, rle=rle, defect_class_id=class_id))
    return kept


def _suggestion_rows(*, project: Project) -> dict[int, _SuggestionRow]:
    """The project's suggestions that can count: assist answers not replaced, and every pre-label."""
    rows = (
        Suggestion.objects.filter(project=project)
        .filter(Q(origin=SuggestionOrigin.ASSIST, is_superseded=False) | Q(origin=SuggestionOrigin.PRELABEL))
        .values_list(
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
            "prompt",
        )
    )
    return {row[0]: _SuggestionRow(*row) for row in rows}


def _outcome(suggestion: _SuggestionRow, final: _Kept | None) -> OutcomeRow:
    comparison = suggestion_compare(
        suggested_geometry=suggestion.geometry,
        suggested_rle=suggestion.rle,
        suggested_class_id=suggestion.defect_class_id,
        final_geometry=final.geometry if final else None,
        final_rle=final.rle if final else None,
        final_class_id=final.defect_class_id if final else None,
    )
    prompt = suggestion.prompt if isinstance(suggestion.prompt, dict) else None
    clicks = None
    if suggestion.origin == SuggestionOrigin.ASSIST and prompt is not None:
        clicks = len(prompt.get("positive_clicks") or []) + len(prompt.get("negative_clicks") or [])
    return OutcomeRow(
        engine=suggestion.engine,
        defect_class=suggestion.defect_class,
        origin=suggestion.origin,
        comparison=comparison,
        clicks=clicks,
    )


def assist_statistics_for_project(*, project: Project) -> AssistStatistics:
    """Acceptance, IoU and vertex changes per class and per engine, and time per image with and without the
    assist, over settled work (definitions: assist/statistics.py)."""
    submitted_at = _submitted_at(project=project)
    settled_images = set(
        Image.objects.filter(project=project, status__in=SETTLED_IMAGE_STATUSES).values_list("pk", flat=True)
    )

    def is_settled(user_id: int | None, image_id: int) -> bool:
        return user_id is not None and ((user_id, image_id) in submitted_at or image_id in settled_images)

    suggestions = _suggestion_rows(project=project)
    kept = _kept_by_suggestion(project=project)
    engines_used: dict[tuple[int, int], set[str]] = defaultdict(set)
    outcomes: list[OutcomeRow] = []
    for suggestion in suggestions.values():
        user_id, image_id = suggestion.requested_by_id, suggestion.image_id
        if suggestion.origin != SuggestionOrigin.ASSIST or user_id is None:
            continue
        engines_used[(user_id, image_id)].add(suggestion.engine)
        if is_settled(user_id, image_id):
            found = kept.get(suggestion.pk)
            outcomes.append(_outcome(suggestion, found[2] if found and found[:2] == (user_id, image_id) else None))

    decided: set[tuple[int, int]] = set()
    decisions = list(
        SuggestionDecision.objects.filter(suggestion__project=project).values_list(
            "suggestion_id", "user_id", "annotation_id"
        )
    )
    accepted_ids = [annotation_id for *_, annotation_id in decisions if annotation_id is not None]
    accepted = {
        pk: _Kept(geometry=geometry, rle=rle, defect_class_id=class_id)
        for pk, geometry, rle, class_id in Annotation.objects.filter(pk__in=accepted_ids).values_list(
            "pk", "geometry", "rle", "defect_class_id"
        )
    }
    for suggestion_id, user_id, annotation_id in decisions:
        suggestion = suggestions[suggestion_id]
        decided.add((suggestion_id, user_id))
        engines_used[(user_id, suggestion.image_id)].add(suggestion.engine)
        if is_settled(user_id, suggestion.image_id):
            outcomes.append(_outcome(suggestion, accepted.get(annotation_id) if annotation_id is not None else None))
    # A pre-label its inspector left undecided when they submitted did not make it into their work: deleted.
    open_prelabels: dict[int, list[_SuggestionRow]] = defaultdict(list)
    for suggestion in suggestions.values():
        if suggestion.origin == SuggestionOrigin.PRELABEL and not suggestion.is_superseded:
            open_prelabels[suggestion.image_id].append(suggestion)
    for (user_id, image_id), at in submitted_at.items():
        for suggestion in open_prelabels.get(image_id, ()):
            if (suggestion.pk, user_id) not in decided and suggestion.created_at < at:
                outcomes.append(_outcome(suggestion, None))

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


# Training runs and the model registry


def model_promoted_for_project(project: Project, kind: str = ModelKind.SEGMENTATION) -> TrainedModel | None:
    """The project's promoted model of `kind`, or None: the segmentation model pre-labels and ranks (label next,
    label-error review), the interactive one answers the editor's box and clicks."""
    return TrainedModel.objects.select_related("run").filter(project=project, kind=kind, is_promoted=True).first()


def training_run_list_for_project(*, project: Project) -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.filter(project=project)
        .select_related("job", "dataset_version", "created_by", "trained_model")
        .order_by("-id")
    )


def training_run_get_for_user(*, user: User, run_id: int) -> TrainingRun:
    """A run of one of the user's projects whose role sees models (404 across projects, 403 for the role)."""
    run = TrainingRun.objects.select_related("job", "dataset_version", "created_by", "trained_model").filter(pk=run_id)
    found = run.first()
    if found is None:
        raise NotFound("No such training run.")
    try:
        project_get_for_assist(user=user, project_id=found.project_id, action=AssistAction.VIEW_MODELS)
    except NotFound:
        raise NotFound("No such training run.") from None
    return found


def trained_model_list_for_project(*, project: Project) -> QuerySet[TrainedModel]:
    return TrainedModel.objects.filter(project=project).select_related("run__dataset_version").order_by("-id")


def trained_model_get_for_user(
    *, user: User, model_id: int, action: AssistAction = AssistAction.VIEW_MODELS
) -> TrainedModel:
    """A model of one of the user's projects whose role may do `action` (404 across projects, 403 for the role)."""
    model = TrainedModel.objects.select_related("run__dataset_version", "project").filter(pk=model_id).first()
    if model is None:
        raise NotFound("No such model.")
    try:
        project_get_for_assist(user=user, project_id=model.project_id, action=action)
    except NotFound:
        raise NotFound("No such model.") from None
    return model


def trained_model_latest() -> TrainedModel | None:
    """The newest segmentation model of any project whose run succeeded (`evaluate_model latest`)."""
    return (
        TrainedModel.objects.filter(run__job__status=JobStatus.SUCCEEDED, kind=ModelKind.SEGMENTATION)
        .select_related("run__dataset_version")
        .order_by("-created_at", "-id")
        .first()
    )
