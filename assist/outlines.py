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

from annotation.geometry import Polygon, mask_to_polygons

SIMPLIFY_TOLERANCE_PX = {"area": 1.0, "linear": 0.5}  # Douglas-Peucker epsilon, image px, by geometry kind


def ring_simplify(ring: np.ndarray, *, tolerance_px: float) -> np.ndarray:
    """The ring (N, 2) with as few of its vertices as keep every vertex within `tolerance_px` of it."""
    if len(ring) <= 3 or tolerance_px <= 0:
        return ring
    simplified = cv2.approxPolyDP(ring.astype(np.float32).reshape(-1, 1, 2), tolerance_px, True)
    simplified = simplified.reshape(-1, 2).astype(np.float64)
    if len(np.unique(simplified, axis=0)) < 3:
        return ring
    return simplified


def mask_outline(mask: np.ndarray, *, offset: tuple[int, int] = (0, 0), geometry_kind: str = "area") -> list[Polygon]:
    """The polygons (with holes) of a boolean mask whose top-left pixel is at `offset` (x, y) in the image,
    simplified at the tolerance for `geometry_kind`; empty for an empty mask."""
    tolerance_px = SIMPLIFY_TOLERANCE_PX.get(geometry_kind, SIMPLIFY_TOLERANCE_PX["area"])
    shift = np.array(offset, dtype=np.float64)
    return [
        Polygon(
            exterior=ring_simplify(polygon.exterior, tolerance_px=tolerance_px) + shift,
            holes=tuple(ring_simplify(hole, tolerance_px=tolerance_px) + shift for hole in polygon.holes),
        )
        for polygon in mask_to_polygons(mask)
    ]
