"""Pixel-edge outlines (what polygon exports hold) and the batched RLE decoder: exact against pycocotools."""

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from annotation import geometry
from annotation.outlines import crops_from_rles, edge_outlines, edge_outlines_for_rles, rle_counts_many


def decoded(outline, *, height: int, width: int) -> np.ndarray:
    """What pycocotools fills for an outline: each exterior minus its holes."""
    mask = np.zeros((height, width), dtype=bool)
    for polygon in outline:

        def fill(ring: str) -> np.ndarray:
            points = [float(value) for value in ring.split(",")]
            return coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects([points], height, width))).astype(bool)

        inside = fill(polygon.exterior)
        for hole in polygon.holes:
            inside &= ~fill(hole)
        mask |= inside
    return mask.astype(np.uint8)


def test_random_masks_decode_exactly_from_their_outlines():
    # given: 1,500 random masks of every density, so spurs, diagonal contacts, holes and islands in holes occur
    rng = np.random.default_rng(5)
    masks = [
        (rng.random((rng.integers(1, 14), rng.integers(1, 14))) < rng.random()).astype(np.uint8) for _ in range(1500)
    ]
    # when / then
    mismatches = []
    for index, mask in enumerate(masks):
        image = np.zeros((mask.shape[0] + 4, mask.shape[1] + 5), dtype=np.uint8)
        image[3 : 3 + mask.shape[0], 2 : 2 + mask.shape[1]] = mask
        outline = edge_outlines(mask, x=2, y=3)
        if not np.array_equal(decoded(outline, height=image.shape[0], width=image.shape[1]), image):
            mismatches.append(index)
    assert mismatches == []


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        ([[1]], ["0,1,1,1,1,0,0,0"]),  # one pixel: its four corners
        ([[1, 1, 1]], ["0,0,0,1,3,1,3,0"]),  # a run: four corners, nothing in between
        ([[1, 0], [0, 1]], ["1,0,0,0,0,1,1,1,1,2,2,2,2,1,1,1"]),  # diagonal neighbours touch at (1, 1)
    ],
)
def test_outline_vertices_are_pixel_corners(mask, expected):
    outline = edge_outlines(np.array(mask, dtype=np.uint8), x=0, y=0)
    assert [polygon.exterior for polygon in outline] == expected


def test_a_ring_has_its_hole():
    mask = np.ones((5, 5), dtype=np.uint8)
    mask[2, 2] = 0
    [polygon] = edge_outlines(mask, x=10, y=20)
    assert polygon.exterior == "10,20,10,25,15,25,15,20"
    assert polygon.holes == ("12,22,13,22,13,23,12,23",)  # the pixel at (2, 2) of the crop, the other way round


def test_rle_counts_decode_like_pycocotools():
    rng = np.random.default_rng(1)
    masks = [(rng.random((rng.integers(1, 30), rng.integers(1, 30))) < 0.3).astype(np.uint8) for _ in range(200)]
    encoded = [coco_mask.encode(np.asfortranarray(mask)) for mask in masks]
    counts, per_string = rle_counts_many([rle["counts"].decode() for rle in encoded])
    offset = 0
    for mask, number in zip(masks, per_string, strict=True):
        runs = counts[offset : offset + number]
        offset += number
        expanded = np.repeat(np.arange(len(runs)) % 2, runs).astype(np.uint8)
        assert np.array_equal(expanded.reshape(mask.shape[1], mask.shape[0]).T, mask)


def test_crops_hold_exactly_the_set_pixels_and_their_extent():
    # given: masks that reach the image's edges, wrap from one column's bottom to the next one's top, or are empty
    rng = np.random.default_rng(2)
    masks = [(rng.random((7, 6)) < 0.4).astype(np.uint8) for _ in range(300)]
    masks.append(np.zeros((4, 4), dtype=np.uint8))
    full_height = np.zeros((5, 4), dtype=np.uint8)
    full_height[3:, 1] = full_height[:2, 2] = 1
    masks.append(full_height)
    rles = [geometry.rle_encode(mask) for mask in masks]
    # when
    crops = crops_from_rles(rles)
    # then
    for mask, (crop, x, y) in zip(masks, crops, strict=True):
        rebuilt = np.zeros_like(mask)
        rebuilt[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
        assert np.array_equal(rebuilt, mask)
        if mask.any():
            rows, columns = np.nonzero(mask)
            assert (x, y, crop.shape[1], crop.shape[0]) == (
                columns.min(),
                rows.min(),
                columns.max() - columns.min() + 1,
                rows.max() - rows.min() + 1,
            )
        else:
            assert crop.size == 0


def test_outlines_from_rles_match_outlines_from_masks():
    rng = np.random.default_rng(3)
    masks = [(rng.random((9, 11)) < 0.45).astype(np.uint8) for _ in range(100)]
    from_rles = edge_outlines_for_rles([geometry.rle_encode(mask) for mask in masks])
    assert from_rles == [edge_outlines(mask, x=0, y=0) for mask in masks]
