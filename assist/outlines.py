"""From an engine's mask to the few-vertex polygons an inspector edits. Pure: numpy and OpenCV, no ORM.

`annotation.geometry.mask_to_polygons` traces every boundary pixel centre: lossless, but a 100 px pore comes back
with dozens of vertices and a crack with hundreds, far too many to correct by hand. Each traced ring is therefore
simplified with Douglas-Peucker (`cv2.approxPolyDP`): the simplified ring keeps a subset of the traced vertices,
and every traced vertex lies within the tolerance of it.

Tolerance (image px): 1.0 for area defects, 0.5 for linear ones. One pixel moves an outline by at most one pixel,
below what an inspector corrects on a pore, and cuts a 40 px blob from ~60 vertices to ~10; a 2-3 px wide crack
would lose its width at 1 px (both of its edges fold onto the centre line), so linear defects keep 0.5 px.
A ring that would drop below 3 distinct vertices keeps its traced vertices (tiny regions, one-pixel holes).
"""

import cv2
import numpy as np

from annotation.geometry import Polygon, contour_ring

SIMPLIFY_TOLERANCE_PX = {"area": 1.0, "linear": 0.5}  # Douglas-Peucker epsilon, image px, by geometry kind


def _has_three_distinct(ring: np.ndarray) -> bool:
    differs_from_first = (ring != ring[0]).any(axis=1)
    if not differs_from_first.any():
        return False
    second = ring[int(np.argmax(differs_from_first))]
    return bool((differs_from_first & (ring != second).any(axis=1)).any())


def ring_simplify(ring: np.ndarray, *, tolerance_px: float) -> np.ndarray:
    """The ring (N, 2) with as few of its vertices as keep every vertex within `tolerance_px` of it."""
    if len(ring) <= 3 or tolerance_px <= 0:
        return ring
    simplified = cv2.approxPolyDP(ring.astype(np.float32).reshape(-1, 1, 2), tolerance_px, True)
    simplified = simplified.reshape(-1, 2).astype(np.float64)
    if not _has_three_distinct(simplified):
        return ring
    return simplified


def _contour_outline(contour: np.ndarray, *, tolerance_px: float) -> np.ndarray:
    """One traced contour (int32, (N, 1, 2)) as a simplified ring: what `ring_simplify(contour_ring(contour))`
    gives, in one OpenCV call for all but degenerate rings. Only a ring of under 5 vertices can have fewer than 3
    distinct ones (a border is followed once each way, so a vertex comes back at most twice), so only those are
    checked; they fall back to the traced ring (or its small hull)."""
    if len(contour) > 3 and tolerance_px > 0:
        simplified = cv2.approxPolyDP(contour, tolerance_px, True).reshape(-1, 2)
        if len(simplified) >= 5 or _has_three_distinct(simplified):
            return simplified.astype(np.float64)
    return contour_ring(contour)


def mask_outline(mask: np.ndarray, *, offset: tuple[int, int] = (0, 0), geometry_kind: str = "area") -> list[Polygon]:
    """The polygons (with holes) of a boolean mask whose top-left pixel is at `offset` (x, y) in the image,
    simplified at the tolerance for `geometry_kind`; empty for an empty mask. The rings and their nesting are
    `annotation.geometry.mask_to_polygons`'s, each simplified as it is traced: one OpenCV call a ring, not a
    numpy pass over every traced vertex (a SAM answer with hundreds of holes is traced in milliseconds)."""
    if not mask.any():
        return []
    tolerance_px = SIMPLIFY_TOLERANCE_PX.get(geometry_kind, SIMPLIFY_TOLERANCE_PX["area"])
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    shift = np.array(offset, dtype=np.float64)
    rings = [_contour_outline(contour, tolerance_px=tolerance_px) + shift for contour in contours]
    links = hierarchy[0]  # per contour: next, previous, first child, parent
    polygons = []
    for index in np.flatnonzero(links[:, 3] == -1):  # outer outlines; their children are their holes
        holes = []
        child = links[index][2]
        while child != -1:
            holes.append(rings[child])
            child = links[child][0]
        polygons.append(Polygon(exterior=rings[index], holes=tuple(holes)))
    return polygons
