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

Ring = list[list[float]]
SUBPIXEL_BITS = 4  # cv2 fixed-point: vertices are rounded to 1/16 px when rasterised
_HALF_SUBPIXEL = 1 << (SUBPIXEL_BITS - 1)  # cv2 rounds a 1/16 px coordinate to its pixel as (v + 8) >> 4
CANVAS_MARGIN_PX = 1  # slack around the pixels a polygon's rounded vertices reach; cv2 draws nothing beyond them


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


@dataclass(frozen=True)
class _Layout:
    """All rings of all polygons in 1/16 px relative to a box (as `_fixed_point` makes them, polygon after polygon,
    exterior first), and the pixels each polygon's rounded vertices reach, relative to the box."""

    fixed: np.ndarray  # (V, 2) int32
    ring_bounds: list[tuple[int, int]]  # each ring's [start, end) in `fixed`
    first_rings: list[int]  # polygon p's rings are ring_bounds[first_rings[p] : first_rings[p + 1]]
    polygon_vertices: np.ndarray  # vertices per polygon
    low: np.ndarray  # (P, 2) lowest pixel column and row each polygon reaches (cv2 rounds (v + 8) >> 4)
    high: np.ndarray  # (P, 2) highest

    def moved(self, corners: np.ndarray) -> np.ndarray:
        """All vertices, each polygon's moved so that its `corners` row (whole pixels) becomes (0, 0)."""
        shift = np.repeat(corners.astype(np.int32) << SUBPIXEL_BITS, self.polygon_vertices, axis=0)
        return self.fixed - shift

    def rings(self, polygon: int, points: np.ndarray) -> list[np.ndarray]:
        """One polygon's rings from `points` (`fixed` or `moved`), exterior first, in cv2's (N, 1, 2) shape."""
        bounds = self.ring_bounds[self.first_rings[polygon] : self.first_rings[polygon + 1]]
        return [points[start:end].reshape(-1, 1, 2) for start, end in bounds]


def _layout(polygons: list[Polygon], box: Box) -> _Layout:
    rings = [ring for polygon in polygons for ring in (polygon.exterior, *polygon.holes)]
    ring_ends = np.cumsum([len(ring) for ring in rings])
    first_rings = np.cumsum([0] + [1 + len(polygon.holes) for polygon in polygons])
    points = np.concatenate(rings) if len(rings) > 1 else rings[0]
    fixed = np.round((points - np.array([box.x, box.y])) * (1 << SUBPIXEL_BITS)).astype(np.int32)
    pixels = (fixed + _HALF_SUBPIXEL) >> SUBPIXEL_BITS
    polygon_starts = np.concatenate([[0], ring_ends[first_rings[1:-1] - 1]]).astype(np.int64)
    ends = ring_ends.tolist()
    return _Layout(
        fixed=fixed,
        ring_bounds=list(zip([0, *ends[:-1]], ends, strict=True)),
        first_rings=first_rings.tolist(),
        polygon_vertices=np.diff(np.concatenate([polygon_starts, [len(fixed)]])),
        low=np.minimum.reduceat(pixels, polygon_starts, axis=0),
        high=np.maximum.reduceat(pixels, polygon_starts, axis=0),
    )


def _draw(target: np.ndarray, rings: list[np.ndarray]) -> None:
    """Fill the exterior and its outline; clear each hole's inside, keeping the hole's outline (ADR 0001)."""
    exterior, *holes = rings
    cv2.fillPoly(target, [exterior], 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    cv2.polylines(target, [exterior], True, 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    for hole in holes:  # one by one: a later hole's fill may clear an earlier hole's outline
        cv2.fillPoly(target, [hole], 0, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        cv2.polylines(target, [hole], True, 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)


def _canvas_boxes(layout: _Layout, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Each polygon's own canvas inside `box` as (low, high) pixel corners: the pixels its rounded vertices reach
    (holes included), a margin more each way, cut to `box`. Drawing each polygon on its canvas equals drawing it
    over the whole of `box`: cv2 draws nothing beyond a ring's rounded vertices, and where the canvas is cut its
    edge is `box`'s edge, so lines are clipped where they always were (vertices move by whole pixels, 16 units
    of 1/16 px: bit for bit the same)."""
    last = np.array([int(box.width) - 1, int(box.height) - 1])
    return np.maximum(layout.low - CANVAS_MARGIN_PX, 0), np.minimum(layout.high + CANVAS_MARGIN_PX, last)


def rasterize_crop(polygons: list[Polygon], box: Box) -> np.ndarray:
    """The geometry as a uint8 {0,1} mask covering only `box` (rows = box.height); each polygon is drawn over
    its own part of the box only, and the polygons are united."""
    crop = np.zeros((int(box.height), int(box.width)), dtype=np.uint8)
    if not polygons:
        return crop
    layout = _layout(polygons, box)
    low, high = _canvas_boxes(layout, box)
    points = layout.moved(low)
    for polygon in range(len(polygons)):
        (x0, y0), (x1, y1) = low[polygon].tolist(), high[polygon].tolist()
        if x1 < x0 or y1 < y0:
            continue  # wholly outside the box: nothing of it was ever drawn
        view, rings = crop[y0 : y1 + 1, x0 : x1 + 1], layout.rings(polygon, points)
        if len(rings) == 1:
            _draw(view, rings)  # no holes: drawing 1s into the crop unites it with what is there
        else:
            # A polygon's holes cut only that polygon: an island inside another polygon's hole must survive.
            canvas = np.zeros_like(view)
            _draw(canvas, rings)
            np.bitwise_or(view, canvas, out=view)
    return crop


@dataclass(frozen=True)
class Runs:
    """Set pixels as vertical runs in COCO's column-major order: run i covers rows [starts[i], ends[i]) of
    column columns[i]. Sorted; runs of one column neither overlap nor touch. Like the crop they come from, they
    may hold the column and row just past the image (a vertex on the far edge rounds there): the area counts
    them, as it always has, and the RLE leaves them out."""

    columns: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @property
    def area_px(self) -> int:
        return int((self.ends - self.starts).sum())


def _runs_of(mask: np.ndarray, *, x: int | np.ndarray = 0, y: int | np.ndarray = 0) -> Runs:
    """The runs of a {0,1} mask whose top-left pixel is (x, y) of the image."""
    height = mask.shape[0]
    columns = cv2.copyMakeBorder(cv2.transpose(mask), 0, 0, 1, 1, cv2.BORDER_CONSTANT, value=0)
    flat = columns.reshape(-1)  # column after column, each with a background pixel at both ends
    column, row = np.divmod(np.flatnonzero(flat[1:] != flat[:-1]) + 1, height + 2)
    return Runs(columns=column[0::2] + x, starts=row[0::2] - 1 + y, ends=row[1::2] - 1 + y)


def _runs_union(parts: list[Runs]) -> Runs:
    """The runs of the union, sorted and merged (an atlas's runs come in slot order, not image order)."""
    columns = np.concatenate([part.columns for part in parts])
    starts, ends = np.concatenate([part.starts for part in parts]), np.concatenate([part.ends for part in parts])
    if columns.size == 0:
        return Runs(columns=columns, starts=starts, ends=ends)
    stride = int(ends.max()) + 1  # one key per pixel; runs of two columns never touch in key space
    first_keys, last_keys = columns * stride + starts, columns * stride + ends
    order = np.argsort(first_keys, kind="stable")
    first_keys, last_keys = first_keys[order], last_keys[order]
    reach = np.maximum.accumulate(last_keys)
    opens = np.ones(first_keys.size, dtype=bool)
    opens[1:] = first_keys[1:] > reach[:-1]  # overlapping or touching runs of a column merge
    heads = np.flatnonzero(opens)
    first_keys, last_keys = first_keys[heads], np.maximum.reduceat(last_keys, heads)
    columns = first_keys // stride
    return Runs(columns=columns, starts=first_keys - columns * stride, ends=last_keys - columns * stride)


def rasterize_runs(polygons: list[Polygon]) -> Runs:
    """The pixels `rasterize_crop(polygons, polygons_bbox(polygons))` sets, as runs in image coordinates, without
    the crop: each polygon is drawn over its own box only, so the work grows with the polygons, not with the
    distance between them (two specks at opposite corners of a line scan cost two specks).

    Polygons whose rounded vertices lie inside the box (nothing of them is clipped, wherever they are drawn) are
    drawn side by side on shared canvases, atlases of polygons of similar height, each in a slot of its own, and
    scanned once per atlas: one allocation and one scan for many small polygons. A polygon's holes clear only its
    own slot, so they cut only that polygon, as drawing it apart would. The others are clipped at the box's edge
    and are drawn on their own canvas, whose edge is the box's there."""
    empty = np.zeros(0, dtype=np.int64)
    if not polygons:
        return Runs(columns=empty, starts=empty, ends=empty)
    box = polygons_bbox(polygons)
    origin = np.array([int(box.x), int(box.y)])
    layout = _layout(polygons, box)
    low, high = _canvas_boxes(layout, box)
    is_inside = (layout.low >= 0).all(axis=1) & (layout.high <= [int(box.width) - 1, int(box.height) - 1]).all(axis=1)
    corners = low.copy()  # where each polygon's drawing starts: its canvas, or its slot in an atlas
    atlases = []  # (members, atlas width, atlas height, slot x of each member)
    inside = np.flatnonzero(is_inside)
    if inside.size:
        size = layout.high[inside] - layout.low[inside] + 1 + 2 * CANVAS_MARGIN_PX
        height_classes = np.log2(size[:, 1]).astype(np.int64)  # heights within a factor of 2 share an atlas
        for height_class in np.unique(height_classes).tolist():
            chosen = height_classes == height_class
            members, widths = inside[chosen], size[chosen, 0]
            slot_x = np.cumsum(widths) - widths
            corners[members] = layout.low[members] - CANVAS_MARGIN_PX - np.stack([slot_x, np.zeros_like(slot_x)], 1)
            atlases.append((members, int(widths.sum()), int(size[chosen, 1].max()), slot_x))
    points = layout.moved(corners)
    parts = []
    for polygon in np.flatnonzero(~is_inside).tolist():
        (x0, y0), (x1, y1) = low[polygon].tolist(), high[polygon].tolist()
        if x1 < x0 or y1 < y0:
            continue  # wholly outside the box: nothing of it was ever drawn
        canvas = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
        _draw(canvas, layout.rings(polygon, points))
        parts.append(_runs_of(canvas, x=int(origin[0]) + x0, y=int(origin[1]) + y0))
    for members, width, height, slot_x in atlases:
        atlas = np.zeros((height, width), dtype=np.uint8)
        for polygon in members.tolist():
            _draw(atlas, layout.rings(polygon, points))
        runs = _runs_of(atlas)
        owner = members[np.searchsorted(slot_x, runs.columns, side="right") - 1]
        image_offset = origin + corners[owner]  # atlas pixel + offset = image pixel, per run's owner
        parts.append(
            Runs(
                columns=runs.columns + image_offset[:, 0],
                starts=runs.starts + image_offset[:, 1],
                ends=runs.ends + image_offset[:, 1],
            )
        )
    if not parts:
        return Runs(columns=empty, starts=empty, ends=empty)
    if len(polygons) == 1:
        return parts[0]  # one canvas scanned column by column: sorted, and its runs never touch
    return _runs_union(parts)


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


def rle_from_runs(runs: Runs, *, width: int, height: int) -> dict:
    """COCO compressed RLE of a `width` x `height` image whose set pixels are `runs` (cut to the image).

    Built from the runs, so a small defect on a 16k x 4k line scan never allocates the full image, and no pixel
    list is sorted (an autosave computes this on every save)."""
    inside = runs.columns < width
    columns, starts, ends = runs.columns[inside], runs.starts[inside], np.minimum(runs.ends[inside], height)
    kept = starts < ends
    first = columns[kept].astype(np.int64) * height + starts[kept]
    boundaries = np.empty(2 * first.size, dtype=np.int64)
    boundaries[0::2], boundaries[1::2] = first, first + (ends[kept] - starts[kept])
    total = width * height
    if boundaries.size == 0:
        counts = [total]
    else:
        # A run ending on the last row and one starting on the next column's first row are one run in
        # column-major order.
        joined = np.flatnonzero(boundaries[1:-1:2] == boundaries[2::2])
        if joined.size:
            boundaries = np.delete(boundaries, np.concatenate([2 * joined + 1, 2 * joined + 2]))
        counts = np.diff(np.concatenate([[0], boundaries, [total]])).tolist()
        if counts[-1] == 0:
            counts.pop()  # the defect reaches the last pixel: no trailing background run (as pycocotools encodes)
    encoded = coco_mask.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    return {"size": [height, width], "counts": encoded["counts"].decode("ascii")}


def rle_from_crop(crop: np.ndarray, *, x: int, y: int, width: int, height: int) -> dict:
    """COCO compressed RLE of a full image that is empty except for `crop` placed at (x, y); the crop may reach
    past the image's last row or column."""
    return rle_from_runs(_runs_of((crop != 0).astype(np.uint8), x=x, y=y), width=width, height=height)


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
