"""Whole-image prediction from a network that takes sizes in multiples of 32: reflect-padding, tiling of large
images with overlapping windows, and the optional horizontal-flip average. Pure numpy/cv2: PyTorch evaluation
and the onnxruntime Predictor share it, so both see exactly the same pixels."""

import math
from collections.abc import Callable

import cv2
import numpy as np

SIZE_MULTIPLE_PX = 32  # the encoder halves the resolution five times
MAX_TILE_PX = 1024  # larger images are cut into tiles of at most this side (memory, not accuracy)
TILE_OVERLAP_PX = 64  # tiles overlap by this much and their probabilities are averaged, so seams do not show

Run = Callable[[np.ndarray], tuple[np.ndarray, float]]
"Padded grey uint8 (h, w), h and w multiples of 32 -> (class probabilities float32 (C, h, w), image probability)."


def pad_to_multiple(image: np.ndarray, multiple: int = SIZE_MULTIPLE_PX) -> np.ndarray:
    """`image` reflected out at the bottom and right to multiples of `multiple` (the crops were reflected too;
    OpenCV keeps reflecting when the padding is longer than the image)."""
    height, width = image.shape
    pad_rows, pad_columns = -height % multiple, -width % multiple
    if not pad_rows and not pad_columns:
        return image
    return cv2.copyMakeBorder(image, 0, pad_rows, 0, pad_columns, cv2.BORDER_REFLECT_101)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of the fewest windows of `tile` px that cover `length` px with at least `overlap` px shared
    between neighbours, spread evenly."""
    if length <= tile:
        return [0]
    if overlap >= tile:
        raise ValueError(f"an overlap of {overlap} px needs tiles larger than {tile} px")
    count = math.ceil((length - tile) / (tile - overlap)) + 1
    return [round(index * (length - tile) / (count - 1)) for index in range(count)]


def probabilities_predict(
    image: np.ndarray, run: Run, *, flip: bool = False, max_tile_px: int = MAX_TILE_PX
) -> tuple[np.ndarray, float]:
    """Class probabilities (C, H, W) float32 for a grey uint8 (H, W) image of any size, and the image-level defect
    probability (the largest over tiles)."""
    height, width = image.shape
    padded = pad_to_multiple(image)
    tile = min(max_tile_px - max_tile_px % SIZE_MULTIPLE_PX, max(padded.shape))
    overlap = min(TILE_OVERLAP_PX, tile // 2)
    rows, columns = tile_starts(padded.shape[0], tile, overlap), tile_starts(padded.shape[1], tile, overlap)
    total: np.ndarray | None = None
    weight = np.zeros(padded.shape, dtype=np.float32)
    image_probability = 0.0
    for top in rows:
        for left in columns:
            window = padded[top : top + tile, left : left + tile]
            probabilities, window_probability = run(window)
            if flip:
                flipped, flipped_probability = run(np.ascontiguousarray(window[:, ::-1]))
                probabilities = (probabilities + flipped[:, :, ::-1]) / 2
                window_probability = (window_probability + flipped_probability) / 2
            if total is None:
                total = np.zeros((probabilities.shape[0], *padded.shape), dtype=np.float32)
            total[:, top : top + window.shape[0], left : left + window.shape[1]] += probabilities
            weight[top : top + window.shape[0], left : left + window.shape[1]] += 1
            image_probability = max(image_probability, float(window_probability))
    assert total is not None  # noqa: S101 -- at least one window always exists
    return (total / weight)[:, :height, :width], image_probability
