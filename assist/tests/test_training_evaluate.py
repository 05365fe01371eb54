"""evaluate() and the image-level decision on hand-made masks, with the exact numbers worked out by hand."""

import numpy as np
import pytest

from assist.training.decision import DefectDecision, Regions, decision_apply, decision_calibrate, regions_score
from assist.training.evaluate import Truth, evaluate, mask_filter_min_area
from assist.training.samples import Sample

CLASSES = ["blowhole", "crack"]
BLOWHOLE, CRACK = 1, 2
MIN_AREA_PX = (4, 5)  # blowhole, crack


def _mask(*regions: tuple[int, slice, slice]) -> np.ndarray:
    mask = np.zeros((10, 10), dtype=np.uint8)
    for class_index, rows, columns in regions:
        mask[rows, columns] = class_index
    return mask


def _four_images() -> tuple[list[Truth], list[np.ndarray]]:
    """A: a 4x4 blowhole predicted one pixel down-right (overlap 3x3), plus a 2-px blowhole under the minimum.
    B: defect-free; a 3-px crack (under the minimum) and a 2x2 blowhole (at the minimum: a false alarm).
    C: an 8-px crack, missed. D: defect-free, nothing predicted."""
    truths = [
        Truth("A", _mask((BLOWHOLE, slice(2, 6), slice(2, 6))), is_defect_free=False),
        Truth("B", _mask(), is_defect_free=True),
        Truth("C", _mask((CRACK, slice(1, 9), slice(4, 5))), is_defect_free=False),
        Truth("D", _mask(), is_defect_free=True),
    ]
    predictions = [
        _mask((BLOWHOLE, slice(3, 7), slice(3, 7)), (BLOWHOLE, slice(9, 10), slice(0, 2))),
        _mask((CRACK, slice(0, 3), slice(8, 9)), (BLOWHOLE, slice(6, 8), slice(6, 8))),
        _mask(),
        _mask(),
    ]
    return truths, predictions


def test_metrics_on_hand_made_masks_are_exact():
    # given
    truths, predictions = _four_images()
    before = [prediction.copy() for prediction in predictions]
    # when
    metrics = evaluate(
        truths, predictions, CLASSES, min_area_px=MIN_AREA_PX, boundary_tolerance_px=1, inference_ms=[10, 20, 30, 40]
    )
    # then
    # blowhole: intersection 9; union 16 + 16 - 9 in A plus the 4 false-alarm pixels in B. crack: 0 / 8.
    assert metrics["per_class_iou"] == {"blowhole": pytest.approx(9 / 27), "crack": 0.0}
    assert metrics["mean_defect_iou"] == pytest.approx((9 / 27 + 0) / 2)
    # 7 + 7 blowhole pixels wrong in A, 4 in B, 8 crack pixels in C, of 400
    assert metrics["pixel_accuracy"] == pytest.approx(374 / 400)
    # boundaries within 1 px: 11 of the 12 ring pixels match each way in A (the far corners are sqrt(2) away);
    # B adds 4 unmatched predicted, C 8 unmatched true: precision 11/16, recall 11/20
    assert metrics["boundary_precision"] == pytest.approx(11 / 16)
    assert metrics["boundary_recall"] == pytest.approx(11 / 20)
    assert metrics["boundary_f1"] == pytest.approx(11 / 18)
    assert (metrics["detection_rate"], metrics["false_alarm_rate"]) == (0.5, 0.5)
    assert (metrics["defective_images"], metrics["defect_free_images"]) == (2, 2)
    assert metrics["inference_ms"] == 25.0
    assert metrics["confusion_matrix"]["truth_by_prediction"] == [
        [400 - 16 - 8 - 7 - 4, 7 + 4, 0],
        [7, 9, 0],
        [8, 0, 0],
    ]
    assert [row["image_id"] for row in metrics["worst_cases"]] == ["C", "B", "A", "D"]
    assert metrics["worst_cases"][2]["defect_iou"] == pytest.approx(9 / 23)
    assert all(np.array_equal(prediction, old) for prediction, old in zip(predictions, before, strict=True))


def test_without_minimum_size_small_regions_count():
    truths, predictions = _four_images()

    metrics = evaluate(truths, predictions, CLASSES)

    assert metrics["per_class_iou"]["blowhole"] == pytest.approx(9 / 29)  # the 2-px blowhole joins the union
    assert metrics["per_class_iou"]["crack"] == 0.0  # 3 px predicted on B, 8 true on C: union 11
    assert metrics["false_alarm_rate"] == 0.5


def test_a_class_absent_everywhere_has_no_iou_and_is_left_out_of_the_mean():
    truth = Truth("A", _mask((BLOWHOLE, slice(2, 6), slice(2, 6))), is_defect_free=False)

    metrics = evaluate([truth], [truth.mask.copy()], CLASSES)

    assert metrics["per_class_iou"] == {"blowhole": 1.0, "crack": None}
    assert metrics["mean_defect_iou"] == 1.0
    assert metrics["boundary_f1"] == 1.0
    assert metrics["false_alarm_rate"] is None


def test_the_image_border_is_not_a_boundary():
    full = np.full((10, 10), BLOWHOLE, dtype=np.uint8)

    metrics = evaluate([Truth("A", full, is_defect_free=False)], [full.copy()], CLASSES)

    assert (metrics["boundary_precision"], metrics["boundary_recall"], metrics["boundary_f1"]) == (0.0, 0.0, 0.0)
    assert metrics["per_class_boundary_f1"] == {"blowhole": None, "crack": None}


def test_min_area_filter_keeps_regions_at_the_minimum():
    mask = _mask((BLOWHOLE, slice(0, 2), slice(0, 2)), (BLOWHOLE, slice(5, 6), slice(5, 8)))

    filtered = mask_filter_min_area(mask, [4, 1])

    assert filtered.sum() == 4 * BLOWHOLE
    assert filtered[:2, :2].all()


def _probabilities(mask: np.ndarray, confidence: float) -> np.ndarray:
    """Class probabilities with `confidence` on the mask's class and the rest spread over the others."""
    probabilities = np.full((3, *mask.shape), (1 - confidence) / 2, dtype=np.float32)
    np.put_along_axis(probabilities, mask[None].astype(np.int64), confidence, axis=0)
    return probabilities


def test_regions_below_the_threshold_or_minimum_are_dropped():
    # given: a confident 3x3 blowhole, an unsure 3x3 blowhole, a confident 2-px crack (minimum 5)
    mask = _mask(
        (BLOWHOLE, slice(0, 3), slice(0, 3)), (BLOWHOLE, slice(6, 9), slice(6, 9)), (CRACK, slice(0, 2), slice(8, 9))
    )
    probabilities = _probabilities(mask, 0.9)
    probabilities[:, 6:9, 6:9] = np.array([0.3, 0.6, 0.1])[:, None, None]
    decision = DefectDecision(min_area_px=MIN_AREA_PX, score_threshold=0.7)
    # when
    predicted, score = decision_apply(probabilities, None, decision)
    # then
    assert score == pytest.approx(0.9)
    assert np.array_equal(predicted, _mask((BLOWHOLE, slice(0, 3), slice(0, 3))))


def test_image_head_probability_scales_the_region_scores():
    mask = _mask((BLOWHOLE, slice(0, 3), slice(0, 3)))

    regions = regions_score(_probabilities(mask, 0.9), 0.5, MIN_AREA_PX)

    assert regions.scores.tolist() == [pytest.approx(0.45)]


def test_calibration_flags_at_most_the_target_share_of_defect_free_images():
    # given: defect-free images scoring 0.9, 0.3, 0.2, 0.1 and one defective image scoring 0.5
    scores = [0.9, 0.3, 0.2, 0.1, 0.5]
    regions = [
        Regions(
            labels=np.ones((2, 2), dtype=np.int32),
            class_indices=np.array([1], dtype=np.uint8),
            scores=np.array([score]),
        )
        for score in scores
    ]
    clean, defective = np.zeros((2, 2), np.uint8), np.ones((2, 2), np.uint8)
    samples = [Sample(image=clean, mask=clean, image_id=str(i), name=str(i), is_defect_free=True) for i in range(4)]
    samples.append(Sample(image=clean, mask=defective, image_id="4", name="4", is_defect_free=False))
    # when
    decision = decision_calibrate(regions, samples, (4, 5), false_alarm_target=0.25)
    # then: one of four defect-free images may be flagged (0.9); the threshold sits just above 0.3
    assert decision.score_threshold == pytest.approx(0.3, abs=1e-5)
    assert decision.score_threshold > 0.3
    assert [bool(region.mask(decision.score_threshold).any()) for region in regions] == [
        True,
        False,
        False,
        False,
        True,
    ]
    assert DefectDecision.from_json(decision.to_json()) == decision
