"""Rasterising polygons with holes exactly as annotation/geometry.py's conventions say (ADR 0001), each polygon over
its own box only, into the column runs its COCO RLE is made of. Pure: numpy and OpenCV, no ORM.

Drawing each polygon over its own box gives the same pixels as drawing every polygon over the annotation's whole
box (the old way, whose cost grew with the distance between the parts, up to the whole image): cv2 draws nothing
beyond a ring's rounded vertices, and where a canvas is cut by the box its edge is the box's edge, so lines are
clipped where they always were. annotation/tests/test_geometry_budget.py checks it against the old way.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from pycocotools import mask as coco_mask

if TYPE_CHECKING:
    from annotation.geometry import Box, Polygon

SUBPIXEL_BITS = 4  # cv2 fixed-point: vertices are rounded to 1/16 px when rasterised
_HALF_SUBPIXEL = 1 << (SUBPIXEL_BITS - 1)  # cv2 rounds a 1/16 px coordinate to its pixel as (v + 8) >> 4
CANVAS_MARGIN_PX = 1  # slack around the pixels a polygon's rounded vertices reach; cv2 draws nothing beyond them


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


def _layout(polygons: "list[Polygon]", box: "Box") -> _Layout:
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


def _canvas_boxes(layout: _Layout, box: "Box") -> tuple[np.ndarray, np.ndarray]:
    """Each polygon's own canvas inside `box` as (low, high) pixel corners: the pixels its rounded vertices reach
    (holes included), a margin more each way, cut to `box`. Drawing each polygon on its canvas equals drawing it
    over the whole of `box`: cv2 draws nothing beyond a ring's rounded vertices, and where the canvas is cut its
    edge is `box`'s edge, so lines are clipped where they always were (vertices move by whole pixels, 16 units
    of 1/16 px: bit for bit the same)."""
    last = np.array([int(box.width) - 1, int(box.height) - 1])
    return np.maximum(layout.low - CANVAS_MARGIN_PX, 0), np.minimum(layout.high + CANVAS_MARGIN_PX, last)


def rasterize_crop(polygons: "list[Polygon]", box: "Box") -> np.ndarray:
    """The polygons as a uint8 {0,1} mask covering only `box` (rows = box.height); each polygon is drawn over
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


def _blank(height: int, width: int) -> np.ndarray:
    """A canvas for `_runs_of`: `height` x `width` pixels to draw on (its [1:-1] rows) and a blank row above and
    below, so no copy is needed to find the runs that touch the first or last row."""
    return np.zeros((height + 2, width), dtype=np.uint8)


def _runs_of(canvas: np.ndarray, *, x: int | np.ndarray = 0, y: int | np.ndarray = 0) -> Runs:
    """The runs of a `_blank` canvas's {0,1} pixels, whose top-left pixel (row 1) is (x, y) of the image.

    Each pixel is compared with the one above it, row after row (no transposed copy of the canvas); the changes
    found, few against the canvas's pixels, are then put in column order."""
    width = canvas.shape[1]
    changes = cv2.compare(canvas[1:], canvas[:-1], cv2.CMP_NE)  # row r: does pixel row r differ from row r - 1
    row, column = np.divmod(_set_positions(changes.reshape(-1)), width)
    # Stable: within a column the rows stay ascending, as the row-major scan found them (radix sort when narrow).
    order = np.argsort(column.astype(np.uint16) if width <= 1 << 16 else column, kind="stable")
    row, column = row[order], column[order]
    return Runs(columns=column[0::2] + x, starts=row[0::2] + y, ends=row[1::2] + y)


def _set_positions(flags: np.ndarray) -> np.ndarray:
    """np.flatnonzero of a {0, 255} uint8 array whose set bytes are few: 8 bytes at a time, then only the words
    that hold one. numpy's nonzero visits every byte (on 16 MP of canvases, the worst save's largest cost)."""
    whole = flags.size // 8 * 8
    words = flags[:whole].view(np.uint64)
    set_words = np.flatnonzero(words != 0)
    word, byte = np.nonzero(words[set_words].view(np.uint8).reshape(-1, 8))
    positions = set_words[word] * 8 + byte
    tail = np.flatnonzero(flags[whole:])
    return np.concatenate([positions, tail + whole]) if tail.size else positions


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


def rasterize_runs(polygons: "list[Polygon]", box: "Box") -> Runs:
    """The pixels `rasterize_crop(polygons, box)` sets, as runs in image coordinates (`box` is the polygons' own
    box), without the crop.

    Polygons whose rounded vertices lie inside the box (nothing of them is clipped, wherever they are drawn) are
    drawn side by side on shared canvases, atlases of polygons of similar height, each in a slot of its own, and
    scanned once per atlas: one allocation and one scan for many small polygons. A polygon's holes clear only its
    own slot, so they cut only that polygon, as drawing it apart would. The others are clipped at the box's edge
    and are drawn on their own canvas, whose edge is the box's there."""
    empty = np.zeros(0, dtype=np.int64)
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
        canvas = _blank(y1 - y0 + 1, x1 - x0 + 1)
        _draw(canvas[1:-1], layout.rings(polygon, points))
        parts.append(_runs_of(canvas, x=int(origin[0]) + x0, y=int(origin[1]) + y0))
    for members, width, height, slot_x in atlases:
        atlas = _blank(height, width)
        for polygon in members.tolist():
            _draw(atlas[1:-1], layout.rings(polygon, points))
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
    canvas = _blank(*crop.shape)
    np.not_equal(crop, 0, out=canvas[1:-1].view(bool))
    return rle_from_runs(_runs_of(canvas, x=x, y=y), width=width, height=height)
