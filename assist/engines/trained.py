"""A project's trained segmentation model as an assist engine, "model-<id>": it pre-labels (every region its
decision rule keeps, each with its class and score) and answers the editor's box or clicks (the model's defect
pixels inside the box, or the region under the click).

The engine itself is pure (an onnxruntime Predictor in, EngineResults out). Which model a name means is the model
registry's business: the family's resolver (assist/services/models.py `model_engine_predictor`) is imported when
a member is first built, so this module stays light for every process that imports the engines."""

from typing import TYPE_CHECKING

import cv2
import numpy as np

from assist.engines.base import EngineResult, Prompt, engine_family, image_check, pixel_of, prompt_check

if TYPE_CHECKING:
    from assist.training.export import Predictor

FAMILY = "model"  # engine names "model-<TrainedModel id>"
BOX_CONTEXT_PX = 32  # the network sees this much around an inspector's box: a defect's edge needs its surroundings
CLICK_REACH_PX = 96  # without a box, the network looks this far each way around the first positive click
DEFECT_PROBABILITY = 0.5  # a pixel is defect when the model gives the background less than this


def model_engine_name(model_id: int) -> str:
    return f"{FAMILY}-{model_id}"


class TrainedModelEngine:
    def __init__(self, predictor: "Predictor", name: str) -> None:
        self.predictor, self.name = predictor, name

    def prelabel(self, image: np.ndarray) -> list[EngineResult]:
        """Every region the model's decision rule keeps (minimum size, score threshold), with its class."""
        from assist.training.decision import regions_score

        image_check(image)
        probabilities, image_probability = self.predictor.probabilities(image)
        decision = self.predictor.decision
        regions = regions_score(
            probabilities, image_probability if self.predictor.has_image_head else None, decision.min_area_px
        )
        results = []
        for index, (class_index, score) in enumerate(zip(regions.class_indices, regions.scores, strict=True)):
            if score < decision.score_threshold:
                continue
            rows, columns = np.nonzero(regions.labels == index + 1)
            top, left = int(rows.min()), int(columns.min())
            crop = regions.labels[top : rows.max() + 1, left : columns.max() + 1] == index + 1
            results.append(
                EngineResult(
                    crop,
                    (left, top),
                    image.shape,
                    float(score),
                    self.name,
                    defect_class=self.predictor.defect_classes[int(class_index) - 1],
                )
            )
        return results

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        """The model's defect pixels in the box (the regions touching a positive click, when there are clicks;
        those under a negative click removed), or the region under the first positive click without a box."""
        image_check(image)
        prompt_check(prompt, image_shape=image.shape)
        height, width = image.shape
        if prompt.box is not None:
            (x0, y0), (x1, y1) = pixel_of(prompt.box[:2]), pixel_of(prompt.box[2:])
            reach = BOX_CONTEXT_PX
        else:
            x0, y0 = x1, y1 = pixel_of(prompt.positive_clicks[0])
            reach = CLICK_REACH_PX
        left, top = max(x0 - reach, 0), max(y0 - reach, 0)
        right, bottom = min(x1 + reach, width - 1), min(y1 + reach, height - 1)
        probabilities, _ = self.predictor.probabilities(np.ascontiguousarray(image[top : bottom + 1, left : right + 1]))
        defect = probabilities[0] < DEFECT_PROBABILITY
        if prompt.box is not None:
            inside = np.zeros_like(defect)
            inside[y0 - top : y1 - top + 1, x0 - left : x1 - left + 1] = True
            defect &= inside
        count, labels = cv2.connectedComponents(defect.astype(np.uint8), connectivity=8)
        keep = np.zeros(count, dtype=bool)
        clicked = [pixel_of(point) for point in prompt.positive_clicks]
        for column, row in clicked:
            if left <= column <= right and top <= row <= bottom:
                keep[labels[row - top, column - left]] = True
        if not clicked and prompt.box is not None:
            keep[1:] = True
        for column, row in (pixel_of(point) for point in prompt.negative_clicks):
            if left <= column <= right and top <= row <= bottom:
                keep[labels[row - top, column - left]] = False
        keep[0] = False
        mask = keep[labels]
        if not mask.any():
            return EngineResult(np.zeros((1, 1), bool), (0, 0), image.shape, 0.0, self.name)
        score = float(1.0 - probabilities[0][mask].mean())
        return EngineResult(mask, (left, top), image.shape, score, self.name)


def _build(name: str) -> TrainedModelEngine:
    from assist.services.models import model_engine_predictor  # local: the registry reads the database

    return TrainedModelEngine(model_engine_predictor(name), name)


def _is_available(name: str) -> bool:
    from assist.services.models import model_engine_is_available

    return model_engine_is_available(name)


engine_family(FAMILY, factory=_build, is_available=_is_available, can_prelabel=True)
