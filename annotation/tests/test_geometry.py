import numpy as np
import pytest

from annotation import geometry


def square(x: float, y: float, side: float) -> list[list[float]]:
    return [[x, y], [x + side, y], [x + side, y + side], [x, y + side]]


def test_square_rasterises_including_its_outline():
    polygons = geometry.polygons_from_json({"polygons": [{"exterior": square(2, 3, 4)}]}, width=20, height=20)
    mask = geometry.rasterize(polygons, width=20, height=20)
    assert mask.sum() == 25  # pixel centres 2..6 x 3..7
    assert geometry.polygons_bbox(polygons) == geometry.Box(x=2, y=3, width=5, height=5)


def test_hole_is_removed_but_its_outline_kept():
    mask = np.zeros((20, 20), dtype=np.uint8)
    mask[2:15, 2:15] = 1
    mask[6:10, 6:10] = 0
    polygons = geometry.mask_to_polygons(mask)
    assert len(polygons) == 1
    assert len(polygons[0].holes) == 1
    assert np.array_equal(geometry.rasterize(polygons, width=20, height=20), mask)


def test_rle_from_crop_equals_full_image_encoding():
    mask = np.zeros((40, 30), dtype=np.uint8)
    mask[5:9, 20:29] = 1
    mask[30:35, 0:3] = 1
    polygons = [polygon for region in geometry.mask_regions(mask) for polygon in geometry.mask_to_polygons(region)]
    box = geometry.polygons_bbox(polygons)
    crop = geometry.rasterize_crop(polygons, box)
    rle = geometry.rle_from_crop(crop, x=int(box.x), y=int(box.y), width=30, height=40)
    assert rle == geometry.rle_encode(mask)
    assert np.array_equal(geometry.rle_decode(rle), mask)


def test_single_pixel_region_survives_the_round_trip():
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[4, 7] = 1
    polygons = geometry.mask_to_polygons(mask)
    assert np.array_equal(geometry.rasterize(polygons, width=10, height=10), mask)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "geometry must be"),
        ({"polygons": [{"exterior": [[0, 0], [1, 1]]}]}, "at least 3 vertices"),
        ({"polygons": [{"exterior": [[0, 0], [1, "a"], [2, 2]]}]}, "number pairs"),
        ({"polygons": [{"exterior": square(0, 0, 50)}]}, "outside"),
        ({"polygons": [{"exterior": [[0, 0], [float("nan"), 1], [2, 2]]}]}, "finite"),
    ],
)
def test_malformed_geometry_is_refused_with_a_reason(raw, message):
    with pytest.raises(geometry.GeometryError, match=message):
        geometry.polygons_from_json(raw, width=20, height=20)


def test_measure_is_rotation_invariant():
    upright = geometry.measure([geometry.Polygon(exterior=np.array(square(0, 0, 10), dtype=float))])
    diagonal = np.array([[10, 0], [20, 10], [10, 20], [0, 10]], dtype=float)
    rotated = geometry.measure([geometry.Polygon(exterior=diagonal)])
    assert upright.length_px == pytest.approx(11)
    assert rotated.length_px == pytest.approx(np.hypot(10, 10) + 1, rel=1e-4)


def test_iou_of_two_empty_masks_is_agreement():
    empty = np.zeros((4, 4), dtype=np.uint8)
    assert geometry.iou(empty, empty) == 1.0


def test_island_inside_another_polygons_hole_survives_in_any_order():
    # given: a ring with a hole, and an island inside that hole, as one annotation's two polygons
    mask = np.zeros((30, 30), dtype=np.uint8)
    mask[2:28, 2:28] = 1
    mask[8:22, 8:22] = 0
    mask[12:18, 12:18] = 1
    polygons = geometry.mask_to_polygons(mask)
    assert len(polygons) == 2
    # when / then: both orders rasterise to the same mask
    for ordered in (polygons, polygons[::-1]):
        assert np.array_equal(geometry.rasterize(ordered, width=30, height=30), mask)
