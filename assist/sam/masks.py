"""SAM's answer from its low-resolution logits to the mask an outline is traced from. Pure: numpy and OpenCV.

Upscaling. SAM's decoder answers (256, 256) logits, 4 encoder-input px a cell; SAM's ONNX wrapper then resizes
them bilinearly to 1024 x 1024, crops the padding off and resizes again to the region's size, for all four mask
tokens, inside the graph. Here the decoder graph stops at the low-resolution logits (runtime.py prunes it) and
`Upscaling` does the same two resizes as one separable map (each region px a weighted sum of at most 4 x 4 cells,
PyTorch's `F.interpolate(bilinear, align_corners=False)` weights), only for the token shown and only over the
window where the mask can be: a bilinear weighting of logits that are all <= 0 is <= 0, so no pixel outside the
cells above the threshold, widened by their taps, can be in the mask. The result equals the graph's mask up to
float32 rounding (logits within ~1e-6 of the threshold); the browser's worker does the same
(frontend/src/sam/masks.ts).

Clean-up (SAM's own post-processing, segment_anything/utils/amg.py `remove_small_regions`, which its automatic
mask generator applies with `min_mask_region_area`): holes in the mask smaller than `min_region_px` are filled, then
islands smaller than it are removed; as there, if every island is small the largest is kept. Two differences, both
for an inspector's prompt: an island under a positive click and a hole under a negative click are always kept
(what the inspector pointed at is never cleaned away), and a hole is background the mask encloses (not reaching the
region's border; amg.py would also fill a small bay at the image's edge), 4-connected: the holes the outline shows
(OpenCV traces the mask's regions 8-connected and its holes 4-connected; amg.py takes both 8-connected, so a hole
of diagonally touching pieces counts as one large hole there and stays as many small traced rings).

`min_region_px` (`min_region_px_for`): MIN_REGION_SHARE of the prompt's box, or of the encoded region for clicks
alone, and at least MIN_REGION_FLOOR_PX. A speck under that is below what an inspector corrects (0.1% of a
250 x 380 px tile is 95 px, a 10 px disc) and SAM's low-resolution cells are 1/65,536 of the region, so it is
still 65 of them: what SAM resolves, not its interpolation.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import cv2
import numpy as np

from assist.sam.transforms import IMAGE_SIDE_PX, LOW_RES_SIDE_PX, MASK_THRESHOLD_LOGIT, Box, Point, resized_shape

MIN_REGION_SHARE = 0.001  # of the box's px (box prompts) or the encoded region's px (clicks alone)
MIN_REGION_FLOOR_PX = 9  # a 3 x 3 px speck at least: below that even a tiny box's share is noise
TAPS = 4  # low-resolution cells per region px and axis: 2 bilinear taps of 2 bilinear taps

Window = tuple[int, int, int, int]  # (x, y, width, height) region px


def _bilinear_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's bilinear resize along one axis, align_corners=False, no antialiasing (what SAM's wrapper calls):
    (out_size, 2) source indices and weights."""
    source = (np.arange(out_size, dtype=np.float64) + 0.5) * (in_size / out_size) - 0.5
    source = np.maximum(source, 0.0)
    first = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    second = np.minimum(first + 1, in_size - 1)
    weight_second = np.clip(source - first, 0.0, 1.0)
    return np.stack([first, second], axis=1), np.stack([1.0 - weight_second, weight_second], axis=1)


def axis_taps(region_px: int, resized_px: int) -> tuple[np.ndarray, np.ndarray]:
    """One axis of SAM's upscaling (256 -> 1024, crop to `resized_px`, -> `region_px`) as (region_px, 4) cell
    indices and float32 weights; each row's indices are non-decreasing."""
    up_index, up_weight = _bilinear_taps(LOW_RES_SIDE_PX, IMAGE_SIDE_PX)
    down_index, down_weight = _bilinear_taps(resized_px, region_px)
    index = up_index[down_index].reshape(region_px, TAPS)
    weight = (down_weight[:, :, None] * up_weight[down_index]).reshape(region_px, TAPS)
    return index, weight.astype(np.float32)


@dataclass(frozen=True)
class Upscaling:
    """SAM's resize of low-resolution logits to a region of `region_shape` (height, width) px, separable."""

    region_shape: tuple[int, int]
    row_index: np.ndarray  # int64 (height, 4) cells
    row_weight: np.ndarray  # float32 (height, 4)
    column_index: np.ndarray  # int64 (width, 4)
    column_weight: np.ndarray  # float32 (width, 4)

    def window(self, low_res: np.ndarray) -> Window | None:
        """The smallest window (x, y, width, height) outside which every px of `low_res`'s mask is background;
        None when no cell is above the threshold."""
        rows = np.flatnonzero((low_res > MASK_THRESHOLD_LOGIT).any(axis=1))
        columns = np.flatnonzero((low_res > MASK_THRESHOLD_LOGIT).any(axis=0))
        if len(rows) == 0:
            return None
        y0, y1 = _reached(self.row_index, self.row_weight, rows[0], rows[-1])
        x0, x1 = _reached(self.column_index, self.column_weight, columns[0], columns[-1])
        if y0 > y1 or x0 > x1:
            return None  # the cells above the threshold are all in the padding: nothing in the region
        return x0, y0, x1 - x0 + 1, y1 - y0 + 1

    def logits(self, low_res: np.ndarray, window: Window | None = None) -> np.ndarray:
        """float32 logits of `window` (default: the whole region) from (256, 256) low-resolution logits."""
        x, y, width, height = window if window is not None else (0, 0, self.region_shape[1], self.region_shape[0])
        row_index, row_weight = self.row_index[y : y + height], self.row_weight[y : y + height]
        column_index, column_weight = self.column_index[x : x + width], self.column_weight[x : x + width]
        cells = low_res.astype(np.float32, copy=False)
        rows = np.einsum("ht,htc->hc", row_weight, cells[row_index])  # (height, 256)
        return cast(np.ndarray, np.einsum("wt,hwt->hw", column_weight, rows[:, column_index]))

    def mask(self, low_res: np.ndarray) -> tuple[np.ndarray, Window | None]:
        """The bool mask over its window and the window; an empty (0, 0) mask and None when SAM found nothing."""
        window = self.window(low_res)
        if window is None:
            return np.zeros((0, 0), dtype=bool), None
        return self.logits(low_res, window) > MASK_THRESHOLD_LOGIT, window

    def full_mask(self, low_res: np.ndarray) -> np.ndarray:
        """The bool mask over the whole region."""
        height, width = self.region_shape
        full = np.zeros((height, width), dtype=bool)
        mask, window = self.mask(low_res)
        if window is not None:
            x, y, window_width, window_height = window
            full[y : y + window_height, x : x + window_width] = mask
        return full


def _reached(index: np.ndarray, weight: np.ndarray, first: int, last: int) -> tuple[int, int]:
    """The first and last region px with a non-zero weight on a cell in [first, last] (-1, -2 for none)."""
    reaches = ((index >= first) & (index <= last) & (weight > 0)).any(axis=1)
    found = np.flatnonzero(reaches)
    return (int(found[0]), int(found[-1])) if len(found) else (-1, -2)


@lru_cache(maxsize=64)
def upscaling_for(region_shape: tuple[int, int]) -> Upscaling:
    """The upscaling of a region shape (height, width): built once, a few kB."""
    height, width = region_shape
    resized_height, resized_width = resized_shape(height, width)
    row_index, row_weight = axis_taps(height, resized_height)
    column_index, column_weight = axis_taps(width, resized_width)
    return Upscaling((height, width), row_index, row_weight, column_index, column_weight)


def min_region_px_for(*, box: Box | None, region_shape: tuple[int, int]) -> int:
    """The clean-up's area threshold, px: MIN_REGION_SHARE of the box (inclusive corners) or of the region."""
    if box is not None:
        reference_px = (abs(box[2] - box[0]) + 1) * (abs(box[3] - box[1]) + 1)
    else:
        reference_px = region_shape[0] * region_shape[1]
    return max(MIN_REGION_FLOOR_PX, int(np.ceil(MIN_REGION_SHARE * reference_px)))


def _pixels_in(points: tuple[Point, ...], offset: tuple[int, int], shape: tuple[int, int]) -> list[tuple[int, int]]:
    """(row, column) in the padded mask of each point (region px, pixel centres) that lies on the mask's window."""
    inside = []
    for x, y in points:
        column, row = int(np.floor(x + 0.5)) - offset[0], int(np.floor(y + 0.5)) - offset[1]
        if 0 <= row < shape[0] and 0 <= column < shape[1]:
            inside.append((row + 1, column + 1))
    return inside


def small_regions_remove(
    mask: np.ndarray,
    *,
    min_region_px: int,
    offset: tuple[int, int] = (0, 0),
    positive_clicks: tuple[Point, ...] = (),
    negative_clicks: tuple[Point, ...] = (),
) -> np.ndarray:
    """`mask` (bool, a window of a region whose every px outside it is background, top-left at `offset` region px)
    without holes and islands under `min_region_px` (see the module's docstring); clicks in region px."""
    if mask.size == 0:
        return mask
    padded = np.pad(mask, 1)  # background all round: whatever touches it reaches the region's border
    # Holes: background regions that do not reach the pad, small, and not under a negative click.
    count, labels, stats, _ = cv2.connectedComponentsWithStats((~padded).view(np.uint8), connectivity=4)
    fill = stats[:, cv2.CC_STAT_AREA] < min_region_px
    fill[0] = False  # label 0: the mask itself
    fill[labels[0, 0]] = False  # the background outside
    for row, column in _pixels_in(negative_clicks, offset, mask.shape):
        fill[labels[row, column]] = False
    if fill.any():
        padded = padded | fill[labels]
    # Islands: small, and not under a positive click; the largest stays if all are small.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(padded.view(np.uint8), connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA]
    keep = areas >= min_region_px
    keep[0] = False  # the background
    for row, column in _pixels_in(positive_clicks, offset, mask.shape):
        keep[labels[row, column]] = labels[row, column] != 0
    if count > 1 and not keep.any():
        keep[1 + int(np.argmax(areas[1:]))] = True
    return cast(np.ndarray, keep[labels][1:-1, 1:-1])
