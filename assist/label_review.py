"""What a model's class probabilities say about labelling: how unsure it is on an unlabelled image ("label next"),
and how strongly it disagrees with an image's final annotations ("label-error review"). Pure numpy, and cleanlab
for the label quality; no ORM.

Probabilities are the Predictor's: (K + 1, H, W), index 0 the surface (no defect), index i + 1 defect class i,
summing to 1 at each pixel. Labels are the same indices, (H, W).

Label next: the uncertainty of a pixel is its normalised Shannon entropy, H(p) / log(K + 1), 0 (sure) .. 1 (all
classes equally likely): entropy sampling (Settles, "Active Learning Literature Survey", 2009). On part images
almost every pixel is surface the model is sure of, so a whole-image mean mostly measures how much defect there
is, not doubt; the score averages the entropy over the pixels where the model gives a defect a real chance
(`DEFECT_REGION_PROBABILITY`), and images where it gives none score 0.

Label errors: cleanlab's segmentation label quality (Lad & Mueller, "Estimating label quality and errors in
semantic segmentation data via any model", 2023): each pixel's self-confidence (the probability the model gives
its label), pooled by a softmin, so an image is as doubtful as its worst region. 0..1, low: probably mislabelled.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFECT_REGION_PROBABILITY = 0.2  # a pixel is in the defect region when the model gives defects this chance, 0..1
SOFTMIN_TEMPERATURE = 0.1  # cleanlab's default: lower leans the image score towards its worst pixels
DISAGREEMENT_PROBABILITY = 0.5  # labelled surface the model gives defects at least this is a possible miss


def pixel_entropy(probabilities: np.ndarray) -> np.ndarray:
    """(H, W) normalised entropy of the class probabilities (C, H, W): 0 when one class is certain, 1 when all
    C are equally likely. Zero probabilities contribute nothing (p log p -> 0)."""
    classes = probabilities.shape[0]
    if classes < 2:
        raise ValueError(f"entropy needs at least two classes, got {classes}")
    probabilities = probabilities.astype(np.float64)
    logs = np.log(np.where(probabilities > 0, probabilities, 1.0))
    return np.clip(-(probabilities * logs).sum(axis=0) / np.log(classes), 0.0, 1.0)


@dataclass(frozen=True)
class Uncertainty:
    """How unsure the model is about an unlabelled image (higher: label it sooner)."""

    score: float  # mean normalised entropy over the defect region, 0..1; 0 without a region
    mean_entropy: float  # over the whole image, 0..1: the tie-breaker among images without a region
    defect_region_px: int  # pixels where the model gives defects at least DEFECT_REGION_PROBABILITY
    predicted_defect_px: int  # pixels whose most probable class is a defect


def uncertainty_of(probabilities: np.ndarray, *, region_probability: float = DEFECT_REGION_PROBABILITY) -> Uncertainty:
    entropy = pixel_entropy(probabilities)
    region = 1.0 - probabilities[0] >= region_probability
    region_px = int(region.sum())
    return Uncertainty(
        score=float(entropy[region].mean()) if region_px else 0.0,
        mean_entropy=float(entropy.mean()),
        defect_region_px=region_px,
        predicted_defect_px=int((probabilities.argmax(axis=0) != 0).sum()),
    )


@dataclass(frozen=True)
class AnnotationAgreement:
    """How much the model agrees with one annotation: the mean probability it gives the annotation's class over
    the annotation's pixels (1: it draws the same; 0: it sees no such defect there)."""

    self_confidence: float
    area_px: int


@dataclass(frozen=True)
class LabelQuality:
    score: float  # cleanlab's softmin label quality of the whole image, 0..1: low, probably mislabelled
    annotations: list[AnnotationAgreement]  # in the order given
    unlabelled_defect_px: int  # labelled surface where the model gives a defect at least DISAGREEMENT_PROBABILITY
    disagreeing_px: int  # pixels whose most probable class is not their label (either way)


def label_quality_of(probabilities: np.ndarray, annotation_masks: Sequence[tuple[np.ndarray, int]]) -> LabelQuality:
    """The image's final answer against the model: `annotation_masks` are (boolean (H, W) mask, class index
    1..K) per final annotation, drawn in order into one label map (a later one wins an overlap); an image
    without any is a defect-free judgement, all surface."""
    # local: cleanlab imports pandas and sklearn; it publishes no type information
    from cleanlab.segmentation.rank import get_label_quality_scores  # type: ignore[import-untyped]

    classes, height, width = probabilities.shape
    labels = np.zeros((height, width), dtype=np.int64)
    for mask, class_index in annotation_masks:
        if not 1 <= class_index < classes:
            raise ValueError(f"class index {class_index} is not one of the model's 1..{classes - 1}")
        if mask.shape != (height, width):
            raise ValueError(f"annotation mask {mask.shape} is not the image's {(height, width)}")
        labels[mask] = class_index
    image_scores, _ = get_label_quality_scores(
        labels[None],
        probabilities[None].astype(np.float64),
        method="softmin",
        verbose=False,
        temperature=SOFTMIN_TEMPERATURE,
    )
    agreements = [
        AnnotationAgreement(
            self_confidence=float(probabilities[class_index][mask].mean()) if mask.any() else 0.0,
            area_px=int(mask.sum()),
        )
        for mask, class_index in annotation_masks
    ]
    return LabelQuality(
        score=float(image_scores[0]),
        annotations=agreements,
        unlabelled_defect_px=int(((labels == 0) & (1.0 - probabilities[0] >= DISAGREEMENT_PROBABILITY)).sum()),
        disagreeing_px=int((probabilities.argmax(axis=0) != labels).sum()),
    )
