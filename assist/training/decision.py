"""From class probabilities to what the inspector sees: defect regions that pass their class's minimum size and
an image-level defect / no-defect decision calibrated on the validation split. Pure numpy + scipy.ndimage.

Each predicted region (8-connected pixels whose most probable class is the same defect class) gets a score: its
largest probability of that class, times the image-level defect probability when the network has an image head.
A region is kept when it passes its class's `min_area_px` and its score reaches `score_threshold`; the image is
flagged defective when any region is kept. The threshold is chosen on validation images so that defect-free ones
are flagged at most `false_alarm_target` of the time, the lowest such threshold (so detection is the highest).
"""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import cast

import numpy as np
from scipy import ndimage

from assist.training.samples import Sample

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
MIN_AREA_FLOOR_PX = 4  # below this a region is JPEG noise, whatever the training masks say
MIN_AREA_FRACTION = 0.5  # derived minimum: half the smallest labelled region of the class (5th percentile)
MIN_AREA_PERCENTILE = 5
THRESHOLD_MARGIN = 1e-6  # the threshold sits just above the highest defect-free score that must not be flagged


@dataclass(frozen=True)
class DefectDecision:
    """The post-processing rule shipped with a model (stored in its checkpoint and ONNX metadata)."""

    min_area_px: tuple[float, ...]  # per defect class, in class order
    score_threshold: float = 0.5  # a region (and so the image) counts when its score reaches this

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "DefectDecision":
        values = json.loads(text)
        return cls(min_area_px=tuple(values["min_area_px"]), score_threshold=float(values["score_threshold"]))


@dataclass(frozen=True)
class Regions:
    """The scored regions of one image, before the threshold: enough to re-apply any threshold cheaply."""

    labels: np.ndarray  # int32 (H, W): 0 none, r + 1 for region r
    class_indices: np.ndarray  # (R,) 1..K
    scores: np.ndarray  # (R,) float

    @property
    def image_score(self) -> float:
        return float(self.scores.max()) if self.scores.size else 0.0

    def mask(self, score_threshold: float) -> np.ndarray:
        """The class mask of the regions whose score reaches the threshold."""
        kept = np.zeros(self.scores.size + 1, dtype=np.uint8)
        passing = self.scores >= score_threshold
        kept[1:][passing] = self.class_indices[passing]
        return cast(np.ndarray, kept[self.labels])


def regions_score(probabilities: np.ndarray, image_probability: float | None, min_area_px: Sequence[float]) -> Regions:
    """Regions of `probabilities` (C, H, W) that pass their minimum size, each with its score."""
    predicted = probabilities.argmax(axis=0)
    labels = np.zeros(predicted.shape, dtype=np.int32)
    class_indices: list[int] = []
    scores: list[float] = []
    for class_index in range(1, probabilities.shape[0]):
        class_labels, count = ndimage.label(predicted == class_index, structure=EIGHT_CONNECTED)
        if count == 0:
            continue
        areas = np.bincount(class_labels.ravel(), minlength=count + 1)
        peaks = ndimage.maximum(probabilities[class_index], labels=class_labels, index=np.arange(1, count + 1))
        renumber = np.zeros(count + 1, dtype=np.int32)
        for region in range(1, count + 1):
            if areas[region] < min_area_px[class_index - 1]:
                continue
            class_indices.append(class_index)
            scores.append(float(peaks[region - 1]) * (1.0 if image_probability is None else image_probability))
            renumber[region] = len(scores)
        labels = np.where(class_labels > 0, renumber[class_labels], labels)
    return Regions(labels=labels, class_indices=np.array(class_indices, dtype=np.uint8), scores=np.array(scores))


def decision_apply(
    probabilities: np.ndarray, image_probability: float | None, decision: DefectDecision
) -> tuple[np.ndarray, float]:
    """(class mask uint8 (H, W), image score): the regions that pass; the image is defective iff the mask has any."""
    regions = regions_score(probabilities, image_probability, decision.min_area_px)
    return regions.mask(decision.score_threshold), regions.image_score


def decision_calibrate(
    regions: Sequence[Regions], samples: Sequence[Sample], min_area_px: Sequence[float], *, false_alarm_target: float
) -> DefectDecision:
    """The lowest threshold that flags at most `false_alarm_target` of the defect-free `samples` (validation
    images, never the test split). Without defect-free images it keeps every region (threshold 0)."""
    clean_scores = sorted(
        (region.image_score for region, sample in zip(regions, samples, strict=True) if sample.is_defect_free),
        reverse=True,
    )
    allowed = int(np.floor(false_alarm_target * len(clean_scores) + 1e-9))
    threshold = clean_scores[allowed] + THRESHOLD_MARGIN if allowed < len(clean_scores) else 0.0
    return DefectDecision(min_area_px=tuple(float(value) for value in min_area_px), score_threshold=float(threshold))


def min_area_px_from_samples(samples: Sequence[Sample], defect_class_count: int) -> tuple[float, ...]:
    """A minimum size per class when the project declares none: half the 5th-percentile labelled region of the
    class in these (training) samples, at least MIN_AREA_FLOOR_PX."""
    areas: list[list[int]] = [[] for _ in range(defect_class_count)]
    for sample in samples:
        for class_index in np.unique(sample.mask):
            if class_index == 0:
                continue
            labels, count = ndimage.label(sample.mask == class_index, structure=EIGHT_CONNECTED)
            areas[class_index - 1].extend(np.bincount(labels.ravel())[1:].tolist())
    return tuple(
        float(max(MIN_AREA_FLOOR_PX, MIN_AREA_FRACTION * np.percentile(class_areas, MIN_AREA_PERCENTILE)))
        if class_areas
        else float(MIN_AREA_FLOOR_PX)
        for class_areas in areas
    )
