"""Segmentation and inspection metrics of predicted class masks against the truth. Pure numpy (+ scipy.ndimage for
connected components and dilation): no torch, no ORM.

Conventions (the figures in docs/training.md follow them):
- Masks are uint8 class indices: 0 background, i + 1 for defect class i.
- The minimum size applies first: a predicted connected region (8-connected, per class) smaller than its class's
  `min_area_px` is set to background, so it counts nowhere: not in IoU, not as a detection, not as a false alarm.
- IoU is dataset-level: per class, intersections summed over all images divided by unions summed over all images
  (small defects count by their pixels, not one vote per image). A class with no truth and no prediction
  anywhere has no IoU (None) and is left out of the mean. `mean_defect_iou` averages the defect classes only.
- Boundary F1 (Csurka et al., BMVC 2013), per defect class and summed over images: a boundary pixel is a mask
  pixel with a 4-neighbour outside the mask (the image border is not a boundary); a predicted boundary pixel is
  matched when a true boundary pixel of the same class lies within `boundary_tolerance_px` (Euclidean), and vice
  versa. Precision, recall and F1 come from the summed counts.
- An image is flagged when any defect pixel survives the minimum size. `detection_rate`: flagged share of the
  images with defects in their truth; `false_alarm_rate`: flagged share of the defect-free images. Images with
  neither (a defect label but an empty mask) count in neither.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from scipy import ndimage

BOUNDARY_TOLERANCE_PX = 2  # a boundary within 2 px is a match: about the spread of two annotators' outlines
WORST_CASE_COUNT = 10
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


@dataclass(frozen=True)
class Truth:
    """What evaluate needs of a sample: its mask and whether it was inspected clean."""

    image_id: str
    mask: np.ndarray  # uint8 (H, W)
    is_defect_free: bool


def mask_filter_min_area(mask: np.ndarray, min_area_px: Sequence[float]) -> np.ndarray:
    """`mask` with every connected region of class i + 1 smaller than min_area_px[i] set to background."""
    filtered = mask.copy()
    for class_index in range(1, len(min_area_px) + 1):
        minimum = min_area_px[class_index - 1]
        if minimum <= 1:
            continue
        labels, count = ndimage.label(mask == class_index, structure=EIGHT_CONNECTED)
        if count == 0:
            continue
        areas = np.bincount(labels.ravel())
        small = np.nonzero(areas < minimum)[0]
        filtered[np.isin(labels, small[small > 0])] = 0
    return filtered


def _boundary(region: np.ndarray) -> np.ndarray:
    # border_value=1: pixels outside the image count as inside, so the image edge is not a boundary
    return cast(np.ndarray, region & ~ndimage.binary_erosion(region, structure=FOUR_CONNECTED, border_value=1))


def _disc(radius_px: float) -> np.ndarray:
    reach = int(np.floor(radius_px))
    rows, columns = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    return cast(np.ndarray, rows**2 + columns**2 <= radius_px**2)


def _boundary_counts(truth: np.ndarray, predicted: np.ndarray, tolerance_px: float) -> tuple[int, int, int, int]:
    """(matched predicted, predicted, matched true, true) boundary pixel counts of one class in one image."""
    truth_boundary, predicted_boundary = _boundary(truth), _boundary(predicted)
    if not truth_boundary.any() or not predicted_boundary.any():
        return 0, int(predicted_boundary.sum()), 0, int(truth_boundary.sum())
    disc = _disc(tolerance_px)
    near_truth = ndimage.binary_dilation(truth_boundary, structure=disc)
    near_predicted = ndimage.binary_dilation(predicted_boundary, structure=disc)
    return (
        int((predicted_boundary & near_truth).sum()),
        int(predicted_boundary.sum()),
        int((truth_boundary & near_predicted).sum()),
        int(truth_boundary.sum()),
    )


def evaluate(
    truths: Sequence[Truth],
    predicted_masks: Sequence[np.ndarray],
    defect_classes: Sequence[str],
    *,
    min_area_px: Sequence[float] | None = None,
    boundary_tolerance_px: float = BOUNDARY_TOLERANCE_PX,
    inference_ms: Sequence[float] = (),
    inference_cpu_ms: Sequence[float] = (),
    worst_case_count: int = WORST_CASE_COUNT,
) -> dict[str, Any]:
    """The metrics dict (JSON-ready) of `predicted_masks` against `truths`, image by image in the same order.
    `inference_ms`: measured wall-clock time per image, reported as mean and 95th percentile, and
    `inference_cpu_ms` the process CPU time per image (None when not given): on a shared machine wall clock
    includes waiting for a core."""
    if len(truths) != len(predicted_masks):
        raise ValueError(f"{len(truths)} truths but {len(predicted_masks)} predictions")
    class_count = len(defect_classes) + 1
    minimum = list(min_area_px) if min_area_px is not None else [0.0] * len(defect_classes)
    if len(minimum) != len(defect_classes):
        raise ValueError(f"min_area_px has {len(minimum)} values for {len(defect_classes)} defect classes")
    confusion = np.zeros((class_count, class_count), dtype=np.int64)
    boundary = np.zeros((len(defect_classes), 4), dtype=np.int64)
    flagged_defective, defective, flagged_clean, clean = 0, 0, 0, 0
    per_image: list[dict[str, Any]] = []
    for truth, predicted in zip(truths, predicted_masks, strict=True):
        if predicted.shape != truth.mask.shape:
            raise ValueError(f"{truth.image_id}: prediction {predicted.shape} vs truth {truth.mask.shape}")
        predicted = mask_filter_min_area(predicted, minimum)
        confusion += np.bincount(
            truth.mask.astype(np.int64).ravel() * class_count + predicted.ravel(), minlength=class_count**2
        ).reshape(class_count, class_count)
        for class_index in range(1, class_count):
            boundary[class_index - 1] += _boundary_counts(
                truth.mask == class_index, predicted == class_index, boundary_tolerance_px
            )
        is_flagged = bool(predicted.any())
        has_defect = bool(truth.mask.any())
        if has_defect:
            defective += 1
            flagged_defective += is_flagged
        elif truth.is_defect_free:
            clean += 1
            flagged_clean += is_flagged
        truth_defect, predicted_defect = truth.mask > 0, predicted > 0
        union = int((truth_defect | predicted_defect).sum())
        per_image.append(
            {
                "image_id": truth.image_id,
                "defect_iou": None if union == 0 else int((truth_defect & predicted_defect).sum()) / union,
                "is_missed": has_defect and not is_flagged,
                "is_false_alarm": truth.is_defect_free and not has_defect and is_flagged,
                "predicted_defect_px": int(predicted_defect.sum()),
                "true_defect_px": int(truth_defect.sum()),
            }
        )
    intersections = np.diag(confusion)
    unions = confusion.sum(axis=0) + confusion.sum(axis=1) - intersections
    iou = [None if unions[index] == 0 else float(intersections[index] / unions[index]) for index in range(class_count)]
    defect_ious = [value for value in iou[1:] if value is not None]
    matched_predicted, predicted_total, matched_true, true_total = boundary.sum(axis=0)
    precision = matched_predicted / predicted_total if predicted_total else 0.0
    recall = matched_true / true_total if true_total else 0.0
    timings, cpu_timings = np.asarray(inference_ms, dtype=float), np.asarray(inference_cpu_ms, dtype=float)
    return {
        "mean_defect_iou": float(np.mean(defect_ious)) if defect_ious else None,
        "per_class_iou": dict(zip(defect_classes, iou[1:], strict=True)),
        "background_iou": iou[0],
        "pixel_accuracy": float(intersections.sum() / max(confusion.sum(), 1)),
        "boundary_f1": float(2 * precision * recall / (precision + recall)) if precision + recall else 0.0,
        "boundary_precision": float(precision),
        "boundary_recall": float(recall),
        "boundary_tolerance_px": boundary_tolerance_px,
        "per_class_boundary_f1": {
            name: _f1(*counts) for name, counts in zip(defect_classes, boundary.tolist(), strict=True)
        },
        "detection_rate": flagged_defective / defective if defective else None,
        "false_alarm_rate": flagged_clean / clean if clean else None,
        "defective_images": defective,
        "defect_free_images": clean,
        "inference_ms": float(timings.mean()) if timings.size else None,
        "inference_ms_p95": float(np.percentile(timings, 95)) if timings.size else None,
        "inference_cpu_ms": float(cpu_timings.mean()) if cpu_timings.size else None,
        "min_area_px": dict(zip(defect_classes, minimum, strict=True)),
        "confusion_matrix": {"classes": ["background", *defect_classes], "truth_by_prediction": confusion.tolist()},
        "worst_cases": _worst(per_image, worst_case_count),
    }


def _f1(matched_predicted: int, predicted: int, matched_true: int, true: int) -> float | None:
    if predicted == 0 and true == 0:
        return None
    precision = matched_predicted / predicted if predicted else 0.0
    recall = matched_true / true if true else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _worst(per_image: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Missed defects and false alarms first (largest area first), then the lowest defect IoU."""

    def badness(row: dict[str, Any]) -> tuple[Any, ...]:
        if row["is_missed"]:
            return (0, -row["true_defect_px"])
        if row["is_false_alarm"]:
            return (1, -row["predicted_defect_px"])
        return (2, row["defect_iou"] if row["defect_iou"] is not None else 1.0)

    return sorted(per_image, key=badness)[:count]
