"""Pixel-edge outlines of a mask: the polygons that polygon formats (COCO, YOLO) need to describe it exactly.

Stored geometry runs through pixel *centres* (ADR 0001). COCO, YOLO and most training code read polygon
coordinates with pixel *edges* at integers: pycocotools fills a pixel when its centre (x + 0.5, y + 0.5) lies
inside. A polygon through boundary pixel centres is ambiguous on every boundary pixel (an IoU near 0.5 on a
3-pixel blowhole). An outline along the pixels' outer edges has every centre half a pixel inside it and decodes
to exactly the mask.

How: OpenCV traces each region's boundary through pixel centres; each boundary pixel then contributes the
corners of its own square that face the outside, in order (the crack code, `_crack_outline`). Diagonal
(8-connected) neighbours give an outline that touches itself at a corner, which pycocotools and OpenCV fill
correctly. Holes come out as their own rings. Vertices in the middle of straight runs are dropped.

The mask is the annotation's stored COCO RLE (derived from its geometry when it was saved, ADR 0001), decoded
straight into a crop of its set pixels, never a whole image. OpenCV traces one crop at a time; decoding,
corner walking and clean-up run on many annotations at once, as numpy calls on tiny arrays cost more in overhead than
in work.

Final annotations store their outline as `outline_text` (Annotation.outline), traced when they are written, in
batches where they are written in bulk (imports, QA's final answers): a dataset version freezes a project's final
annotations, and tracing three million of them at every freeze took most of its time (bench/scale.py). Work in
progress is not traced on its autosaves; a freeze traces what has no stored outline.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Ring = str  # "x0,y0,x1,y1,..." in pixel-edge coordinates (COCO's): the text of a JSON number list's inside


@dataclass(frozen=True)
class EdgePolygon:
    exterior: Ring
    holes: tuple[Ring, ...] = ()


def _neighbours(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each ring element's previous and following element, going round within its own ring."""
    ends = starts + lengths - 1
    previous = np.roll(values, 1, axis=0)
    previous[starts] = values[ends]
    following = np.roll(values, -1, axis=0)
    following[ends] = values[starts]
    return previous, following


def _simplify(points: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated vertices, then vertices in the middle of a straight run, in every ring at once.

    `points` holds the rings one after another; returns the kept points and each ring's new length."""
    previous, _ = _neighbours(points, starts, lengths)
    keep = np.any(points != previous, axis=1)
    lengths = np.add.reduceat(keep, starts)
    points, starts = points[keep], np.cumsum(lengths) - lengths
    previous, following = _neighbours(points, starts, lengths)
    incoming, outgoing = points - previous, following - points
    cross = incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0]
    forward = incoming[:, 0] * outgoing[:, 0] + incoming[:, 1] * outgoing[:, 1]
    # Removing every straight-on vertex at once keeps each straight run's two ends.
    keep = (cross != 0) | (forward <= 0) | np.repeat(lengths <= 4, lengths)
    return points[keep], np.add.reduceat(keep, starts)


def rle_counts_many(encoded: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Decode many COCO compressed RLE strings at once: (all counts, each string's number of counts).

    pycocotools' format: each count is a run of 5-bit groups (character - 48), low group first, bit 0x20 set
    while more groups follow, bit 0x10 of the last group the sign; from the fourth count on, a count is stored
    as its difference to the count two places before."""
    lengths = np.array([len(text) for text in encoded], dtype=np.int64)
    chars = np.frombuffer("".join(encoded).encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if chars.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(len(encoded), dtype=np.int64)
    is_last = (chars & 0x20) == 0
    number = np.concatenate([[0], np.cumsum(is_last)[:-1]])  # which count each character belongs to
    first_char = np.concatenate([[0], np.nonzero(is_last)[0][:-1] + 1])
    group = np.arange(len(chars)) - first_char[number]
    values = np.add.reduceat((chars & 0x1F) << (5 * group), first_char)
    last_chars = chars[is_last]
    groups = group[is_last] + 1
    values = np.where(last_chars & 0x10, values - (np.int64(1) << (5 * groups)), values)
    # Counts per string: the characters of a string always end a count.
    string_of_char = np.repeat(np.arange(len(encoded)), lengths)
    per_string = np.bincount(string_of_char[is_last], minlength=len(encoded)).astype(np.int64)
    # Undo the differences: within each string, counts 1, 3, 5... and 2, 4, 6... are running sums of the values
    # (count 0 stands alone), so each is a global running sum minus its value where the string starts.
    first_count = np.cumsum(per_string) - per_string
    position = np.arange(len(values)) - np.repeat(first_count, per_string)
    counts = values.copy()
    for chain in (position % 2 == 1, (position % 2 == 0) & (position >= 2)):
        running = np.cumsum(np.where(chain, values, 0))
        before = np.where(first_count > 0, running[np.maximum(first_count - 1, 0)], 0)
        counts = np.where(chain, running - np.repeat(before, per_string), counts)
    return counts, per_string


def crops_from_rles(rles: Sequence[dict]) -> list[tuple[np.ndarray, int, int]]:
    """Each COCO RLE as (crop, x, y): a uint8 {0,1} mask of just its set pixels' extent, placed at (x, y) in its
    image, built for all RLEs at once and never as whole images (a small defect on a line scan stays small).
    An empty mask gives a 0 x 0 crop."""
    counts, per_rle = rle_counts_many([rle["counts"] for rle in rles])
    heights = np.array([rle["size"][0] for rle in rles], dtype=np.int64)
    first = np.cumsum(per_rle) - per_rle
    within = np.arange(len(counts)) - np.repeat(first, per_rle)
    totals = np.cumsum(counts)
    before = np.repeat(np.where(first > 0, totals[np.maximum(first - 1, 0)], 0) if len(counts) else first, per_rle)
    starts = totals - counts - before  # each run's column-major position in its image
    is_set = (within % 2 == 1) & (counts > 0)  # runs alternate: background, set, background...
    owner = np.repeat(np.arange(len(rles)), per_rle)[is_set]
    run_start, run_end = starts[is_set], starts[is_set] + counts[is_set]
    height = heights[owner]
    # A run may go on past the bottom of a column into the next one: cut it into one piece per column.
    first_column, last_column = run_start // height, (run_end - 1) // height
    pieces = last_column - first_column + 1
    piece_owner = np.repeat(owner, pieces)
    column = np.repeat(first_column, pieces) + np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    column_start = column * heights[piece_owner]
    top = np.maximum(np.repeat(run_start, pieces) - column_start, 0)
    bottom = np.minimum(np.repeat(run_end, pieces) - column_start, heights[piece_owner])

    # Pieces come in order of RLE, then column: an RLE's first and last pieces give its columns.
    count = len(rles)
    per_owner = np.bincount(piece_owner, minlength=count)
    is_empty = per_owner == 0
    first_piece = np.cumsum(per_owner) - per_owner
    x0, y0, x1, y1 = (np.zeros(count, dtype=np.int64) for _ in range(4))
    if len(column):
        filled = np.nonzero(~is_empty)[0]
        x0[filled] = column[first_piece[filled]]
        x1[filled] = column[first_piece[filled] + per_owner[filled] - 1]
        y0[filled] = np.minimum.reduceat(top, first_piece[filled])
        y1[filled] = np.maximum.reduceat(bottom, first_piece[filled])
    widths, crop_heights = np.where(is_empty, 0, x1 - x0 + 1), np.where(is_empty, 0, y1 - y0)
    sizes = widths * crop_heights
    offsets = np.cumsum(sizes) - sizes
    # Paint every piece at once into one flat column-major buffer: pieces come in increasing position, so the
    # buffer is alternating runs of 0 (gaps) and 1 (pieces).
    begin = offsets[piece_owner] + (column - x0[piece_owner]) * crop_heights[piece_owner] + top - y0[piece_owner]
    edges = np.empty(2 * len(begin) + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, int(sizes.sum())
    edges[1:-1:2], edges[2:-1:2] = begin, begin + bottom - top
    values = np.zeros(len(edges) - 1, dtype=np.uint8)
    values[1::2] = 1
    painted = np.repeat(values, np.diff(edges))
    return [
        (
            np.ascontiguousarray(
                painted[offsets[index] : offsets[index] + sizes[index]].reshape(widths[index], crop_heights[index]).T
            ),
            int(x0[index]),
            int(y0[index]),
        )
        for index in range(count)
    ]


def edge_outlines_for_rles(rles: Sequence[dict]) -> list[list[EdgePolygon]]:
    """The pixel-edge outlines of each COCO RLE's mask, in image coordinates."""
    return _trace(crops_from_rles(rles))


def outline_text(outline: Sequence[EdgePolygon]) -> str:
    """The outline as the JSON text that dataset manifests carry ("outline") and Annotation.outline stores:
    [{"exterior": "x0,y0,...", "holes": ["...", ...]}, ...], keys sorted, no spaces."""
    polygons = [{"exterior": polygon.exterior, "holes": list(polygon.holes)} for polygon in outline]
    return json.dumps(polygons, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def outline_texts_for_rles(rles: Sequence[dict]) -> list[str]:
    """`outline_text` of each RLE's pixel-edge outline, traced together."""
    return [outline_text(outline) for outline in edge_outlines_for_rles(rles)]


def edge_outlines(crop: np.ndarray, *, x: int, y: int) -> list[EdgePolygon]:
    """Outlines (with holes) of the set pixels of `crop`, a mask placed at (x, y) in its image."""
    return _trace([(crop.astype(np.uint8), x, y)])[0]


# The crack code: a traced boundary runs through boundary pixel centres; the outline runs around those pixels'
# outer edges. OpenCV traces with the background on the right of the direction of travel (outer boundaries and
# holes alike). Walking around one pixel on that side visits its corners in this order (pixel-edge offsets):
CORNERS = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], dtype=np.int64)  # bottom-left, bottom-right, top-right, top-left
# Steps between neighbouring pixels, indexed by (dy + 1) * 3 + (dx + 1): the corner where the outline leaves a
# pixel for that step, and the corner where it enters the next one (the same point for diagonal steps).
_STEP = {(1, 0): (0, 0), (0, -1): (1, 1), (-1, 0): (2, 2), (0, 1): (3, 3)}  # east, north, west, south
_STEP |= {(-1, -1): (3, 1), (1, -1): (2, 0), (1, 1): (1, 3), (-1, 1): (0, 2)}  # the diagonals
LEAVE = np.zeros(9, dtype=np.int64)
ENTER = np.zeros(9, dtype=np.int64)
for (_dx, _dy), (_leave, _enter) in _STEP.items():
    LEAVE[(_dy + 1) * 3 + _dx + 1], ENTER[(_dy + 1) * 3 + _dx + 1] = _leave, _enter


def _crack_outline(points: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-edge rings from traced boundary rings (OpenCV's CHAIN_APPROX_SIMPLE), all at once.

    Each boundary pixel contributes the corners from where the outline enters it (set by the step that arrived)
    round to where it leaves (set by the step that departs); a step straight back (a spur's tip) goes all the way
    round, and a ring of one pixel is its four corners. OpenCV keeps only the ends of straight runs: inside a
    horizontal or vertical run every pixel adds one corner on a straight line (left out), inside a diagonal run
    a step of a staircase (put back here: two corners, as the third is where the previous pixel left off)."""
    _, following = _neighbours(points, starts, lengths)
    delta = following - points
    run = np.maximum(np.abs(delta).max(axis=1), 1)  # pixels to the next vertex
    unit = delta // run[:, None]
    step = (unit[:, 1] + 1) * 3 + unit[:, 0] + 1  # the step leaving each vertex (4: a ring of one pixel)
    arriving, _ = _neighbours(step, starts, lengths)
    enter, leave = ENTER[arriving], LEAVE[step]
    corners = (leave - enter) % 4 + 1
    corners = np.where((arriving + step == 8) & (corners == 1), 5, corners)  # turned straight back
    is_single = np.repeat(lengths == 1, lengths)
    enter, corners = np.where(is_single, 0, enter), np.where(is_single, 4, corners)
    is_diagonal = (unit[:, 0] != 0) & (unit[:, 1] != 0)
    staircase = np.where(is_diagonal, 2 * (run - 1), 0)  # corners of the pixels inside a diagonal run
    block = corners + staircase
    block_start = np.cumsum(block) - block
    outline = np.empty((int(block.sum()), 2), dtype=np.int64)
    owner, position = _expand(corners)
    outline[block_start[owner] + position] = points[owner] + CORNERS[(enter[owner] + position) % 4]
    owner, position = _expand(staircase)  # two corners per pixel, pixel by pixel along the run
    outline[block_start[owner] + corners[owner] + position] = (
        points[owner]
        + (position // 2 + 1)[:, None] * unit[owner]
        + CORNERS[(ENTER[step[owner]] + 1 + position % 2) % 4]
    )
    return outline, np.add.reduceat(block, starts) if len(starts) else lengths


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts [2, 0, 3]: the item each of the 5 slots belongs to, [0, 0, 2, 2, 2], and its place in it,
    [0, 1, 0, 1, 2]."""
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]


def _rings_as_text(values: np.ndarray, sizes: np.ndarray) -> list[Ring]:
    """Each ring's numbers (`sizes[i]` of `values`, all non-negative) as "x0,y0,x1,..." text, written digit by
    digit into one buffer for all rings at once (formatting millions of numbers one by one takes seconds)."""
    digits = np.ones(len(values), dtype=np.int64)
    power = 10
    while power <= max(int(values.max(initial=0)), 0):
        digits += values >= power
        power *= 10
    ends = np.cumsum(digits + 1)  # each number is followed by a comma
    buffer = np.full(int(ends[-1]) if len(ends) else 0, ord(","), dtype=np.uint8)
    for place in range(int(digits.max(initial=1))):
        has_digit = digits > place
        buffer[(ends - 2 - place)[has_digit]] = ord("0") + (values[has_digit] // 10**place) % 10
    text = buffer.tobytes().decode("ascii")
    last = np.cumsum(sizes) - 1
    starts = np.concatenate([[0], ends[last[:-1]]]) if len(sizes) else sizes
    return [text[start : end - 1] for start, end in zip(starts.tolist(), ends[last].tolist(), strict=True)]


def _trace(crops: Sequence[tuple[np.ndarray, int, int]]) -> list[list[EdgePolygon]]:
    """Outlines of each (crop, x, y). OpenCV traces each crop; the rest runs on all crops at once."""
    contours: list[np.ndarray] = []
    parents: list[int] = []
    owners: list[int] = []
    offsets: list[tuple[int, int]] = []
    for index, (crop, x, y) in enumerate(crops):
        if crop.size == 0:
            continue
        found, hierarchy = cv2.findContours(crop, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        if hierarchy is None:
            continue
        first = len(contours)
        contours.extend(found)
        owners.extend([index] * len(found))
        parents.extend(first + parent if parent != -1 else -1 for parent in hierarchy[0][:, 3].tolist())
        offsets.extend([(x, y)] * len(found))
    result: list[list[EdgePolygon]] = [[] for _ in crops]
    if not contours:
        return result
    lengths = np.array([len(contour) for contour in contours], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    outline, lengths = _crack_outline(np.concatenate(contours).reshape(-1, 2).astype(np.int64), starts, lengths)
    outline, lengths = _simplify(outline, np.cumsum(lengths) - lengths, lengths)
    outline = outline + np.repeat(np.array(offsets, dtype=np.int64), lengths, axis=0)
    # As text once, here: exports copy it into COCO JSON as it is, so 30,000 outlines are not decoded and
    # encoded again number by number.
    rings = _rings_as_text(outline.ravel(), lengths * 2)
    holes: dict[int, list[Ring]] = {}
    for index, parent in enumerate(parents):
        if parent != -1:
            holes.setdefault(parent, []).append(rings[index])
    for index, parent in enumerate(parents):
        if parent == -1:
            result[owners[index]].append(EdgePolygon(exterior=rings[index], holes=tuple(holes.get(index, ()))))
    return result
