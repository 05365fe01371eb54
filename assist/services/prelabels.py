"""Pre-labels: an engine that finds defects with no prompt suggests them on many images, as a job.

Suggestions are stored in assist (models.Suggestion), never as annotations: nothing counts them as work until an
inspector accepts one (services/suggestions.py), which makes it their own annotation through annotation's
services. The weight-free classical engine needs a box from an inspector, so with it alone pre-labels are refused
(409 no_prelabel_engine) until a trained model or SAM is installed."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef

from annotation import geometry
from annotation.models import Annotation, DefectClass, Image, Project
from annotation.rules import min_size_violations
from annotation.services.annotations import min_size_rule_of
from assist.engines.base import EngineResult, PrelabelEngine, engine_can_prelabel, engine_get
from assist.errors import NoPrelabelEngine
from assist.job_kinds import PRELABEL_JOB_KIND
from assist.models import Suggestion, SuggestionOrigin
from assist.outlines import mask_outline
from assist.permissions import AssistAction, project_get_for_assist
from assist.selectors import engine_names_for_project, engine_preferred
from assist.services.assist import suggestion_shape
from assist.services.pixels import image_pixels
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import Job
from defectlab.jobs.services import job_start

PRELABEL_MAX_PER_IMAGE = 50  # suggestions kept per image, best scores first: past this an engine is guessing
NO_PRELABEL_ENGINE = "No engine can pre-label: train a model (the classical engine and SAM need a prompt)."


def _prelabel_engine(*, project: Project, requested: str | None) -> str:
    names = engine_names_for_project(project=project)
    if requested is None:
        name = engine_preferred(project=project, names=names, for_prelabel=True)
        if name is None:
            raise NoPrelabelEngine(NO_PRELABEL_ENGINE, engines=names)
        return name
    if requested not in names:
        raise ValidationFailed(f"No assist engine {requested!r} here; available: {', '.join(names)}.")
    if not engine_can_prelabel(requested):
        raise NoPrelabelEngine(
            f"The engine {requested!r} needs a prompt from an inspector; it cannot pre-label. {NO_PRELABEL_ENGINE}",
            engines=names,
        )
    return requested


def _default_class(*, project: Project, defect_class_id: int | None) -> DefectClass:
    classes = DefectClass.objects.filter(project=project, is_active=True).order_by("position", "name")
    defect_class = classes.filter(pk=defect_class_id).first() if defect_class_id is not None else classes.first()
    if defect_class is None:
        missing = "No such active defect class in this project." if defect_class_id else "The project has no classes."
        raise ValidationFailed(missing)
    return defect_class


def images_unlabelled(*, project: Project) -> list[int]:
    """Images with no annotation at all, not judged defect-free, and no pre-label waiting for a decision."""
    annotated = Annotation.objects.filter(image=OuterRef("pk"))
    waiting = Suggestion.objects.filter(image=OuterRef("pk"), origin=SuggestionOrigin.PRELABEL, is_superseded=False)
    images = Image.objects.filter(project=project, is_defect_free=False).exclude(Exists(annotated) | Exists(waiting))
    return list(images.order_by("id").values_list("pk", flat=True))


@transaction.atomic
def prelabels_start(
    *,
    user: User,
    project_id: int,
    image_ids: list[int] | None = None,
    is_all_unlabelled: bool = False,
    engine_name: str | None = None,
    defect_class_id: int | None = None,
) -> Job:
    """Start an `assist_prelabel` job over `image_ids`, or the images still unlabelled when it runs. Seniors and
    admins only (403; 404 outside one's projects); 409 no_prelabel_engine when no engine finds defects on its
    own. `defect_class_id`: the class of the suggestions whose engine does not name one (default: the first)."""
    project, _ = project_get_for_assist(user=user, project_id=project_id, action=AssistAction.PRELABEL)
    if (image_ids is None) == (not is_all_unlabelled):
        raise ValidationFailed("Send image_ids or all_unlabelled, one of the two.")
    name = _prelabel_engine(project=project, requested=engine_name)
    default_class = _default_class(project=project, defect_class_id=defect_class_id)
    ids = None
    if image_ids is not None:
        ids = sorted(set(image_ids))
        found = set(Image.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
        if missing := [pk for pk in ids if pk not in found]:
            raise ValidationFailed(f"{len(missing)} of the images are not in this project.", image_ids=missing[:20])
    params = {"engine": name, "defect_class_id": default_class.pk, "image_ids": ids}
    return job_start(
        kind=PRELABEL_JOB_KIND,
        project=project,
        created_by=user,
        params=params,
        progress_total=len(ids) if ids is not None else None,
        queue=settings.DEFECTLAB_ASSIST_PRELABEL_QUEUE,
    )


def _suggestions_for(
    *, image: Image, results: list[EngineResult], engine: str, classes: dict[str, DefectClass], job: JobContext
) -> list[Suggestion]:
    """Unsaved suggestions for the engine's results on `image`: best scores first, each outlined at its class's
    tolerance; results below their class's minimum size are dropped (the inspector could not keep them)."""
    default_class = classes[""]
    suggestions = []
    for result in sorted(results, key=lambda result: -result.score)[:PRELABEL_MAX_PER_IMAGE]:
        defect_class = classes.get(result.defect_class or "", default_class)
        polygons = mask_outline(result.mask, offset=result.offset, geometry_kind=defect_class.geometry_kind)
        if not polygons:
            continue
        measurement = geometry.measure(polygons)
        if min_size_violations(min_size_rule_of(defect_class), measurement, px_per_mm=image.project.px_per_mm):
            continue
        suggestions.append(
            Suggestion(
                project_id=image.project_id,
                image=image,
                defect_class=defect_class,
                origin=SuggestionOrigin.PRELABEL,
                engine=engine,
                score=result.score,
                requested_by=job.created_by,
                job_id=job.job_id,
                **suggestion_shape(polygons=polygons, image=image),
            )
        )
    return suggestions


def prelabel_run(*, job: JobContext) -> dict[str, Any]:
    """The job: each image in turn, its suggestions written in one transaction with the undecided pre-labels of
    earlier jobs superseded. Idempotent: images this job already wrote are skipped when it runs again."""
    if job.project_id is None:
        raise ValueError("A pre-label job names no project.")  # prelabels_start always sets one
    project = Project.objects.get(pk=job.project_id)
    name = job.params["engine"]
    if not engine_can_prelabel(name):
        raise NoPrelabelEngine(NO_PRELABEL_ENGINE)
    engine: PrelabelEngine = engine_get(name)  # type: ignore[assignment]  # can_prelabel: it has prelabel()
    classes: dict[str, DefectClass] = {
        defect_class.name: defect_class for defect_class in DefectClass.objects.filter(project=project, is_active=True)
    }
    classes[""] = DefectClass.objects.get(pk=job.params["defect_class_id"])
    image_ids = job.params["image_ids"]
    if image_ids is None:
        image_ids = images_unlabelled(project=project)
    done = set(Suggestion.objects.filter(job_id=job.job_id).values_list("image_id", flat=True))
    images = Image.objects.filter(project=project, pk__in=image_ids).select_related("project").order_by("id")
    total, written = len(image_ids), 0
    job.progress(0, total, f"Pre-labelling {total} images with {name}")
    for index, image in enumerate(images.iterator(chunk_size=200)):
        job.check_cancelled()
        if image.pk not in done:
            suggestions = _suggestions_for(
                image=image, results=engine.prelabel(image_pixels(image)), engine=name, classes=classes, job=job
            )
            with transaction.atomic():
                Suggestion.objects.filter(image=image, origin=SuggestionOrigin.PRELABEL, is_superseded=False).exclude(
                    job_id=job.job_id
                ).update(is_superseded=True)
                Suggestion.objects.bulk_create(suggestions)
            written += len(suggestions)
        job.progress(index + 1, total, f"Pre-labelling with {name}: {written} suggestions so far")
    return {"engine": name, "images": total, "suggestions": written}
