"""The agreement functions on hand-made geometry whose answers are known by counting pixels."""

import numpy as np
import pytest

from annotation.geometry import rle_encode
from qa.agreement import (
    BOX,
    MASK,
    AgreementRules,
    ClassRule,
    Defect,
    Reason,
    image_agreement,
    image_judgement_rate,
    images_agreement,
    keypoint_agreement,
    mask_difference,
)

HEIGHT, WIDTH = 40, 60
CRACK, PORE = 1, 2


def mask_of(*, x: int, y: int, width: int, height: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    mask[y : y + height, x : x + width] = 1
    return mask


def defect(key: int, mask: np.ndarray, *, defect_class_id: int = CRACK, severity_rank: int | None = None) -> Defect:
    rows, columns = np.nonzero(mask)
    bbox = (float(columns.min()), float(rows.min()), float(np.ptp(columns) + 1), float(np.ptp(rows) + 1))
    return Defect(
        key=key, defect_class_id=defect_class_id, rle=rle_encode(mask), bbox=bbox, severity_rank=severity_rank
    )


def square(key: int, *, x: int, y: int = 5, side: int = 10, **fields) -> Defect:
    return defect(key, mask_of(x=x, y=y, width=side, height=side), **fields)


def summary(result) -> list[tuple]:
    return [
        (match.first_key, match.second_key, round(match.iou, 4), match.severity_distance, tuple(match.reasons))
        for match in result.matches
    ]


def test_identical_defects_agree_with_iou_one():
    # when
    result = image_agreement([square(1, x=5, severity_rank=2)], [square(11, x=5, severity_rank=2)])
    # then
    assert summary(result) == [(1, 11, 1.0, 0, ())]
    assert (result.is_agreed, result.is_image_judgement_agreed, result.reasons, result.mean_iou) == (
        True,
        True,
        (),
        1.0,
    )


def test_disjoint_defects_are_two_misses():
    # when
    result = image_agreement([square(1, x=0)], [square(11, x=30)])
    # then
    assert summary(result) == [
        (1, None, 0.0, None, (Reason.MISSED_BY_SECOND,)),
        (None, 11, 0.0, None, (Reason.MISSED_BY_FIRST,)),
    ]
    assert result.is_agreed is False
    assert result.reasons == (Reason.MISSED_BY_SECOND, Reason.MISSED_BY_FIRST)
    assert result.is_image_judgement_agreed is True  # both saw a crack, just not the same one
    assert result.mean_iou is None


@pytest.mark.parametrize(
    ("shift_px", "iou", "reasons"),
    [
        (1, 90 / 110, ()),  # 10x10 squares one column apart: 90 shared pixels of 110
        (5, 50 / 150, (Reason.IOU_BELOW_THRESHOLD,)),
    ],
)
def test_partial_overlap_is_judged_by_the_mask_iou_threshold(shift_px, iou, reasons):
    # when
    result = image_agreement([square(1, x=10)], [square(11, x=10 + shift_px)])
    # then
    assert summary(result) == [(1, 11, round(iou, 4), 0, reasons)]
    assert result.is_agreed is (reasons == ())


def test_one_defect_against_two_pieces_matches_the_bigger_piece_and_misses_the_other():
    # given: A drew one 20x10 scratch; B drew it as a 12-wide and an 8-wide piece
    whole = defect(1, mask_of(x=10, y=5, width=20, height=10))
    left = defect(11, mask_of(x=10, y=5, width=12, height=10))
    right = defect(12, mask_of(x=22, y=5, width=8, height=10))
    # when
    result = image_agreement([whole], [right, left])
    # then
    assert summary(result) == [
        (1, 11, 0.6, 0, (Reason.IOU_BELOW_THRESHOLD,)),
        (None, 12, 0.0, None, (Reason.MISSED_BY_FIRST,)),
    ]
    assert result.reasons == (Reason.IOU_BELOW_THRESHOLD, Reason.MISSED_BY_FIRST)


def test_swapped_classes_are_matched_by_geometry_and_reported_as_class_mismatches():
    # given
    first = [square(1, x=0, defect_class_id=CRACK), square(2, x=30, defect_class_id=PORE)]
    second = [square(11, x=0, defect_class_id=PORE), square(12, x=30, defect_class_id=CRACK)]
    # when
    result = image_agreement(first, second)
    # then
    assert summary(result) == [
        (1, 11, 1.0, None, (Reason.CLASS_MISMATCH,)),
        (2, 12, 1.0, None, (Reason.CLASS_MISMATCH,)),
    ]
    assert (result.is_agreed, result.reasons) == (False, (Reason.CLASS_MISMATCH,))
    assert result.is_image_judgement_agreed is True  # the same classes are present, in other places


def test_empty_against_empty_agrees():
    # when
    result = image_agreement([], [])
    # then
    assert (result.matches, result.is_agreed, result.is_image_judgement_agreed, result.mean_iou) == (
        (),
        True,
        True,
        None,
    )


def test_defect_free_against_a_defect_disagrees_on_the_image_judgement():
    # when
    result = image_agreement([], [square(11, x=5)])
    # then
    assert summary(result) == [(None, 11, 0.0, None, (Reason.MISSED_BY_FIRST,))]
    assert result.reasons == (Reason.DEFECT_FREE_MISMATCH, Reason.MISSED_BY_FIRST)
    assert result.is_image_judgement_agreed is False


@pytest.mark.parametrize(("tolerance", "reasons"), [(0, (Reason.SEVERITY_MISMATCH,)), (1, ())])
def test_severity_off_by_one_rank(tolerance, reasons):
    # when
    result = image_agreement(
        [square(1, x=5, severity_rank=2)],
        [square(11, x=5, severity_rank=3)],
        AgreementRules(severity_tolerance_ranks=tolerance),
    )
    # then
    assert summary(result) == [(1, 11, 1.0, 1, reasons)]


def test_a_missing_severity_against_a_set_one_disagrees_without_a_distance():
    # when
    result = image_agreement([square(1, x=5, severity_rank=1)], [square(11, x=5)])
    # then
    assert summary(result) == [(1, 11, 1.0, None, (Reason.SEVERITY_MISMATCH,))]


def test_a_class_measured_by_box_matches_thin_cracks_that_do_not_share_pixels():
    # given: two one-pixel diagonal cracks one column apart share no pixel
    first_mask, second_mask = np.zeros((HEIGHT, WIDTH), np.uint8), np.zeros((HEIGHT, WIDTH), np.uint8)
    for step in range(20):
        first_mask[step, step] = 1
        second_mask[step, step + 1] = 1
    first, second = [defect(1, first_mask)], [defect(11, second_mask)]
    by_box = AgreementRules(class_rules={CRACK: ClassRule(measure=BOX)})
    # when
    by_mask_result, by_box_result = image_agreement(first, second), image_agreement(first, second, by_box)
    # then
    assert [match.is_matched for match in by_mask_result.matches] == [False, False]
    assert summary(by_box_result) == [(1, 11, round(380 / 420, 4), 0, ())]  # boxes share 19 of 21 columns
    assert (by_box_result.matches[0].measure, by_box_result.matches[0].iou_threshold) == (BOX, 0.75)


def test_a_class_threshold_overrides_the_default():
    # given: IoU 90/110 = 0.818 passes 0.70 but not a stricter 0.90 for cracks
    rules = AgreementRules(class_rules={CRACK: ClassRule(measure=MASK, iou_threshold=0.9)})
    # when
    result = image_agreement([square(1, x=10)], [square(11, x=11)], rules)
    # then
    assert summary(result) == [(1, 11, round(90 / 110, 4), 0, (Reason.IOU_BELOW_THRESHOLD,))]
    assert result.matches[0].iou_threshold == 0.9


def test_a_batch_gives_the_same_answers_as_one_by_one():
    # given
    pairs = [([square(1, x=5)], [square(11, x=6)]), ([], []), ([square(2, x=0)], [square(12, x=30)])]
    # when
    batch = images_agreement(pairs)
    # then
    assert batch == [image_agreement(first, second) for first, second in pairs]
    assert [result.is_agreed for result in batch] == [True, True, False]
    assert image_judgement_rate(batch) == 1.0


def test_mask_difference_counts_pixels_only_in_a_only_in_b_and_in_both():
    # given: 10x10 squares one column apart
    first, second = square(1, x=10), square(11, x=11)
    # when
    difference = mask_difference([first.rle], [second.rle], height=HEIGHT, width=WIDTH)
    # then: runs are column-major and start with background
    assert sum(difference.only_first[1::2]) == 10
    assert sum(difference.only_second[1::2]) == 10
    assert sum(difference.both[1::2]) == 90
    assert difference.only_first[:2] == [10 * HEIGHT + 5, 10]  # column 10, rows 5..14
    assert all(sum(runs) == HEIGHT * WIDTH for runs in (difference.only_first, difference.only_second, difference.both))


@pytest.mark.parametrize(("offset_px", "is_agreed"), [(3.0, True), (5.0, True), (6.0, False)])
def test_keypoints_agree_within_five_pixels(offset_px, is_agreed):
    # when
    result = keypoint_agreement(np.array([[10.0, 10.0]]), np.array([[10.0 + offset_px, 10.0]]), tolerance_px=5.0)
    # then
    assert result.is_agreed is is_agreed
    assert [distance for _, _, distance in result.pairs] == ([offset_px] if is_agreed else [])


def test_mask_difference_on_runs_matches_decoded_masks():
    # given: random masks, several per side, on odd image sizes (the reference works on decoded numpy masks)
    rng = np.random.default_rng(0)

    def runs(mask: np.ndarray) -> list[int]:
        flat = mask.flatten(order="F")
        boundaries = np.concatenate([[0], np.flatnonzero(np.diff(flat.astype(np.int8))) + 1, [flat.size]])
        return [0, *np.diff(boundaries).tolist()] if flat[0] else np.diff(boundaries).tolist()

    for _ in range(50):
        height, width = (int(side) for side in rng.integers(1, 30, 2))
        sides = [
            [(rng.random((height, width)) < rng.random()).astype(np.uint8) for _ in range(rng.integers(0, 4))]
            for _ in range(2)
        ]
        first, second = (np.zeros((height, width), bool) for _ in range(2))
        for mask in sides[0]:
            first |= mask.astype(bool)
        for mask in sides[1]:
            second |= mask.astype(bool)
        # when
        difference = mask_difference(
            [rle_encode(mask) for mask in sides[0]], [rle_encode(mask) for mask in sides[1]], height=height, width=width
        )
        # then
        assert (difference.only_first, difference.only_second, difference.both) == (
            runs(first & ~second),
            runs(second & ~first),
            runs(first & second),
        )
