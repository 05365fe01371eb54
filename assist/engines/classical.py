"""The weight-free engine: a defect is what differs from the surface around it, and the box is the floor.

Why not GrabCut or an edge-snapping contour: on ground magnetic tiles (textured, low contrast) colour models and
edges follow the grinding stripes rather than the defect. GrabCut from the tight box scores 0.17 mean IoU on the
tuning split where the filled box itself scores 0.64 (docs/assist-quality.md, bench/assist_quality.py). What
works is comparing each pixel with the surface the inspector left *outside* the box, and trusting that
comparison only when it explains the box.

From a box (x0, y0, x1, y1):
1. The surface model is the ring of pixels just outside the box (a quarter of the box's longer side, 3 to 20 px):
   a plane (illumination gradients) and a robust spread (median absolute deviation), after a light blur.
2. Each pixel in the box gets its deviation from that plane in spreads, signed so that the defect is positive:
   it is darker or brighter than the surface, whichever side has more strongly deviating pixels.
3. Otsu's threshold on the box's deviations; a 3 x 3 opening removes specks, pieces under 5 % of the largest are
   dropped, holes are filled. This is the candidate.
4. The candidate replaces the box only when it is credible, else the filled box comes back (never worse than
   what the inspector drew):
   - it stands out from the surface at all (median deviation >= 1.5 spreads: else it is texture), and the rest
     of the box looks like surface (else the defect fills the box);
   - and either it spans the box, as the defect does in a tight box (ends at most 1/8 of the box short of each
     side; 1/4 for linear defects, whose candidates break up at faint ends) with, for areas, at least 0.8 ring
     pixels per box pixel (huge texture patches and boxes against the image edge leave too little surface to
     judge by: there the box wins),
   - or it stands out strongly (median >= 5 spreads) with some surface seen (0.5 ring pixels per box pixel):
     a clear pore inside a loosely dragged box.

Clicks, after the box (or from nothing). The prompt keeps positive and negative clicks apart, not their
interleaving, so positive ones are replayed first, then negative ones: a "no" wins where the two conflict. The
engine replays the clicks every time and does not read `previous_mask`: the same prompt gives the same mask.
- A positive click on an empty mask, or far from it, grows a region: the pixels on the click's side of the
  midpoint between its grey level and its surroundings', connected to it, in the smallest window (16 to 256 px)
  whose border does not reach the region; the border is then the surroundings.
- Any other click corrects locally, up to twice its distance from the mask's edge (a click just past the edge
  moves that stretch of edge; one deep inside a false piece removes that piece): a positive click adds what is
  at least as defect-like as the clicked pixel, a negative one removes what is at most as defect-like.
- A click always changes the mask where it was made (its own small disk).
"""

from typing import cast

import cv2
import numpy as np

from assist.engines.base import EngineResult, Point, Prompt, engine, image_check, pixel_of, prompt_check

NAME = "classical"
BLUR_SIGMA_PX = 1.5  # Gaussian blur before any statistics: calms the grinding texture, keeps a 3 px crack
RING_FRACTION = 0.25  # width of the surface ring around a box, as a share of the box's longer side ...
RING_MIN_PX, RING_MAX_PX = 3, 20  # ... and its bounds
MIN_SPREAD_GREY = 1.0  # floor on the surface's spread (grey levels): a flat synthetic surface has none
POLARITY_SIGMA = 2.5  # pixels deviating this many spreads vote for "darker" or "brighter"
OTSU_RANGE_SIGMA = (-5.0, 30.0)  # deviations (in spreads) mapped to 0..255 for Otsu's threshold
SPECK_RADIUS_PX = 1  # opening radius: removes isolated pixels the texture lets through
MIN_PIECE_SHARE = 0.05  # pieces smaller than this share of the largest piece are specks
MAX_SIDE_GAP = {"area": 0.125, "linear": 0.25}  # the candidate may end this share of the box short of a side
MIN_RING_SHARE = 0.8  # areas: surface ring pixels needed per box pixel to trust the surface model
MIN_CONTRAST_SIGMA = 1.5  # a candidate closer than this (median, in spreads) to the surface is texture, not defect
REST_IS_DEFECT_SIGMA = 5.0  # the rest of the box this far from the surface: the defect fills the box
STANDS_OUT_SIGMA = 5.0  # a candidate this far (median, in spreads) from the surface is trusted in a loose box ...
STANDS_OUT_MIN_RING_SHARE = 0.5  # ... when at least this much surface was seen around the box
CLICK_DISK_RADIUS_PX = 2  # every click claims this disk, so a click always changes the mask where it is
CLICK_LEVEL_RADIUS_PX = 2  # the click's grey level is the median over this disk (one pixel is too noisy)
GROW_WINDOWS_PX = (16, 32, 64, 128, 256)  # side of the square windows tried around a click, smallest first
GROW_RING_PX = 3  # width of a window's border used as the click's surroundings
MIN_CLICK_CONTRAST_SIGMA = 1.5  # a click closer than this (in spreads) to its surroundings grows nothing
CORRECTION_REACH = 2.0  # a correcting click changes pixels up to this many times its distance to the mask edge
FAR_CLICK_PX = 32  # a positive click further than this from the mask starts a new piece (grown, not corrected)
CLICK_TOLERANCE_SPREADS = 0.5  # texture noise allowed when comparing a pixel with the clicked one
SCORE_HALF_CONTRAST_SIGMA = 3.0  # the score is 0.5 when the mask differs from the surface by this much


@engine(NAME)
class ClassicalEngine:
    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        image_check(image)
        prompt_check(prompt, image_shape=image.shape)
        # All the work happens in a crop around what was drawn: a 600 x 600 image costs no more than a small one.
        x0, y0, x1, y1 = work_area(prompt, image_shape=image.shape)
        smoothed = cv2.GaussianBlur(image[y0 : y1 + 1, x0 : x1 + 1].astype(np.float32), (0, 0), BLUR_SIGMA_PX)
        mask = np.zeros(smoothed.shape, dtype=bool)
        score = 0.0
        if prompt.box is not None:
            box_x0, box_y0 = pixel_of(prompt.box[:2])
            box_x1, box_y1 = pixel_of(prompt.box[2:])
            box = (box_x0 - x0, box_y0 - y0, box_x1 - x0, box_y1 - y0)
            mask, score = mask_from_box(smoothed, box, geometry_kind=prompt.geometry_kind)
        if prompt.positive_clicks or prompt.negative_clicks:

            def local(points: tuple[Point, ...]) -> list[tuple[int, int]]:
                return [(column - x0, row - y0) for column, row in map(pixel_of, points)]

            mask = clicks_apply(
                smoothed, mask, positive=local(prompt.positive_clicks), negative=local(prompt.negative_clicks)
            )
            score = contrast_score(smoothed, mask)
        return result_from_mask(mask, score=score, offset=(x0, y0), image_shape=image.shape)


def work_area(prompt: Prompt, *, image_shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) inclusive: what was drawn, widened by half the largest click window, within the image."""
    points = [pixel_of(point) for point in (*prompt.positive_clicks, *prompt.negative_clicks)]
    if prompt.box is not None:
        points += [pixel_of(prompt.box[:2]), pixel_of(prompt.box[2:])]
    columns, rows = zip(*points, strict=True)
    margin = GROW_WINDOWS_PX[-1] // 2
    height, width = image_shape
    return (
        max(min(columns) - margin, 0),
        max(min(rows) - margin, 0),
        min(max(columns) + margin, width - 1),
        min(max(rows) + margin, height - 1),
    )


def result_from_mask(
    mask: np.ndarray, *, score: float, offset: tuple[int, int], image_shape: tuple[int, int]
) -> EngineResult:
    """The mask cropped to its bounding box (a 1 x 1 empty crop when the mask is empty)."""
    rows, columns = np.nonzero(mask)
    if len(rows) == 0:
        return EngineResult(np.zeros((1, 1), bool), (0, 0), image_shape, 0.0, NAME)
    y0, y1, x0, x1 = rows.min(), rows.max(), columns.min(), columns.max()
    crop_offset = (int(x0) + offset[0], int(y0) + offset[1])
    return EngineResult(mask[y0 : y1 + 1, x0 : x1 + 1].copy(), crop_offset, image_shape, score, NAME)


def _surface_deviation(
    smoothed: np.ndarray, box: tuple[int, int, int, int], crop: tuple[int, int, int, int]
) -> np.ndarray | None:
    """Deviation of each crop pixel from the plane fitted to the ring (crop minus box), in ring spreads, signed so
    that the defect is positive. None when the ring is too small to trust (the box fills its crop)."""
    x0, y0, x1, y1 = box
    cx0, cy0, cx1, cy1 = crop
    values = smoothed[cy0 : cy1 + 1, cx0 : cx1 + 1]
    is_box = np.zeros(values.shape, dtype=bool)
    is_box[y0 - cy0 : y1 - cy0 + 1, x0 - cx0 : x1 - cx0 + 1] = True
    ring_rows, ring_columns = np.nonzero(~is_box)
    if len(ring_rows) < 3 * 3:  # fewer than a 3 x 3 patch of surface: nothing to compare with
        return None
    ring_values = values[ring_rows, ring_columns]
    design = np.column_stack([np.ones(len(ring_rows)), ring_columns, ring_rows]).astype(np.float64)
    plane, *_ = np.linalg.lstsq(design, ring_values, rcond=None)
    residuals = ring_values - design @ plane
    centre = np.median(residuals)
    spread = max(1.4826 * float(np.median(np.abs(residuals - centre))), MIN_SPREAD_GREY)  # MAD -> sigma
    grid_rows, grid_columns = np.mgrid[0 : values.shape[0], 0 : values.shape[1]]
    deviation = (values - (plane[0] + plane[1] * grid_columns + plane[2] * grid_rows) - centre) / spread
    inside = deviation[is_box]
    is_darker = (inside < -POLARITY_SIGMA).sum() >= (inside > POLARITY_SIGMA).sum()
    return cast(np.ndarray, -deviation if is_darker else deviation)


def _otsu_threshold(values: np.ndarray) -> float:
    low, high = OTSU_RANGE_SIGMA
    scaled = ((np.clip(values, low, high) - low) * (255.0 / (high - low))).astype(np.uint8)
    threshold, _ = cv2.threshold(scaled.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cast(float, low + threshold * (high - low) / 255.0)


def holes_fill(mask: np.ndarray) -> np.ndarray:
    """The mask with every region it encloses filled (background = what the image edge reaches)."""
    padded = np.pad(mask.astype(np.uint8), 1)
    flood = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(padded, flood, (0, 0), 2)
    return cast(np.ndarray, padded[1:-1, 1:-1] != 2)


def specks_remove(mask: np.ndarray) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * SPECK_RADIUS_PX + 1,) * 2)
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, dtype=bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return holes_fill(np.isin(labels, 1 + np.flatnonzero(areas >= MIN_PIECE_SHARE * areas.max())))


def mask_from_box(
    smoothed: np.ndarray, box: tuple[int, int, int, int], *, geometry_kind: str
) -> tuple[np.ndarray, float]:
    """The defect inside a tight box (steps 1 to 4 of the module's docstring) and its score."""
    height, width = smoothed.shape
    x0, y0, x1, y1 = box
    filled = np.zeros(smoothed.shape, dtype=bool)
    filled[y0 : y1 + 1, x0 : x1 + 1] = True
    ring_px = int(np.clip(RING_FRACTION * max(x1 - x0 + 1, y1 - y0 + 1), RING_MIN_PX, RING_MAX_PX))
    crop = (max(x0 - ring_px, 0), max(y0 - ring_px, 0), min(x1 + ring_px, width - 1), min(y1 + ring_px, height - 1))
    deviation = _surface_deviation(smoothed, box, crop)
    if deviation is None:
        return filled, 0.0
    cx0, cy0 = crop[:2]
    in_box = deviation[y0 - cy0 : y1 - cy0 + 1, x0 - cx0 : x1 - cx0 + 1]
    candidate = specks_remove(in_box > _otsu_threshold(in_box))
    if not candidate.any():
        return filled, 0.0
    rows, columns = np.nonzero(candidate)
    box_height, box_width = candidate.shape
    side_gap = max(
        columns.min() / box_width,
        (box_width - 1 - columns.max()) / box_width,
        rows.min() / box_height,
        (box_height - 1 - rows.max()) / box_height,
    )
    ring_share = (deviation.size - in_box.size) / in_box.size
    contrast = float(np.median(in_box[candidate]))
    spans_box = side_gap <= MAX_SIDE_GAP[geometry_kind] and (geometry_kind == "linear" or ring_share >= MIN_RING_SHARE)
    stands_out = contrast >= STANDS_OUT_SIGMA and ring_share >= STANDS_OUT_MIN_RING_SHARE
    rest = in_box[~candidate]
    is_rest_defect = rest.size > 0 and float(np.median(rest)) >= REST_IS_DEFECT_SIGMA
    if contrast < MIN_CONTRAST_SIGMA or is_rest_defect or not (spans_box or stands_out):
        return filled, 0.0
    mask = np.zeros(smoothed.shape, dtype=bool)
    mask[y0 : y1 + 1, x0 : x1 + 1] = candidate
    return mask, contrast / (contrast + SCORE_HALF_CONTRAST_SIGMA) if contrast > 0 else 0.0


def _disk(shape: tuple[int, int], column: int, row: int, radius_px: float) -> np.ndarray:
    disk = np.zeros(shape, dtype=np.uint8)
    radius_px = min(radius_px, shape[0] + shape[1])  # "unbounded" (a mask filling the crop): the whole crop
    cv2.circle(disk, (column, row), int(round(radius_px)), 1, thickness=-1)
    return disk.astype(bool)


def _level_at(smoothed: np.ndarray, column: int, row: int) -> float:
    return float(np.median(smoothed[_disk(smoothed.shape, column, row, CLICK_LEVEL_RADIUS_PX)]))


def _component_at(mask: np.ndarray, column: int, row: int) -> np.ndarray:
    if not mask[row, column]:
        return np.zeros(mask.shape, dtype=bool)
    _, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    return cast(np.ndarray, labels == labels[row, column])


def _level_and_spread(values: np.ndarray) -> tuple[float, float]:
    level = float(np.median(values))
    return level, max(1.4826 * float(np.median(np.abs(values - level))), MIN_SPREAD_GREY)  # MAD -> sigma


def region_grow(smoothed: np.ndarray, column: int, row: int) -> np.ndarray:
    """The region a first click at (column, row) points at: pixels on the click's side of the midpoint between
    its grey level and its surroundings', connected to it, in the smallest window whose border does not reach
    the region (the image edge aside). Empty when no window encloses a region that stands out."""
    height, width = smoothed.shape
    level = _level_at(smoothed, column, row)
    for side_px in GROW_WINDOWS_PX:
        half = side_px // 2
        wx0, wy0 = max(column - half, 0), max(row - half, 0)
        wx1, wy1 = min(column + half, width - 1), min(row + half, height - 1)
        window = smoothed[wy0 : wy1 + 1, wx0 : wx1 + 1]
        border = np.ones(window.shape, dtype=bool)
        border[GROW_RING_PX:-GROW_RING_PX, GROW_RING_PX:-GROW_RING_PX] = False
        surface_level, spread = _level_and_spread(window[border])
        if abs(level - surface_level) < MIN_CLICK_CONTRAST_SIGMA * spread:
            continue  # the window sits inside the defect, or the click is on plain surface
        midpoint = (level + surface_level) / 2
        piece = _component_at(
            window < midpoint if level < surface_level else window > midpoint, column - wx0, row - wy0
        )
        touches = (
            (wx0 > 0 and piece[:, 0].any())
            or (wy0 > 0 and piece[0, :].any())
            or (wx1 < width - 1 and piece[:, -1].any())
            or (wy1 < height - 1 and piece[-1, :].any())
        )
        if not touches:
            region = np.zeros(smoothed.shape, dtype=bool)
            region[wy0 : wy1 + 1, wx0 : wx1 + 1] = holes_fill(piece)
            return region
    return np.zeros(smoothed.shape, dtype=bool)


def _distance_to(mask: np.ndarray, column: int, row: int) -> float:
    rows, columns = np.nonzero(mask)
    if len(rows) == 0:
        return float("inf")
    return float(np.sqrt(((rows - row) ** 2 + (columns - column) ** 2).min()))


def correction_region(
    smoothed: np.ndarray, column: int, row: int, *, reach_px: float, darker: bool, inside: np.ndarray
) -> np.ndarray:
    """What a correcting click at (column, row) changes: the pixels within `reach_px` of it, inside `inside`,
    connected to it, at least as dark as the click (`darker`) or at least as bright, within half a spread
    of texture noise; plus the click's own disk, as large as its distance to the mask edge allows."""
    level = float(smoothed[row, column])
    nearby = _disk(smoothed.shape, column, row, reach_px) & inside
    window = smoothed[nearby]
    _, spread = _level_and_spread(window) if window.size else (0.0, MIN_SPREAD_GREY)
    tolerance = CLICK_TOLERANCE_SPREADS * spread
    like_click = smoothed <= level + tolerance if darker else smoothed >= level - tolerance
    own_disk = _disk(smoothed.shape, column, row, min(CLICK_DISK_RADIUS_PX, max(reach_px / CORRECTION_REACH - 1, 0)))
    return cast(np.ndarray, _component_at(nearby & like_click, column, row) | own_disk)


def _is_defect_darker(smoothed: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the mask is darker than the pixels just around it."""
    around = cv2.dilate(mask.astype(np.uint8), np.ones((2 * GROW_RING_PX + 1,) * 2, np.uint8)).astype(bool) & ~mask
    if not around.any():
        return True  # the mask fills the crop: no surface to compare with; dark defects are the common case
    return float(np.median(smoothed[mask])) <= float(np.median(smoothed[around]))


def clicks_apply(
    smoothed: np.ndarray, mask: np.ndarray, *, positive: list[tuple[int, int]], negative: list[tuple[int, int]]
) -> np.ndarray:
    """The mask after the prompt's clicks, in the order the module's docstring gives: a positive click on an
    empty mask or more than FAR_CLICK_PX from it grows a new piece; any other click corrects within
    CORRECTION_REACH times its distance to the mask's edge, so that one click never floods the image."""
    mask = mask.copy()
    everywhere = np.ones(mask.shape, dtype=bool)
    for column, row in positive:
        distance_px = _distance_to(mask, column, row)
        if distance_px > FAR_CLICK_PX:
            mask |= region_grow(smoothed, column, row) | _disk(mask.shape, column, row, CLICK_DISK_RADIUS_PX)
            continue
        if mask[row, column]:
            continue  # already defect
        darker = _is_defect_darker(smoothed, mask)
        reach_px = CORRECTION_REACH * distance_px
        mask |= correction_region(smoothed, column, row, reach_px=reach_px, darker=darker, inside=everywhere)
    for column, row in negative:
        if not mask[row, column]:
            continue  # a "no" on what is already not defect changes nothing
        darker = _is_defect_darker(smoothed, mask)
        reach_px = CORRECTION_REACH * _distance_to(~mask, column, row)
        # Removed: what is at most as defect-like as the click, i.e. at least as bright for a dark defect.
        mask &= ~correction_region(smoothed, column, row, reach_px=reach_px, darker=not darker, inside=mask)
    for column, row in positive:  # a positive click keeps its own pixel even after a nearby "no"
        mask[row, column] = True
    return mask


def contrast_score(smoothed: np.ndarray, mask: np.ndarray) -> float:
    """0..1: how far the mask's grey level is from the pixels around it, in their spreads."""
    if not mask.any():
        return 0.0
    around = cv2.dilate(mask.astype(np.uint8), np.ones((2 * RING_MIN_PX + 1,) * 2, np.uint8)).astype(bool) & ~mask
    if not around.any():
        return 0.0
    surface = smoothed[around]
    spread = max(1.4826 * float(np.median(np.abs(surface - np.median(surface)))), MIN_SPREAD_GREY)
    contrast = abs(float(np.median(smoothed[mask])) - float(np.median(surface))) / spread
    return contrast / (contrast + SCORE_HALF_CONTRAST_SIGMA)
