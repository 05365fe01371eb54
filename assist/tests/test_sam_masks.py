"""SAM's low-resolution logits to the mask an outline is traced from (assist/sam/masks.py): the upscaling equals
SAM's own (PyTorch's two bilinear resizes), the window loses no mask pixel, and the clean-up removes specks and
pinholes but never what the inspector pointed at. Pure: numpy, OpenCV and torch's F.interpolate as the reference.
The editor's worker does the same (frontend/src/sam/masks.test.ts has these cases too)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from assist.sam.masks import (
    MIN_REGION_FLOOR_PX,
    min_region_px_for,
    small_regions_remove,
    upscaling_for,
)
from assist.sam.transforms import IMAGE_SIDE_PX, LOW_RES_SIDE_PX, resized_shape

REGION_SHAPES = [(373, 248), (180, 300), (60, 80), (1024, 1024), (2048, 1500)]
# Logits. PyTorch (and onnxruntime) place the samples in float32, up to ~5e-5 px off at the far end of a 1024 px
# axis (masks.py computes them in float64): times the logits' slope (random ones here: ~3 a px), ~2e-4.
FLOAT32_ROUNDING = 1e-3


def sam_upscaled(low_res: np.ndarray, region_shape: tuple[int, int]) -> np.ndarray:
    """SAM's ONNX wrapper's mask_postprocessing, in PyTorch: 256 -> 1024, crop the padding, -> the region."""
    logits = torch.from_numpy(low_res[None, None])
    logits = F.interpolate(logits, size=(IMAGE_SIDE_PX, IMAGE_SIDE_PX), mode="bilinear", align_corners=False)
    height, width = resized_shape(*region_shape)
    logits = logits[..., :height, :width]
    return F.interpolate(logits, size=region_shape, mode="bilinear", align_corners=False)[0, 0].numpy()


def blob_logits(seed: int) -> np.ndarray:
    """Low-resolution logits with a few positive blobs, smooth as a decoder's."""
    generator = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:LOW_RES_SIDE_PX, 0:LOW_RES_SIDE_PX]
    logits = np.full((LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), -8.0)
    for _ in range(3):
        row, column, radius = generator.uniform(20, 150), generator.uniform(20, 150), generator.uniform(3, 25)
        logits = np.maximum(logits, 6.0 - 12.0 * np.hypot(rows - row, columns - column) / radius)
    return (logits + generator.normal(0, 0.3, logits.shape)).astype(np.float32)


@pytest.mark.parametrize("region_shape", REGION_SHAPES)
def test_upscaling_is_sams(region_shape):
    # given
    low_res = np.random.default_rng(0).normal(0, 3, (LOW_RES_SIDE_PX, LOW_RES_SIDE_PX)).astype(np.float32)
    expected = sam_upscaled(low_res, region_shape)
    # when
    upscaled = upscaling_for(region_shape).logits(low_res)
    # then
    assert upscaled.shape == region_shape
    assert np.abs(upscaled - expected).max() < FLOAT32_ROUNDING
    decided = np.abs(expected) > FLOAT32_ROUNDING
    assert np.array_equal((upscaled > 0)[decided], (expected > 0)[decided])


@pytest.mark.parametrize("region_shape", REGION_SHAPES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_window_holds_every_mask_pixel(region_shape, seed):
    # given
    low_res = blob_logits(seed)
    upscaling = upscaling_for(region_shape)
    everywhere = upscaling.logits(low_res) > 0
    # when
    mask, window = upscaling.mask(low_res)
    # then: the same pixels, and the window is smaller than the region
    assert window is not None
    x, y, width, height = window
    assert mask.shape == (height, width)
    assert np.array_equal(upscaling.full_mask(low_res), everywhere)
    assert everywhere.sum() == mask.sum()
    assert width * height < region_shape[0] * region_shape[1]


def test_nothing_above_the_threshold_is_an_empty_mask():
    upscaling = upscaling_for((373, 248))
    mask, window = upscaling.mask(np.full((LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), -1.0, np.float32))
    assert (mask.shape, window) == ((0, 0), None)
    # cells above the threshold only in the padding (below a wide region's resized height) are not in the region
    padding_only = np.full((LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), -1.0, np.float32)
    padding_only[200:, :] = 5.0
    assert upscaling_for((100, 400)).mask(padding_only)[1] is None


def test_min_region_px_is_a_share_of_the_box_or_the_region():
    assert min_region_px_for(box=None, region_shape=(373, 248)) == 93  # 0.1% of 92,504 px, rounded up
    assert min_region_px_for(box=(10, 10, 209, 109), region_shape=(2048, 2048)) == 20  # 0.1% of 200 x 100 px
    assert min_region_px_for(box=(10, 10, 20, 20), region_shape=(2048, 2048)) == MIN_REGION_FLOOR_PX


def speckled_blob() -> np.ndarray:
    """A 40 x 40 px blob with a 2 x 2 pinhole and a 6 x 6 hole, a 2 x 2 speck and a 6 x 6 island beside it."""
    mask = np.zeros((60, 80), bool)
    mask[10:50, 10:50] = True
    mask[20:22, 20:22] = False  # pinhole, 4 px
    mask[30:36, 30:36] = False  # hole, 36 px
    mask[5:7, 60:62] = True  # speck, 4 px
    mask[40:46, 60:66] = True  # island, 36 px
    return mask


def test_small_holes_are_filled_and_small_islands_removed():
    # when
    cleaned = small_regions_remove(speckled_blob(), min_region_px=10)
    # then
    expected = speckled_blob()
    expected[20:22, 20:22] = True
    expected[5:7, 60:62] = False
    assert np.array_equal(cleaned, expected)


def test_what_the_inspector_clicked_stays():
    # when: a positive click on the speck, a negative one in the pinhole, and a threshold above everything but
    # the blob
    cleaned = small_regions_remove(
        speckled_blob(), min_region_px=100, positive_clicks=((60.0, 5.0),), negative_clicks=((21.0, 21.0),)
    )
    # then
    expected = speckled_blob()
    expected[30:36, 30:36] = True  # the hole, filled
    expected[40:46, 60:66] = False  # the island, removed
    assert np.array_equal(cleaned, expected)


def test_the_largest_island_stays_when_all_are_small():
    cleaned = small_regions_remove(speckled_blob(), min_region_px=10_000)
    assert cleaned.sum() == 40 * 40  # the blob, its holes filled
    assert cleaned[10:50, 10:50].all()


def test_a_bay_reaching_the_border_is_not_a_hole():
    # given: a mask whose background pocket opens onto the region's border
    mask = np.ones((20, 20), bool)
    mask[8:12, 0:5] = False
    # when
    cleaned = small_regions_remove(mask, min_region_px=100)
    # then
    assert np.array_equal(cleaned, mask)


def test_holes_are_four_connected_as_the_outline_traces_them():
    # given: two 1 px holes touching at a corner: one 8-connected hole of 2 px, two 4-connected ones of 1 px
    mask = np.ones((10, 10), bool)
    mask[4, 4] = mask[5, 5] = False
    # then: each is a hole of its own, under a threshold of 2 px
    assert small_regions_remove(mask, min_region_px=2).all()


def test_a_window_cleans_as_its_whole_region():
    # given: SAM-like logits over a region, the mask of the whole region and of its window
    upscaling = upscaling_for((373, 248))
    low_res = blob_logits(4)
    low_res[100:110, 60:70] = -5.0  # a hole in a blob
    mask, window = upscaling.mask(low_res)
    assert window is not None
    x, y, width, height = window
    clicks = ((float(x + width // 2), float(y + height // 2)),)
    # when
    in_window = small_regions_remove(mask, min_region_px=93, offset=(x, y), positive_clicks=clicks)
    whole = small_regions_remove(upscaling.full_mask(low_res), min_region_px=93, positive_clicks=clicks)
    # then
    assert np.array_equal(whole[y : y + height, x : x + width], in_window)
    assert whole.sum() == in_window.sum()
