"""The editor's assist: an inspector's box or clicks in, an engine's outline out, recorded as a suggestion.

The engine runs outside any transaction (it takes tens of milliseconds, and holds no row); only the suggestion's
row is written, after. The answer becomes an annotation only if the editor saves it (source "assisted", its
provenance naming the suggestion): statistics compare the two (assist/statistics.py)."""

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from annotation import geometry
from annotation.errors import AlreadySubmitted
from annotation.models import DefectClass, GeometryKind, Image
from annotation.permissions import Capability, is_work_closed
from annotation.selectors import assignment_get_for_image, image_get_for_user
from assist.engines.base import Point, Prompt, engine_get, engine_names, prompt_check
from assist.engines.sam import ENGINE_NAME as SAM_ENGINE_NAME
from assist.errors import NoAssistEngine
from assist.models import Suggestion, SuggestionOrigin
from assist.outlines import mask_outline
from assist.selectors import engine_names_for_project, engine_preferred
from assist.services.pixels import image_pixels
from defectlab.errors import ValidationFailed

TRAINED_MODEL_FAMILIES = ("model", "interactive")  # engine families whose key is a TrainedModel id


@dataclass(frozen=True)
class AssistPrompt:
    """What the editor sent, before it is checked against the image."""

    defect_class_id: int
    box: tuple[float, float, float, float] | None = None
    positive_clicks: tuple[Point, ...] = ()
    negative_clicks: tuple[Point, ...] = ()


@dataclass(frozen=True)
class AssistAnswer:
    engine: str
    score: float
    polygons: list[geometry.Polygon]  # empty: the engine found nothing there
    suggestion: Suggestion | None  # None when nothing was found
    ms: float  # the server's time for the answer: image (cache or decode), engine, outline

    @property
    def model_id(self) -> int | None:
        """The trained model behind the engine ("model-<id>", "interactive-<id>"), for the kept defect's provenance."""
        prefix, _, key = self.engine.partition("-")
        return int(key) if prefix in TRAINED_MODEL_FAMILIES and key.isdigit() else None

    @property
    def geometry_json(self) -> dict[str, Any] | None:
        return geometry.polygons_to_json(self.polygons) if self.polygons else None

    @property
    def bbox(self) -> geometry.Box | None:
        return geometry.polygons_bbox(self.polygons) if self.polygons else None


def _defect_class(*, image: Image, defect_class_id: int) -> DefectClass:
    defect_class = DefectClass.objects.filter(pk=defect_class_id, project_id=image.project_id).first()
    if defect_class is None:
        raise ValidationFailed("No such defect class in this project.")
    if not defect_class.is_active:
        raise ValidationFailed(f"The defect class {defect_class.name!r} is retired; pick another.")
    return defect_class


def _engine_name(*, image: Image, requested: str | None) -> str:
    names = engine_names_for_project(project=image.project)
    if requested is not None:
        if requested not in names:
            available = ", ".join(names) or "none"
            raise ValidationFailed(f"No assist engine {requested!r} here; available: {available}.", engine=requested)
        return requested
    preferred = engine_preferred(project=image.project, names=names)
    if preferred is None:
        raise NoAssistEngine("No assist engine is available on this server: draw by hand, or ask an admin.")
    return preferred


def prompt_limits_check(prompt: AssistPrompt, *, image_shape: tuple[int, int]) -> Prompt:
    """The engine's prompt, or ValidationFailed for what no inspector draws: too many clicks, a click or box
    outside the image (the engine interface's `prompt_check`), an inverted or empty prompt, a box too large to be
    one defect."""
    clicks = len(prompt.positive_clicks) + len(prompt.negative_clicks)
    if clicks > settings.DEFECTLAB_ASSIST_MAX_CLICKS:
        raise ValidationFailed(
            f"{clicks} clicks; an assist prompt holds at most {settings.DEFECTLAB_ASSIST_MAX_CLICKS}.",
            limit="DEFECTLAB_ASSIST_MAX_CLICKS",
        )
    engine_prompt = Prompt(
        box=prompt.box, positive_clicks=prompt.positive_clicks, negative_clicks=prompt.negative_clicks
    )
    try:
        prompt_check(engine_prompt, image_shape=image_shape)
    except ValueError as error:
        raise ValidationFailed(f"Assist prompt refused: {error}.") from None
    if prompt.box is not None:
        x0, y0, x1, y1 = prompt.box
        box_px = (abs(x1 - x0) + 1) * (abs(y1 - y0) + 1)
        if box_px > settings.DEFECTLAB_ASSIST_MAX_BOX_PX:
            raise ValidationFailed(
                f"The box covers {box_px:,.0f} px; an assist box covers at most "
                f"{settings.DEFECTLAB_ASSIST_MAX_BOX_PX:,} px (one defect, not the whole part).",
                limit="DEFECTLAB_ASSIST_MAX_BOX_PX",
            )
    return engine_prompt


def region_prompt_check(prompt: Prompt, *, region: tuple[int, int, int, int], image_shape: tuple[int, int]) -> None:
    """ValidationFailed unless `region` (x, y, width, height) lies in the image and holds the whole prompt."""
    x, y, width, height = region
    if width < 1 or height < 1 or x + width > image_shape[1] or y + height > image_shape[0]:
        raise ValidationFailed(f"Region {list(region)} (x, y, width, height) leaves the image.")
    points = [*prompt.positive_clicks, *prompt.negative_clicks]
    if prompt.box is not None:
        points += [prompt.box[:2], prompt.box[2:]]
    for point in points:
        if not (x - 0.5 <= point[0] < x + width - 0.5 and y - 0.5 <= point[1] < y + height - 0.5):
            raise ValidationFailed(f"Assist prompt refused: {list(point)} is outside the region {list(region)}.")


def assist_run(
    *,
    user: User,
    image_id: int,
    prompt: AssistPrompt,
    engine_name: str | None = None,
    replaces_suggestion_id: int | None = None,
    region: tuple[int, int, int, int] | None = None,
    previous_geometry_json: object = None,
) -> AssistAnswer:
    """Ask an engine for the defect the inspector pointed at. Checked like drawing: 404 for an image the user may
    not see, 403 for a role that does not label, 409 already_submitted for closed work; 400 for a prompt outside
    the image, inverted, empty or over the limits, or an unknown engine. `replaces_suggestion_id`: the answer
    this one replaces in the same drawing (the click tool's previous answer), no longer counted. `region`: the
    part of the image the editor shows (x, y, width, height); SAM embeds only it, and the prompt must lie in it.
    `previous_geometry_json`: the outline being corrected (the click tool's last answer, or a model pre-label the
    inspector refines), polygons as annotation/geometry.py takes them; the engines that read a previous mask (the
    interactive model) take it as their fourth input, the others ignore it. 400 for a geometry the annotation API
    would refuse."""
    image, role = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    assignment = assignment_get_for_image(user=user, image=image)
    if is_work_closed(role=role, assignment_status=assignment.status if assignment else None):
        raise AlreadySubmitted()
    defect_class = _defect_class(image=image, defect_class_id=prompt.defect_class_id)
    engine_prompt = replace(
        prompt_limits_check(prompt, image_shape=(image.height, image.width)),
        defect_class=defect_class.name,
        geometry_kind="linear" if defect_class.geometry_kind == GeometryKind.LINEAR else "area",
    )
    if previous_geometry_json is not None:
        engine_prompt = replace(engine_prompt, previous_mask=_previous_mask(previous_geometry_json, image=image))
    name = _engine_name(image=image, requested=engine_name)
    started = time.perf_counter()
    engine_instance = engine_get(name)
    if region is not None:
        region_prompt_check(engine_prompt, region=region, image_shape=(image.height, image.width))
    # Engines that cache per image (SAM's embeddings) are told which image, and the region the editor shows.
    predict_in_region = getattr(engine_instance, "predict_in_region", None)
    if predict_in_region is not None:
        result = predict_in_region(image_pixels(image), engine_prompt, image_sha256=image.sha256, region=region)
    else:
        result = engine_instance.predict(image_pixels(image), engine_prompt)
    polygons = mask_outline(result.mask, offset=result.offset, geometry_kind=defect_class.geometry_kind)
    ms = (time.perf_counter() - started) * 1000
    suggestion = _record(
        user=user,
        image=image,
        defect_class=defect_class,
        engine=name,
        score=result.score,
        prompt=engine_prompt,
        polygons=polygons,
        replaces_suggestion_id=replaces_suggestion_id,
    )
    return AssistAnswer(engine=name, score=result.score, polygons=polygons, suggestion=suggestion, ms=ms)


def _previous_mask(geometry_json: object, *, image: Image) -> np.ndarray:
    try:
        polygons = geometry.polygons_from_json(geometry_json, width=image.width, height=image.height)
    except geometry.GeometryError as error:
        raise ValidationFailed(f"Previous outline refused: {error}.") from None
    return geometry.rasterize(polygons, width=image.width, height=image.height).astype(bool)


# Engines whose answers the editor may decode itself and then record here: SAM (its int8 decoder in a Web Worker).
BROWSER_DECODED_ENGINES = (SAM_ENGINE_NAME,)


def assist_record(
    *,
    user: User,
    image_id: int,
    prompt: AssistPrompt,
    engine_name: str,
    score: float,
    geometry_json: object,
    replaces_suggestion_id: int | None = None,
) -> Suggestion | None:
    """Record an answer the editor decoded itself (SAM in the browser), as `assist_run` records the server's: the
    same checks of the image, the work, the class and the prompt, then the outline the browser traced (None: SAM
    found nothing; only `replaces_suggestion_id` is superseded, and None is returned). 400 for an
    engine that does not decode in the browser or is not installed here, or a geometry `annotation.geometry`
    refuses. The browser is trusted with its own outline as much as with any polygon it saves: the suggestion
    only measures how much the inspector changed it before saving."""
    image, role = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    assignment = assignment_get_for_image(user=user, image=image)
    if is_work_closed(role=role, assignment_status=assignment.status if assignment else None):
        raise AlreadySubmitted()
    defect_class = _defect_class(image=image, defect_class_id=prompt.defect_class_id)
    engine_prompt = replace(
        prompt_limits_check(prompt, image_shape=(image.height, image.width)),
        defect_class=defect_class.name,
        geometry_kind="linear" if defect_class.geometry_kind == GeometryKind.LINEAR else "area",
    )
    if engine_name not in BROWSER_DECODED_ENGINES or engine_name not in engine_names():
        message = f"No browser-decoded assist engine {engine_name!r} is installed here."
        raise ValidationFailed(message, engine=engine_name)
    polygons: list[geometry.Polygon] = []
    try:
        if geometry_json is not None:
            polygons = geometry.polygons_from_json(geometry_json, width=image.width, height=image.height)
    except geometry.GeometryError as error:
        raise ValidationFailed(f"Assist answer refused: {error}.") from None
    return _record(
        user=user,
        image=image,
        defect_class=defect_class,
        engine=engine_name,
        score=score,
        prompt=engine_prompt,
        polygons=polygons,
        replaces_suggestion_id=replaces_suggestion_id,
    )


@transaction.atomic
def _record(
    *,
    user: User,
    image: Image,
    defect_class: DefectClass,
    engine: str,
    score: float,
    prompt: Prompt,
    polygons: list[geometry.Polygon],
    replaces_suggestion_id: int | None,
) -> Suggestion | None:
    if replaces_suggestion_id is not None:
        # Only the user's own answers on this image: another id is ignored, not disclosed.
        Suggestion.objects.filter(
            pk=replaces_suggestion_id, image=image, requested_by=user, origin=SuggestionOrigin.ASSIST
        ).update(is_superseded=True)
    if not polygons:
        return None
    return Suggestion.objects.create(
        project_id=image.project_id,
        image=image,
        defect_class=defect_class,
        origin=SuggestionOrigin.ASSIST,
        engine=engine,
        score=score,
        prompt=prompt.to_json(),
        requested_by=user,
        **suggestion_shape(polygons=polygons, image=image),
    )


def suggestion_shape(*, polygons: list[geometry.Polygon], image: Image) -> dict[str, Any]:
    """The geometry fields a suggestion stores: its polygons, their RLE (for IoU) and vertex count."""
    runs = geometry.rasterize_runs(polygons)
    return {
        "geometry": geometry.polygons_to_json(polygons),
        "rle": geometry.rle_from_runs(runs, width=image.width, height=image.height),
        "vertex_count": geometry.vertex_count(polygons),
    }
