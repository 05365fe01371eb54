"""Defect geometry: polygons with holes in image pixel coordinates, masks, RLE, and sizes in px and mm.

Conventions (shared with the browser editor, frontend/src/model/):
- A vertex (x, y) is the centre of pixel column x, row y; (0, 0) is the top-left pixel.
- A polygon is an exterior ring plus zero or more hole rings, each ring at least 3 vertices, not repeated closed.
- Rasterising fills the exterior including the pixels its outline passes through, removes the inside of each hole
  but keeps the pixels on the hole's outline: this is exactly how OpenCV traces a mask's outer and hole
  contours, so mask -> polygons -> mask reproduces the mask.
- RLE is COCO's: column-major runs starting with background, compressed with pycocotools.
"""

from dataclasses import dataclass

import cv2
import numpy as np
from pycocotools import mask as coco_mask

Ring = list[list[float]]
SUBPIXEL_BITS = 4  # cv2 fixed-point: vertices are rounded to 1/16 px when rasterised


class GeometryError(ValueError):
    """The geometry is malformed (too few vertices, non-numbers, outside the image)."""


@dataclass(frozen=True)
class Polygon:
    exterior: np.ndarray  # (N, 2) float64 x, y
    holes: tuple[np.ndarray, ...] = ()

    def to_json(self) -> dict:
        return {"exterior": self.exterior.tolist(), "holes": [hole.tolist() for hole in self.holes]}


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Measurement:
    """Sizes of one defect. Length (long side) and width (short side) come from the minimum-area rotated
    rectangle, so they do not depend on how the part lies in the image; area is the rasterised pixel count."""

    area_px: float
    length_px: float
    width_px: float
    bbox: Box


def _is_number_pair(vertex: object) -> bool:
    # bool is an int to Python and "5" converts quietly in numpy: neither is a coordinate.
    return isinstance(vertex, list | tuple) and all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in vertex
    )


def _ring(raw: object, *, what: str) -> np.ndarray:
    if isinstance(raw, list) and not all(_is_number_pair(vertex) for vertex in raw):
        raise GeometryError(f"{what}: vertices must be [x, y] number pairs (not text or true/false)")
    try:
        ring = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise GeometryError(f"{what}: vertices must be [x, y] number pairs") from error
    if ring.ndim != 2 or ring.shape[1] != 2:
        raise GeometryError(f"{what}: vertices must be [x, y] number pairs")
    if len(ring) >= 2 and np.array_equal(ring[0], ring[-1]):
        ring = ring[:-1]  # accept explicitly closed rings
    if len(ring) < 3:
        raise GeometryError(f"{what}: a ring needs at least 3 vertices, got {len(ring)}")
    if not np.isfinite(ring).all():
        raise GeometryError(f"{what}: vertices must be finite numbers")
    return ring


def polygons_from_json(data: object, *, width: int, height: int, max_vertices: int = 200_000) -> list[Polygon]:
    """Parse and check `{"polygons": [{"exterior": [[x, y], ...], "holes": [[[x, y], ...], ...]}, ...]}`."""
    if not isinstance(data, dict) or not isinstance(data.get("polygons"), list) or not data["polygons"]:
        raise GeometryError('geometry must be {"polygons": [{"exterior": [[x, y], ...], "holes": [...]}]}')
    polygons, vertex_count = [], 0
    for index, raw in enumerate(data["polygons"]):
        if not isinstance(raw, dict) or "exterior" not in raw:
            raise GeometryError(f"polygon {index}: needs an exterior ring")
        exterior = _ring(raw["exterior"], what=f"polygon {index} exterior")
        raw_holes = raw.get("holes") or []
        if not isinstance(raw_holes, list):
            raise GeometryError(f"polygon {index}: holes must be a list of rings")
        holes = tuple(
            _ring(hole, what=f"polygon {index} hole {hole_index}") for hole_index, hole in enumerate(raw_holes)
        )
        for ring in (exterior, *holes):
            vertex_count += len(ring)
            if (
                ring[:, 0].min() < -0.5
                or ring[:, 1].min() < -0.5
                or ring[:, 0].max() > width - 0.5
                or (ring[:, 1].max() > height - 0.5)
            ):
                raise GeometryError(f"polygon {index}: vertices lie outside the {width}x{height} image")
        polygons.append(Polygon(exterior=exterior, holes=holes))
    if vertex_count > max_vertices:
        raise GeometryError(f"geometry has {vertex_count} vertices; at most {max_vertices} are accepted")
    return polygons


def polygons_to_json(polygons: list[Polygon]) -> dict:
    return {"polygons": [polygon.to_json() for polygon in polygons]}


def polygons_bbox(polygons: list[Polygon]) -> Box:
    """Pixel-extent box (COCO's): a one-pixel defect at (3, 4) has box (3, 4, 1, 1)."""
    points = np.concatenate([polygon.exterior for polygon in polygons])
    x0, y0 = np.floor(points.min(axis=0) + 0.5)
    x1, y1 = np.floor(points.max(axis=0) + 0.5)
    return Box(x=float(x0), y=float(y0), width=float(x1 - x0 + 1), height=float(y1 - y0 + 1))


def _fixed_point(ring: np.ndarray, offset_x: float, offset_y: float) -> np.ndarray:
    shifted = ring - np.array([offset_x, offset_y])
    return np.round(shifted * (1 << SUBPIXEL_BITS)).astype(np.int32).reshape(-1, 1, 2)


def rasterize_crop(polygons: list[Polygon], box: Box) -> np.ndarray:
    """The geometry as a uint8 {0,1} mask covering only `box` (rows = box.height)."""
    crop = np.zeros((int(box.height), int(box.width)), dtype=np.uint8)
    scratch = np.zeros_like(crop) if len(polygons) > 1 and any(polygon.holes for polygon in polygons) else None
    for polygon in polygons:
        # A polygon's holes cut only that polygon: an island inside another polygon's hole must survive, so
        # polygons with holes are drawn apart and united.
        target = crop if scratch is None or not polygon.holes else scratch
        if target is scratch:
            scratch.fill(0)
        exterior = _fixed_point(polygon.exterior, box.x, box.y)
        cv2.fillPoly(target, [exterior], 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        cv2.polylines(target, [exterior], True, 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        for hole in polygon.holes:
            hole_points = _fixed_point(hole, box.x, box.y)
            cv2.fillPoly(target, [hole_points], 0, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
            cv2.polylines(target, [hole_points], True, 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        if target is scratch:
            np.maximum(crop, scratch, out=crop)
    return crop


def rasterize(polygons: list[Polygon], *, width: int, height: int) -> np.ndarray:
    """The geometry as a full-image uint8 {0,1} mask."""
    mask = np.zeros((height, width), dtype=np.uint8)
    if not polygons:
        return mask
    box = polygons_bbox(polygons)
    crop = rasterize_crop(polygons, box)
    x, y = int(box.x), int(box.y)
    mask[y : y + crop.shape[0], x : x + crop.shape[1]] = crop[: height - y, : width - x]
    return mask


def rle_from_crop(crop: np.ndarray, *, x: int, y: int, width: int, height: int) -> dict:
    """COCO compressed RLE of a full image that is empty except for `crop` placed at (x, y).

    Built from the runs inside each crop column, so a small defect on a 16k x 4k line scan never allocates the
    full image, and no pixel list is sorted (an autosave computes this on every save)."""
    crop = crop[: max(0, height - y), : max(0, width - x)]  # a box may reach one pixel past the last row/column
    total = width * height
    # Column-major, as COCO counts: one row per crop column, padded with background so every run has both ends.
    padded = np.zeros((crop.shape[1], crop.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = crop.T != 0
    columns, rows = np.nonzero(np.diff(padded, axis=1))  # in column-major order: start, end, start, end...
    if columns.size == 0:
        counts = [total]
    else:
        boundaries = (columns.astype(np.int64) + x) * height + rows + y
        if crop.shape[0] == height:
            # Full-height crop: a run ending on the last row and one starting on the next column's first row are
            # one run in column-major order.
            ends, starts = boundaries[1:-1:2], boundaries[2::2]
            joined = np.nonzero(ends == starts)[0]
            if joined.size:
                boundaries = np.delete(boundaries, np.concatenate([2 * joined + 1, 2 * joined + 2]))
        counts = np.diff(np.concatenate([[0], boundaries, [total]])).tolist()
        if counts[-1] == 0:
            counts.pop()  # the defect reaches the last pixel: no trailing background run (as pycocotools encodes)
    encoded = coco_mask.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    return {"size": [height, width], "counts": encoded["counts"].decode("ascii")}


def rle_encode(mask: np.ndarray) -> dict:
    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(encoded["size"]), "counts": encoded["counts"].decode("ascii")}


def rle_decode(rle: dict) -> np.ndarray:
    return coco_mask.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")})


def mask_regions(mask: np.ndarray) -> list[np.ndarray]:
    """Split a mask into its 8-connected regions: each region is one defect instance."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return [(labels == label).astype(np.uint8) for label in range(1, count)]


def mask_to_polygons(mask: np.ndarray) -> list[Polygon]:
    """Outer outlines with their holes, traced through boundary pixel centres (lossless under `rasterize`).

    Regions of one or two pixels are kept: they become degenerate rings widened to 3 vertices."""
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hierarchy = hierarchy[0]
    polygons = []
    for index, contour in enumerate(contours):
        if hierarchy[index][3] != -1:
            continue  # a hole: collected under its parent below
        holes = []
        child = hierarchy[index][2]
        while child != -1:
            holes.append(_contour_ring(contours[child]))
            child = hierarchy[child][0]
        polygons.append(Polygon(exterior=_contour_ring(contour), holes=tuple(holes)))
    return polygons


DEGENERATE_RING_HALF_WIDTH_PX = 0.25  # a 1- or 2-pixel region becomes a small hull around its pixel centres


def _contour_ring(contour: np.ndarray) -> np.ndarray:
    ring = contour.reshape(-1, 2).astype(np.float64)
    if len(np.unique(ring, axis=0)) >= 3:
        return ring
    # One or two pixels: a ring through the centres would repeat a vertex and not parse again. A hull a quarter
    # pixel around the centres covers exactly those pixels and stays inside them.
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * DEGENERATE_RING_HALF_WIDTH_PX
    hull = cv2.convexHull((ring[:, None, :] + corners[None, :, :]).reshape(-1, 2).astype(np.float32))
    return hull.reshape(-1, 2).astype(np.float64)


def measure(polygons: list[Polygon], *, crop: np.ndarray | None = None) -> Measurement:
    box = polygons_bbox(polygons)
    if crop is None:
        crop = rasterize_crop(polygons, box)
    points = np.concatenate([polygon.exterior for polygon in polygons]).astype(np.float32)
    (_, _), (side_a, side_b), _ = cv2.minAreaRect(points)
    # A ring through pixel centres spans one pixel less than the pixels it covers.
    long_side, short_side = max(side_a, side_b) + 1.0, min(side_a, side_b) + 1.0
    return Measurement(area_px=float(crop.sum()), length_px=float(long_side), width_px=float(short_side), bbox=box)


def iou(first: np.ndarray, second: np.ndarray) -> float:
    """IoU of two masks of equal shape. Two empty masks agree (1.0): both said "no defect"."""
    if first.shape != second.shape:
        raise ValueError(f"mask shapes differ: {first.shape} vs {second.shape}")
    first, second = first.astype(bool), second.astype(bool)
    union = np.logical_or(first, second).sum()
    return 1.0 if union == 0 else float(np.logical_and(first, second).sum() / union)
