"""Defect geometry: polygons with holes in image pixel coordinates, masks, RLE, and sizes in px and mm.

Conventions (shared with the browser editor, frontend/src/model/):
- A vertex (x, y) is the centre of pixel column x, row y; (0, 0) is the top-left pixel.
- A polygon is an exterior ring plus zero or more hole rings, each ring at least 3 vertices, not repeated closed.
- Rasterising fills the exterior including the pixels its outline passes through, removes the inside of each hole
  but keeps the pixels on the hole's outline: this is exactly how OpenCV traces a mask's outer and hole
  contours, so mask -> polygons -> mask reproduces the mask.
- RLE is COCO's: column-major runs starting with background, compressed with pycocotools.
- Cost (the geometry budget, docs/architecture.md): each polygon is rasterised over its own box only, so the work
  grows with the defect, not with the image; `GeometryBudget` caps it and is checked before anything is drawn.
"""

from dataclasses import dataclass
from itertools import chain

import cv2
import numpy as np
from pycocotools import mask as coco_mask

from annotation import raster
from annotation.raster import SUBPIXEL_BITS, Runs, rle_from_crop, rle_from_runs  # noqa: F401 - public here too

Ring = list[list[float]]


class GeometryError(ValueError):
    """The geometry is malformed (too few vertices, non-numbers, outside the image)."""


class BudgetExceeded(GeometryError):
    """Over one limit of the geometry budget: `limit` is the GeometryBudget field, with its value and the count."""

    def __init__(self, message: str, *, limit: str, allowed: int, actual: int):
        super().__init__(message)
        self.limit, self.allowed, self.actual = limit, allowed, actual


@dataclass(frozen=True)
class GeometryBudget:
    """What one annotation's geometry may cost, checked while parsing, before anything is rasterised.

    Rasterising costs about the pixels of each polygon's own box (`raster_px`), plus the pixels along its
    outlines (`outline_px`, which also bounds the runs of its RLE), plus, row by row, the square of the number of
    edges cv2's scanline fill keeps sorted (`edges_per_row`, at most that times the outline). Parsing, storing
    and sending cost about the vertices. The defaults are those of defectlab/settings.py."""

    max_polygons: int = 1_000
    max_holes_per_polygon: int = 1_000
    max_vertices: int = 10_000
    max_raster_px: int = 16_000_000  # sum over polygons of the area of each polygon's pixel-extent box
    max_outline_px: int = 250_000  # sum over all ring edges of max(|dx|, |dy|), in px
    max_edges_per_row: int = 500  # most edges of one ring that one row of pixels crosses


@dataclass(frozen=True)
class GeometryCost:
    """The measures GeometryBudget limits, for one annotation."""

    polygons: int
    max_holes_per_polygon: int
    vertices: int
    raster_px: int
    outline_px: int
    edges_per_row: int


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
    except OverflowError as error:  # an integer too large for a float
        raise GeometryError(f"{what}: vertices must be finite numbers") from error
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


def _polygon_parse(raw: dict, index: int, *, width: int, height: int) -> Polygon:
    """One polygon, ring by ring, with the reason it is refused. Only the first bad polygon comes here."""
    exterior = _ring(raw["exterior"], what=f"polygon {index} exterior")
    holes = tuple(
        _ring(hole, what=f"polygon {index} hole {hole_index}") for hole_index, hole in enumerate(raw.get("holes") or [])
    )
    for ring in (exterior, *holes):
        if (
            ring[:, 0].min() < -0.5
            or ring[:, 1].min() < -0.5
            or ring[:, 0].max() > width - 0.5
            or (ring[:, 1].max() > height - 0.5)
        ):
            raise GeometryError(f"polygon {index}: vertices lie outside the {width}x{height} image")
    return Polygon(exterior=exterior, holes=holes)


_VERTEX_TYPES, _NUMBER_TYPES = {list, tuple}, {int, float}  # exact types: bool is an int to isinstance


def _is_plain_ring(raw: object) -> bool:
    """A list of [x, y] pairs of JSON numbers; checked at C speed (set/map), not vertex by vertex in Python."""
    return (
        type(raw) is list
        and set(map(type, raw)) <= _VERTEX_TYPES
        and set(map(len, raw)) <= {2}
        and set(map(type, chain.from_iterable(raw))) <= _NUMBER_TYPES
    )


def _overflows(ring: list) -> bool:
    try:
        np.array(ring, dtype=np.float64)
    except OverflowError:
        return True
    return False


def _limit(limit: str, actual: int, allowed: int, message: str) -> None:
    if actual > allowed:
        raise BudgetExceeded(
            message.format(actual=actual, allowed=allowed), limit=limit, allowed=allowed, actual=actual
        )


def _cost(points: np.ndarray, ring_lengths: np.ndarray, polygon_rings: np.ndarray) -> GeometryCost:
    """GeometryCost from all vertices in one (V, 2) array, ring after ring and polygon after polygon, without a
    Python loop over rings. A repeated closing vertex changes neither boxes nor outline lengths."""
    ring_starts = np.cumsum(ring_lengths) - ring_lengths
    polygon_starts = ring_starts[np.cumsum(polygon_rings) - polygon_rings]
    low = np.floor(np.minimum.reduceat(points, polygon_starts, axis=0) + 0.5)
    high = np.floor(np.maximum.reduceat(points, polygon_starts, axis=0) + 0.5)
    raster_px = int(np.prod(high - low + 1, axis=1).sum())
    steps = np.abs(np.diff(points, axis=0)).max(axis=1)
    steps[ring_starts[1:] - 1] = 0  # from the last vertex of one ring to the first of the next: no edge
    closing = np.abs(points[ring_starts] - points[ring_starts + ring_lengths - 1]).max(axis=1)
    return GeometryCost(
        polygons=len(polygon_rings),
        max_holes_per_polygon=int(polygon_rings.max()) - 1,
        vertices=int(ring_lengths.sum()),
        raster_px=raster_px,
        outline_px=int(np.ceil(steps.sum() + closing.sum())),
        edges_per_row=_edges_per_row(points[:, 1], ring_starts, ring_lengths),
    )


def _edges_per_row(ys: np.ndarray, ring_starts: np.ndarray, ring_lengths: np.ndarray) -> int:
    """The most edges of one ring that one row of pixels crosses. cv2's scanline fill keeps the edges crossing
    the current row in a list it bubble-sorts on every row: a ring crossing itself many times (a star of long
    edges) costs about the square of this per row, whatever its outline length."""
    rows = np.floor(ys + 0.5).astype(np.int64)  # cv2's rounding, to within 1/16 px
    following = np.arange(1, len(rows) + 1)
    following[ring_starts + ring_lengths - 1] = ring_starts  # each ring's last vertex joins its first
    top, bottom = np.minimum(rows, rows[following]), np.maximum(rows, rows[following])
    is_edge = top < bottom  # an edge within one row is drawn, not kept in the list
    ring = np.repeat(np.arange(len(ring_lengths)), ring_lengths)[is_edge]
    if ring.size == 0:
        return 0
    # An edge is in the list from its top row up to, not including, its bottom row: +1 there, -1 here, and where
    # both fall on one row of one ring the -1 goes first.
    stride = int(bottom.max() - rows.min()) + 1
    offset = ring * stride - int(rows.min())
    keys = np.concatenate([(offset + top[is_edge]) * 2 + 1, (offset + bottom[is_edge]) * 2])
    changes = np.where(keys % 2 == 1, 1, -1)[np.argsort(keys, kind="stable")]
    return int(np.cumsum(changes).max())


def geometry_cost(polygons: list[Polygon]) -> GeometryCost:
    """What rasterising `polygons` costs, in GeometryBudget's measures (for polygons not parsed from JSON)."""
    rings = [ring for polygon in polygons for ring in (polygon.exterior, *polygon.holes)]
    return _cost(
        np.concatenate(rings),
        np.array([len(ring) for ring in rings]),
        np.array([1 + len(polygon.holes) for polygon in polygons]),
    )


def budget_check(cost: GeometryCost, budget: GeometryBudget) -> None:
    """Raise BudgetExceeded for the first limit of `budget` that `cost` exceeds."""
    _limit(
        "max_polygons",
        cost.polygons,
        budget.max_polygons,
        "geometry has {actual:,} polygons; at most {allowed:,} are accepted",
    )
    _limit(
        "max_holes_per_polygon",
        cost.max_holes_per_polygon,
        budget.max_holes_per_polygon,
        "a polygon has {actual:,} holes; at most {allowed:,} are accepted per polygon",
    )
    _limit(
        "max_vertices",
        cost.vertices,
        budget.max_vertices,
        "geometry has {actual:,} vertices; at most {allowed:,} are accepted",
    )
    _limit(
        "max_raster_px",
        cost.raster_px,
        budget.max_raster_px,
        "the polygons' boxes cover {actual:,} px together; at most {allowed:,} are accepted (draw a defect this "
        "large as several)",
    )
    _limit(
        "max_outline_px",
        cost.outline_px,
        budget.max_outline_px,
        "the outlines are {actual:,} px long together; at most {allowed:,} are accepted",
    )
    _limit(
        "max_edges_per_row",
        cost.edges_per_row,
        budget.max_edges_per_row,
        "an outline crosses one row of pixels {actual:,} times; at most {allowed:,} are accepted",
    )


def polygons_from_json(data: object, *, width: int, height: int, budget: GeometryBudget | None = None) -> list[Polygon]:
    """Parse and check `{"polygons": [{"exterior": [[x, y], ...], "holes": [[[x, y], ...], ...]}, ...]}`.

    Counts (polygons, holes, vertices) are checked before a coordinate is read, the raster and outline budget
    before anything is drawn. Valid geometry is checked all at once with numpy; the first bad polygon is then
    parsed on its own, for its reason."""
    budget = budget or GeometryBudget()
    if not isinstance(data, dict) or not isinstance(data.get("polygons"), list) or not data["polygons"]:
        raise GeometryError('geometry must be {"polygons": [{"exterior": [[x, y], ...], "holes": [...]}]}')
    raw_polygons = data["polygons"]
    _limit(
        "max_polygons",
        len(raw_polygons),
        budget.max_polygons,
        "geometry has {actual:,} polygons; at most {allowed:,} are accepted",
    )
    raw_rings: list = []
    polygon_rings = np.empty(len(raw_polygons), dtype=np.int64)
    for index, raw in enumerate(raw_polygons):
        if not isinstance(raw, dict) or "exterior" not in raw:
            raise GeometryError(f"polygon {index}: needs an exterior ring")
        raw_holes = raw.get("holes") or []
        if not isinstance(raw_holes, list):
            raise GeometryError(f"polygon {index}: holes must be a list of rings")
        _limit(
            "max_holes_per_polygon",
            len(raw_holes),
            budget.max_holes_per_polygon,
            f"polygon {index} has {{actual:,}} holes; at most {{allowed:,}} are accepted per polygon",
        )
        raw_rings.append(raw["exterior"])
        raw_rings.extend(raw_holes)
        polygon_rings[index] = 1 + len(raw_holes)
    vertex_count = sum(len(ring) for ring in raw_rings if isinstance(ring, list))  # others are refused below
    _limit(
        "max_vertices",
        vertex_count,
        budget.max_vertices,
        "geometry has {actual:,} vertices; at most {allowed:,} are accepted",
    )
    owners = np.repeat(np.arange(len(raw_polygons)), polygon_rings)

    def refuse(bad_rings: np.ndarray) -> GeometryError:
        index = int(owners[np.flatnonzero(bad_rings)[0]])
        _polygon_parse(raw_polygons[index], index, width=width, height=height)  # raises with the reason
        return GeometryError(f"polygon {index}: malformed")  # not reached: the parse above found the fault

    is_plain = np.fromiter(map(_is_plain_ring, raw_rings), dtype=bool, count=len(raw_rings))
    if not is_plain.all():
        raise refuse(~is_plain)
    ring_lengths = np.fromiter(map(len, raw_rings), dtype=np.int64, count=len(raw_rings))
    if (ring_lengths < 3).any():
        raise refuse(ring_lengths < 3)
    try:
        points = np.array(list(chain.from_iterable(raw_rings)), dtype=np.float64)
    except OverflowError:  # an integer beyond the float range: its ring is found for the reason
        raise refuse(np.array([_overflows(ring) for ring in raw_rings])) from None
    ring_starts = np.cumsum(ring_lengths) - ring_lengths
    ring_ends = ring_starts + ring_lengths
    is_closed = (points[ring_starts] == points[ring_ends - 1]).all(axis=1)
    vertex_bad = ~np.isfinite(points).all(axis=1)
    vertex_bad |= (points < -0.5).any(axis=1) | (points[:, 0] > width - 0.5) | (points[:, 1] > height - 0.5)
    ring_bad = (ring_lengths - is_closed < 3) | (np.add.reduceat(vertex_bad, ring_starts) > 0)
    if ring_bad.any():
        raise refuse(ring_bad)
    budget_check(_cost(points, ring_lengths, polygon_rings), budget)
    rings = [
        points[start : end - 1 if closed else end]
        for start, end, closed in zip(ring_starts, ring_ends, is_closed, strict=True)
    ]
    polygons, ring_index = [], 0
    for count in polygon_rings.tolist():
        polygons.append(Polygon(exterior=rings[ring_index], holes=tuple(rings[ring_index + 1 : ring_index + count])))
        ring_index += count
    return polygons


def vertex_count(polygons: list[Polygon]) -> int:
    return sum(len(ring) for polygon in polygons for ring in (polygon.exterior, *polygon.holes))


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
    """The geometry as a uint8 {0,1} mask covering only `box` (rows = box.height); each polygon is drawn over
    its own part of the box only, and the polygons are united (annotation/raster.py)."""
    return raster.rasterize_crop(polygons, box)


def rasterize_runs(polygons: list[Polygon]) -> Runs:
    """The pixels `rasterize_crop(polygons, polygons_bbox(polygons))` sets, as runs in image coordinates, without
    the crop: each polygon is drawn over its own box only, so the work grows with the polygons, not with the
    distance between them (two specks at opposite corners of a line scan cost two specks)."""
    if not polygons:
        empty = np.zeros(0, dtype=np.int64)
        return Runs(columns=empty, starts=empty, ends=empty)
    return raster.rasterize_runs(polygons, polygons_bbox(polygons))


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
            holes.append(contour_ring(contours[child]))
            child = hierarchy[child][0]
        polygons.append(Polygon(exterior=contour_ring(contour), holes=tuple(holes)))
    return polygons


DEGENERATE_RING_HALF_WIDTH_PX = 0.25  # a 1- or 2-pixel region becomes a small hull around its pixel centres


def contour_ring(contour: np.ndarray) -> np.ndarray:
    """One of cv2.findContours' contours as a ring of at least 3 distinct vertices."""
    ring = contour.reshape(-1, 2).astype(np.float64)
    if len(np.unique(ring, axis=0)) >= 3:
        return ring
    # One or two pixels: a ring through the centres would repeat a vertex and not parse again. A hull a quarter
    # pixel around the centres covers exactly those pixels and stays inside them.
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * DEGENERATE_RING_HALF_WIDTH_PX
    hull = cv2.convexHull((ring[:, None, :] + corners[None, :, :]).reshape(-1, 2).astype(np.float32))
    return hull.reshape(-1, 2).astype(np.float64)


def measure(polygons: list[Polygon], *, crop: np.ndarray | None = None, area_px: int | None = None) -> Measurement:
    """Sizes of the geometry; `area_px` (or `crop`) when the caller has rasterised it already."""
    box = polygons_bbox(polygons)
    if area_px is None:
        area_px = rasterize_runs(polygons).area_px if crop is None else int(crop.sum())
    points = np.concatenate([polygon.exterior for polygon in polygons]).astype(np.float32)
    (_, _), (side_a, side_b), _ = cv2.minAreaRect(points)
    # A ring through pixel centres spans one pixel less than the pixels it covers.
    long_side, short_side = max(side_a, side_b) + 1.0, min(side_a, side_b) + 1.0
    return Measurement(area_px=float(area_px), length_px=float(long_side), width_px=float(short_side), bbox=box)


def iou(first: np.ndarray, second: np.ndarray) -> float:
    """IoU of two masks of equal shape. Two empty masks agree (1.0): both said "no defect"."""
    if first.shape != second.shape:
        raise ValueError(f"mask shapes differ: {first.shape} vs {second.shape}")
    first, second = first.astype(bool), second.astype(bool)
    union = np.logical_or(first, second).sum()
    return 1.0 if union == 0 else float(np.logical_and(first, second).sum() / union)
