"""rle_from_crop (computed on every save) must equal pycocotools' encoding of the full mask, edge cases included."""

import numpy as np
import pytest

from annotation import geometry, raster


def full_mask(crop: np.ndarray, *, x: int, y: int, width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=np.uint8)
    part = crop[: height - y, : width - x]
    mask[y : y + part.shape[0], x : x + part.shape[1]] = part
    return mask


@pytest.mark.parametrize(
    ("crop", "x", "y", "width", "height"),
    [
        (np.ones((4, 3), np.uint8), 0, 0, 3, 4),  # the whole image: one run, no background at all
        (np.ones((4, 2), np.uint8), 1, 0, 3, 4),  # full height: the columns' runs join into one
        (np.array([[0, 1], [1, 1], [1, 0]], np.uint8), 2, 0, 4, 3),  # full height, joined across columns
        (np.zeros((2, 2), np.uint8), 1, 1, 5, 5),  # empty
        (np.ones((3, 3), np.uint8), 3, 3, 5, 5),  # the box reaches one pixel past the last row and column
    ],
)
def test_edge_cases_match_the_full_image_encoding(crop, x, y, width, height):
    # when
    rle = geometry.rle_from_crop(crop, x=x, y=y, width=width, height=height)
    # then
    assert rle == geometry.rle_encode(full_mask(crop, x=x, y=y, width=width, height=height))


def test_random_crops_match_the_full_image_encoding():
    # given
    rng = np.random.default_rng(7)
    for _ in range(300):
        height, width = (int(value) for value in rng.integers(1, 24, size=2))
        crop_height, crop_width = int(rng.integers(1, height + 2)), int(rng.integers(1, width + 2))
        y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
        crop = (rng.random((crop_height, crop_width)) < rng.choice([0.2, 0.6, 1.0])).astype(np.uint8)
        # when
        rle = geometry.rle_from_crop(crop, x=x, y=y, width=width, height=height)
        # then
        assert rle == geometry.rle_encode(full_mask(crop, x=x, y=y, width=width, height=height))


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 17, 4099])
@pytest.mark.parametrize("density", [0.0, 0.002, 0.5, 1.0])
@pytest.mark.parametrize("offset", [0, 3])  # a view that starts between two 8-byte words
def test_set_positions_are_numpys_nonzero(size, density, offset):
    # given
    flags = ((np.random.default_rng(size).random(size + offset) < density).astype(np.uint8) * 255)[offset:]
    # when
    positions = raster._set_positions(flags)
    # then
    assert positions.tolist() == np.flatnonzero(flags).tolist()
