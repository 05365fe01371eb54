"""From an engine's mask to few-vertex polygons (assist/outlines.py), and the decoded-image cache (pure)."""

import cv2
import numpy as np
import pytest

from annotation.geometry import iou, mask_to_polygons, polygons_from_json, polygons_to_json, rasterize, vertex_count
from assist.image_cache import GreyImageCache
from assist.outlines import SIMPLIFY_TOLERANCE_PX, mask_outline


def disk(*, shape=(80, 80), centre=(40, 40), radius=20) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.circle(mask, centre, radius, 1, thickness=-1)
    return mask.astype(bool)


def distance_to_ring(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Distance of each point to the closed polyline `ring`."""
    starts, ends = ring, np.roll(ring, -1, axis=0)
    segments = ends - starts
    lengths = np.maximum((segments**2).sum(axis=1), 1e-12)
    t = np.clip(((points[:, None, :] - starts[None]) * segments[None]).sum(axis=2) / lengths[None], 0, 1)
    nearest = starts[None] + t[..., None] * segments[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)


def test_a_disk_keeps_its_shape_in_a_fraction_of_the_vertices():
    mask = disk()
    traced = mask_to_polygons(mask)
    # when
    simplified = mask_outline(mask)
    # then: every traced vertex within the tolerance of the simplified ring, far fewer vertices, same pixels
    assert len(simplified) == 1
    deviation = distance_to_ring(traced[0].exterior, simplified[0].exterior)
    assert deviation.max() <= SIMPLIFY_TOLERANCE_PX["area"] + 1e-6
    assert vertex_count(simplified) <= vertex_count(traced) / 4
    assert iou(rasterize(simplified, width=80, height=80), mask) >= 0.95


def test_a_thin_crack_keeps_its_pixels_at_the_linear_tolerance():
    crack = np.zeros((80, 80), np.uint8)
    cv2.line(crack, (5, 5), (70, 60), 1, thickness=2)
    simplified = mask_outline(crack.astype(bool), geometry_kind="linear")
    assert iou(rasterize(simplified, width=80, height=80), crack) >= 0.95


def test_offset_holes_and_tiny_regions():
    # given: a ring (a square with a hole) and a one-pixel speck, in a crop whose top-left pixel is at (100, 50)
    mask = np.zeros((20, 30), bool)
    mask[2:12, 2:12] = True
    mask[5:8, 5:8] = False
    mask[15, 25] = True
    # when
    polygons = mask_outline(mask, offset=(100, 50))
    # then: the outline is where the crop is (within the tolerance), the hole kept, the speck still a valid ring
    full = np.zeros((80, 140), bool)
    full[50:70, 100:130] = mask
    parsed = polygons_from_json(polygons_to_json(polygons), width=140, height=80)
    drawn = rasterize(parsed, width=140, height=80).astype(bool)
    assert iou(drawn, full) >= 0.9
    assert drawn[65, 125]
    assert not drawn[56, 106]  # the hole's centre
    assert sorted(len(polygon.holes) for polygon in polygons) == [0, 1]


def test_an_empty_mask_has_no_outline():
    assert mask_outline(np.zeros((5, 5), bool)) == []


def test_the_cache_decodes_once_and_evicts_the_least_recently_used():
    cache = GreyImageCache(max_bytes=250)
    loads: list[str] = []

    def loader(key: str, size: int):
        def load() -> np.ndarray:
            loads.append(key)
            return np.zeros(size, np.uint8)

        return load

    first = cache.get("a", loader("a", 100))
    assert cache.get("a", loader("a", 100)) is first
    cache.get("b", loader("b", 100))
    cache.get("a", loader("a", 100))  # a is now the most recent
    cache.get("c", loader("c", 100))  # over 250 bytes: b goes
    cache.get("a", loader("a", 100))
    cache.get("b", loader("b", 100))
    assert loads == ["a", "b", "c", "b"]
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 1


def test_an_image_larger_than_the_cache_is_answered_not_kept():
    cache = GreyImageCache(max_bytes=10)
    cache.get("big", lambda: np.zeros(100, np.uint8))
    cache.get("big", lambda: np.zeros(100, np.uint8))
    assert cache.loads == 2
