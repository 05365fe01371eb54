"""The geometry budget in annotation/geometry.py: rasterising polygon by polygon gives exactly the old whole-crop
result, its work is counted in pixels of the polygons' own boxes (not the image's), and geometry over a limit is
refused while parsing, before anything is drawn."""

import math

import cv2
import numpy as np
import pytest

from annotation import geometry, raster
from annotation.tests.geometry_cases import (
    SMALL_BUDGET,
    UNLIMITED,
    comb,
    holed_triangles,
    small_budget_cases,
    star,
    triangle,
    worst_accepted,
)


def reference_rasterize_crop(polygons: list[geometry.Polygon], box: geometry.Box) -> np.ndarray:
    """The rasteriser before the geometry budget (commit 7b9e1f7): every polygon drawn over the whole crop. The
    oracle the per-polygon rasteriser must equal bit for bit."""
    crop = np.zeros((int(box.height), int(box.width)), dtype=np.uint8)
    scratch = np.zeros_like(crop) if len(polygons) > 1 and any(polygon.holes for polygon in polygons) else None
    for polygon in polygons:
        target = crop if scratch is None or not polygon.holes else scratch
        if target is scratch:
            scratch.fill(0)
        exterior = geometry._fixed_point(polygon.exterior, box.x, box.y)
        cv2.fillPoly(target, [exterior], 1, lineType=cv2.LINE_8, shift=geometry.SUBPIXEL_BITS)
        cv2.polylines(target, [exterior], True, 1, lineType=cv2.LINE_8, shift=geometry.SUBPIXEL_BITS)
        for hole in polygon.holes:
            hole_points = geometry._fixed_point(hole, box.x, box.y)
            cv2.fillPoly(target, [hole_points], 0, lineType=cv2.LINE_8, shift=geometry.SUBPIXEL_BITS)
            cv2.polylines(target, [hole_points], True, 1, lineType=cv2.LINE_8, shift=geometry.SUBPIXEL_BITS)
        if target is scratch:
            np.maximum(crop, scratch, out=crop)
    return crop


def full_mask(crop: np.ndarray, box: geometry.Box, *, width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=np.uint8)
    x, y = int(box.x), int(box.y)
    part = crop[: height - y, : width - x]
    mask[y : y + part.shape[0], x : x + part.shape[1]] = part
    return mask


def random_ring(rng: np.random.Generator, centre: np.ndarray, radius: float, *, width: int, height: int) -> list:
    count = int(rng.integers(3, 12))
    angles = np.sort(rng.uniform(0, 2 * math.pi, count))
    ring = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius * rng.uniform(0.2, 1, (count, 1))
    if rng.random() < 0.3:  # on and near the half pixel, where rounding decides
        ring = np.round(ring * 2) / 2 + rng.choice([0, 0.01, -0.01, 0.49, -0.49, 1 / 32], size=ring.shape)
    if rng.random() < 0.2:
        rng.shuffle(ring)  # crossing itself
    return np.clip(ring, -0.5, [width - 0.5, height - 0.5]).tolist()


def random_geometry(rng: np.random.Generator, *, width: int, height: int, polygons: int) -> dict:
    """Overlapping polygons, some with holes that stick out of their exterior or out of the whole box."""
    result = []
    for _ in range(polygons):
        centre = rng.uniform(-5, [width + 5, height + 5])
        radius = rng.uniform(0.3, 40)
        holes = [
            random_ring(
                rng, centre + rng.uniform(-radius, radius, 2), rng.uniform(0.3, radius), width=width, height=height
            )
            for _ in range(int(rng.integers(0, 4)) if rng.random() < 0.5 else 0)
        ]
        result.append({"exterior": random_ring(rng, centre, radius, width=width, height=height), "holes": holes})
    return {"polygons": result}


# The rasteriser: the same pixels as before, polygon by polygon


def test_rasterising_polygon_by_polygon_equals_the_whole_crop_bit_for_bit():
    # given: random overlapping polygons, holes, islands, vertices on the image's far edges
    rng = np.random.default_rng(14)
    checked = 0
    while checked < 1500:
        width, height = (int(value) for value in rng.integers(3, 80, size=2))
        data = random_geometry(rng, width=width, height=height, polygons=int(rng.integers(1, 6)))
        try:
            polygons = geometry.polygons_from_json(data, width=width, height=height)
        except geometry.GeometryError:
            continue  # a ring that clipping made degenerate
        box = geometry.polygons_bbox(polygons)
        expected = reference_rasterize_crop(polygons, box)
        # when
        crop = geometry.rasterize_crop(polygons, box)
        runs = geometry.rasterize_runs(polygons)
        # then
        assert np.array_equal(crop, expected)
        assert runs.area_px == int(expected.sum())  # the crop's count, pixels one past the image included
        assert geometry.rle_from_runs(runs, width=width, height=height) == geometry.rle_encode(
            full_mask(expected, box, width=width, height=height)
        )
        checked += 1


def test_many_polygons_with_holes_on_a_larger_image_rasterise_as_before():
    # given: hundreds of polygons, so several share each atlas
    rng = np.random.default_rng(3)
    for _ in range(20):
        width, height = (int(value) for value in rng.integers(100, 600, size=2))
        data = random_geometry(rng, width=width, height=height, polygons=int(rng.integers(50, 300)))
        try:
            polygons = geometry.polygons_from_json(data, width=width, height=height, budget=UNLIMITED)
        except geometry.GeometryError:
            continue
        box = geometry.polygons_bbox(polygons)
        expected = reference_rasterize_crop(polygons, box)
        # when
        runs = geometry.rasterize_runs(polygons)
        # then
        assert runs.area_px == int(expected.sum())
        assert geometry.rle_from_runs(runs, width=width, height=height) == geometry.rle_encode(
            full_mask(expected, box, width=width, height=height)
        )


def test_a_vertex_on_the_far_edge_keeps_counting_the_pixel_past_the_image_as_before():
    # given: a square from edge to edge of a 10 x 10 image; cv2 rounds the far edge (9.5) to pixel 10
    polygons = geometry.polygons_from_json(
        {"polygons": [{"exterior": [[-0.5, -0.5], [9.5, -0.5], [9.5, 9.5], [-0.5, 9.5]]}]}, width=10, height=10
    )
    # when
    runs = geometry.rasterize_runs(polygons)
    # then: the area is the crop's (11 x 11, as before); the RLE is the image's 100 pixels
    assert runs.area_px == 121
    assert geometry.rle_decode(geometry.rle_from_runs(runs, width=10, height=10)).sum() == 100


# The work: pixels of the polygons' own boxes, counted


class PixelCounter:
    """Counts the pixels rasterising allocates and scans (every canvas and atlas is scanned once for runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.scanned_px = 0
        runs_of = raster._runs_of

        def counting_runs_of(mask: np.ndarray, *, x: int | np.ndarray = 0, y: int | np.ndarray = 0) -> raster.Runs:
            self.scanned_px += mask.size
            return runs_of(mask, x=x, y=y)

        monkeypatch.setattr(raster, "_runs_of", counting_runs_of)


def canvas_px(data: dict) -> int:
    """The pixels of each polygon's canvas (its box and a margin each way), added up."""
    total = 0
    for polygon in data["polygons"]:
        points = np.array([vertex for ring in (polygon["exterior"], *polygon.get("holes", [])) for vertex in ring])
        low, high = np.floor(points.min(axis=0) + 0.5), np.floor(points.max(axis=0) + 0.5)
        total += int(np.prod(high - low + 1 + 2 * raster.CANVAS_MARGIN_PX))
    return total


def test_many_polygons_on_a_huge_image_cost_their_own_boxes_not_the_image(monkeypatch):
    # given: 500 small triangles scattered over a 14,000 x 14,000 image (196 MP)
    side = 14_000
    data = {
        "polygons": [
            {"exterior": triangle((index * 7919) % (side - 60), (index * 104729) % (side - 60), 50)}
            for index in range(500)
        ]
    }
    polygons = geometry.polygons_from_json(data, width=side, height=side)
    counter = PixelCounter(monkeypatch)
    # when
    runs = geometry.rasterize_runs(polygons)
    # then: at most twice the triangles' own canvases (an atlas packs canvases of heights within a factor of 2)
    assert counter.scanned_px <= 2 * canvas_px(data)
    assert counter.scanned_px < 3_000_000 < side * side // 50
    assert runs.area_px == sum(
        int(reference_rasterize_crop([polygon], geometry.polygons_bbox([polygon])).sum()) for polygon in polygons
    )  # they do not overlap


def test_two_specks_at_opposite_corners_cost_two_specks(monkeypatch):
    # given: the old crop spanned the whole 14,000 x 14,000 image between them
    side = 14_000
    data = {"polygons": [{"exterior": triangle(0, 0, 3)}, {"exterior": triangle(side - 4, side - 4, 3)}]}
    polygons = geometry.polygons_from_json(data, width=side, height=side)
    counter = PixelCounter(monkeypatch)
    # when
    rle = geometry.rle_from_runs(geometry.rasterize_runs(polygons), width=side, height=side)
    # then
    assert counter.scanned_px <= 2 * canvas_px(data) < 200
    assert coco_area(rle) == 2 * 10  # each triangle covers 10 pixels


def coco_area(rle: dict) -> int:
    from pycocotools import mask as coco_mask

    return int(coco_mask.area({"size": rle["size"], "counts": rle["counts"].encode("ascii")}))


# The budget: refused while parsing, before anything is drawn


@pytest.fixture
def nothing_drawn(monkeypatch):
    def refuse(*_: object) -> None:
        raise AssertionError("rasterised geometry that is over the budget")

    monkeypatch.setattr(raster, "_draw", refuse)


@pytest.mark.parametrize("limit", list(geometry.GeometryBudget.__dataclass_fields__))
def test_a_geometry_over_a_limit_is_refused_naming_it_before_anything_is_drawn(limit, nothing_drawn):
    # when
    with pytest.raises(geometry.BudgetExceeded) as error:
        geometry.polygons_from_json(small_budget_cases(step=1)[limit], width=200, height=200, budget=SMALL_BUDGET)
    # then
    assert (error.value.limit, error.value.allowed) == (limit, getattr(SMALL_BUDGET, limit))
    assert error.value.actual > error.value.allowed


@pytest.mark.parametrize("limit", list(geometry.GeometryBudget.__dataclass_fields__))
def test_a_geometry_just_under_a_limit_is_accepted(limit):
    # when
    polygons = geometry.polygons_from_json(
        small_budget_cases(step=0)[limit], width=200, height=200, budget=SMALL_BUDGET
    )
    # then
    assert geometry.rasterize_runs(polygons).area_px > 0


def test_the_issues_33333_holed_triangles_are_refused_by_counting_before_a_coordinate_is_read(nothing_drawn):
    # given: 33,333 triangles with holes over a 3,000 x 2,500 image (a 3 MB body: 13.5 s of CPU before)
    data = holed_triangles(33_333, width=3000, height=2500)
    data["polygons"][-1]["exterior"] = "not even read"
    # when
    with pytest.raises(geometry.BudgetExceeded) as error:
        geometry.polygons_from_json(data, width=3000, height=2500)
    # then
    assert (error.value.limit, error.value.allowed, error.value.actual) == ("max_polygons", 1_000, 33_333)


def test_a_star_crossing_one_row_too_often_is_refused(nothing_drawn):
    # given: 2,000 long edges through one point: cv2's scanline fill would bubble-sort them on every row
    data = {"polygons": [{"exterior": star(centre=(300, 300), radius=50, vertices=2_000)}]}  # outline 200,000 px
    # when
    with pytest.raises(geometry.BudgetExceeded) as error:
        geometry.polygons_from_json(data, width=600, height=600, budget=geometry.GeometryBudget(max_vertices=2_000))
    # then
    assert error.value.limit == "max_edges_per_row"
    assert error.value.actual > 1_900


def test_a_comb_bounded_by_its_outline_bounds_its_rle():
    # given: the longest RLE an outline of 250,000 px can make: every column crosses every tooth
    data = {"polygons": [{"exterior": comb(x=1100, y=10, teeth=100, tooth_px=1_000)}]}
    polygons = geometry.polygons_from_json(data, width=2000, height=2000)
    # when
    runs = geometry.rasterize_runs(polygons)
    # then
    assert geometry.geometry_cost(polygons).outline_px <= geometry.GeometryBudget().max_outline_px
    assert runs.columns.size <= geometry.geometry_cost(polygons).outline_px // 2


def test_the_worst_accepted_geometry_is_at_every_limit_at_once():
    # given
    budget = geometry.GeometryBudget()
    # when
    cost = geometry.geometry_cost(
        geometry.polygons_from_json(worst_accepted(budget, width=5000, height=5000), width=5000, height=5000)
    )
    # then: exactly at the counted limits, within a few pixels of the measured ones
    assert (cost.polygons, cost.max_holes_per_polygon, cost.vertices) == (1_000, 1_000, 10_000)
    assert budget.max_raster_px * 0.99 < cost.raster_px <= budget.max_raster_px
    assert budget.max_outline_px * 0.99 < cost.outline_px <= budget.max_outline_px
    assert budget.max_edges_per_row - 5 <= cost.edges_per_row <= budget.max_edges_per_row


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"polygons": [{"exterior": [[0, 0], [10**400, 1], [2, 2]]}]}, "finite"),  # beyond the float range
        ({"polygons": [{"exterior": triangle(1, 1, 2)}, {"exterior": [[0, 0], [10**400, 1], [2, 2]]}]}, "polygon 1"),
        ({"polygons": [{"exterior": triangle(1, 1, 2)}, {"exterior": [[0, 0], [1, True], [2, 2]]}]}, "polygon 1"),
        ({"polygons": [{"exterior": triangle(1, 1, 2), "holes": [[[0, 0], [1, 1]]]}]}, "polygon 0 hole 0"),
        ({"polygons": [{"exterior": triangle(1, 1, 2)}, {"exterior": triangle(1, 1, 50)}]}, "polygon 1: vertices lie"),
    ],
)
def test_the_first_bad_polygon_is_named(raw, message):
    with pytest.raises(geometry.GeometryError, match=message):
        geometry.polygons_from_json(raw, width=20, height=20)
