"""A real engine for the pre-label tests: it finds dark spots with no prompt. Not a mock: a fixed-threshold
detector ("darker than the image's median by DARKER_SPREADS robust spreads"), good enough on the tests' synthetic
spots and honest about what it is. A process started with DEFECTLAB_ASSIST_ENGINE_MODULES naming this module (the
tests' own worker) registers it on import; in the test process `registered()` adds and removes it around a test,
so the tests that expect no pre-label engine still see none."""

from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
from django.conf import settings

from assist.engines import base
from assist.engines.base import EngineResult, Prompt, image_check, pixel_of, prompt_check

NAME = "test-dark-spots"
DARKER_SPREADS = 6.0  # a pixel this many robust spreads (1.4826 MAD) below the median is defect
MIN_SPREAD_GREY = 1.0  # floor on the spread: a flat image has none
MIN_AREA_PX = 4  # regions smaller than this are noise
SCORE_FULL_SPREADS = 30.0  # a spot this many spreads darker than the median scores 1.0


class DarkSpotEngine:
    def prelabel(self, image: np.ndarray) -> list[EngineResult]:
        image_check(image)
        return self._spots(image, (0, 0, image.shape[1] - 1, image.shape[0] - 1))

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        """The largest spot inside the box (or around the first positive click, 32 px each way)."""
        image_check(image)
        prompt_check(prompt, image_shape=image.shape)
        if prompt.box is not None:
            (x0, y0), (x1, y1) = pixel_of(prompt.box[:2]), pixel_of(prompt.box[2:])
        else:
            column, row = pixel_of(prompt.positive_clicks[0])
            x0, y0 = max(column - 32, 0), max(row - 32, 0)
            x1, y1 = min(column + 32, image.shape[1] - 1), min(row + 32, image.shape[0] - 1)
        spots = self._spots(image, (x0, y0, x1, y1))
        if not spots:
            return EngineResult(np.zeros((1, 1), bool), (0, 0), image.shape, 0.0, NAME)
        return max(spots, key=lambda spot: spot.mask.sum())

    def _spots(self, image: np.ndarray, area: tuple[int, int, int, int]) -> list[EngineResult]:
        median = float(np.median(image))
        spread = max(1.4826 * float(np.median(np.abs(image - median))), MIN_SPREAD_GREY)
        x0, y0, x1, y1 = area
        crop = image[y0 : y1 + 1, x0 : x1 + 1].astype(np.float64)
        is_dark = (crop < median - DARKER_SPREADS * spread).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(is_dark, connectivity=8)
        spots = []
        for label in range(1, count):
            left, top, width, height, area_px = stats[label]
            if area_px < MIN_AREA_PX:
                continue
            mask = labels[top : top + height, left : left + width] == label
            depth_spreads = (median - float(crop[top : top + height, left : left + width][mask].mean())) / spread
            score = float(min(1.0, depth_spreads / SCORE_FULL_SPREADS))
            spots.append(EngineResult(mask, (int(x0 + left), int(y0 + top)), image.shape, score, NAME))
        return spots


def register() -> None:
    if NAME not in base.ENGINES:
        base.engine(NAME, can_prelabel=True)(DarkSpotEngine)


@contextmanager
def registered() -> Iterator[None]:
    """The engine registered for the duration (this process only)."""
    register()
    try:
        yield
    finally:
        base.ENGINES.pop(NAME, None)
        base._INSTANCES.pop(NAME, None)


if __name__ in settings.DEFECTLAB_ASSIST_ENGINE_MODULES:
    register()
