"""Training examples: one crop per final annotation region (a box or a first click as its prompt) or, for a
share of them, a box on a defect-free image whose answer is "nothing here".

Each example is drawn from (seed, step, index) alone, so a resumed run sees the batches it would have seen. The
crop is the engine's own (window.window_around on the prompt), so training and inference look at the same
squares. Click-prompted examples get a window of random size around the first click, from the smallest crop up
to past the region's extent: at inference a click's crop starts small and doubles while the mask reaches its edge.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from assist.engines.base import Point
from assist.engines.quality import next_click
from assist.interactive.recipe import InteractiveRecipe
from assist.interactive.window import Window, window_around
from assist.training.samples import Sample

RANDOM_CLICK_SHARE = 0.5  # first clicks drawn in the deepest half (RITM) rather than at the deepest point
CLICK_WINDOW_OVERSHOOT = 1.25  # click windows reach up to this many times the region's crop
FREE_BOX_PX = (8, 160)  # side range of the boxes drawn on defect-free images


@dataclass(frozen=True)
class Example:
    grey: np.ndarray  # uint8 (S, S)
    target: np.ndarray  # bool (S, S): this region only (other defects in the crop are background, as scored)
    box_map: np.ndarray | None  # bool (S, S), or None for a click prompt
    positive: tuple[Point, ...]  # crop px
    negative: tuple[Point, ...]


@dataclass(frozen=True)
class _Region:
    sample_index: int
    label: int  # in the sample's 8-connected component labels
    box: tuple[int, int, int, int]  # inclusive


class ExampleSampler:
    def __init__(self, samples: Sequence[Sample], recipe: InteractiveRecipe) -> None:
        self.samples = list(samples)
        self.recipe = recipe
        self.labels: dict[int, np.ndarray] = {}
        self.regions: list[_Region] = []
        region_classes: list[int] = []
        for index, sample in enumerate(self.samples):
            if sample.is_defect_free or not sample.mask.any():
                continue
            count, labels, stats, _ = cv2.connectedComponentsWithStats(
                (sample.mask > 0).astype(np.uint8), connectivity=8
            )
            self.labels[index] = labels
            for label in range(1, count):
                x, y, width, height, _ = (int(value) for value in stats[label])
                self.regions.append(_Region(index, label, (x, y, x + width - 1, y + height - 1)))
                region_classes.append(int(np.bincount(sample.mask[labels == label]).argmax()))
        if not self.regions:
            raise ValueError("no defect regions to train on")
        class_counts = np.bincount(region_classes)
        weights = np.array([class_counts[index] ** (recipe.class_balance_power - 1.0) for index in region_classes])
        self.region_weights = weights / weights.sum()
        self.defect_free = [index for index, sample in enumerate(self.samples) if sample.is_defect_free]

    def batch(self, step: int) -> list[Example]:
        return [self.example(step, index) for index in range(self.recipe.batch_size)]

    def example(self, step: int, index: int) -> Example:
        rng = np.random.default_rng([self.recipe.seed, step, index])
        if self.defect_free and rng.random() < self.recipe.defect_free_share:
            return self._defect_free(rng)
        region = self.regions[int(rng.choice(len(self.regions), p=self.region_weights))]
        sample = self.samples[region.sample_index]
        region_mask = self.labels[region.sample_index] == region.label
        recipe = self.recipe
        if rng.random() < recipe.box_prompt_share:
            box = _box_jitter(region.box, recipe.box_jitter, rng, sample.image.shape)
            window = window_around(
                box, size=recipe.crop_size_px, context=recipe.crop_context, min_side=recipe.min_window_px
            )
            return _augmented(sample.image, region_mask, window, box, rng, recipe)
        (click_x, click_y), _ = next_click(region_mask, np.zeros_like(region_mask), rng=rng)
        x0, y0, x1, y1 = region.box
        largest = max(
            (max(x1 - x0, y1 - y0) + 1) * (1 + 2 * recipe.crop_context) * CLICK_WINDOW_OVERSHOOT, recipe.min_window_px
        )
        side = math.exp(rng.uniform(math.log(recipe.min_window_px), math.log(largest)))
        shift_x, shift_y = rng.uniform(-0.35, 0.35, size=2) * side
        window = Window(
            click_x + 0.5 + shift_x - side / 2, click_y + 0.5 + shift_y - side / 2, side, recipe.crop_size_px
        )
        return _augmented(sample.image, region_mask, window, None, rng, recipe)

    def _defect_free(self, rng: np.random.Generator) -> Example:
        sample = self.samples[self.defect_free[int(rng.integers(len(self.defect_free)))]]
        height, width = sample.image.shape
        box_width, box_height = (
            int(rng.integers(FREE_BOX_PX[0], min(FREE_BOX_PX[1], side) + 1)) for side in (width, height)
        )
        x0, y0 = int(rng.integers(0, width - box_width + 1)), int(rng.integers(0, height - box_height + 1))
        box = (x0, y0, x0 + box_width - 1, y0 + box_height - 1)
        recipe = self.recipe
        window = window_around(
            box, size=recipe.crop_size_px, context=recipe.crop_context, min_side=recipe.min_window_px
        )
        return _augmented(sample.image, np.zeros(sample.image.shape, bool), window, box, rng, recipe)


def _box_jitter(
    box: tuple[int, int, int, int], jitter: tuple[float, float], rng: np.random.Generator, shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    """Each side moved out by a random share of the box's extent (in by a little when negative), clipped."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0 + 1, y1 - y0 + 1
    moves = rng.uniform(*jitter, size=4) * np.array([width, height, width, height])
    jittered_x0 = min(max(round(x0 - moves[0]), 0), x0 + width // 2)
    jittered_y0 = min(max(round(y0 - moves[1]), 0), y0 + height // 2)
    jittered_x1 = max(min(round(x1 + moves[2]), shape[1] - 1), jittered_x0)
    jittered_y1 = max(min(round(y1 + moves[3]), shape[0] - 1), jittered_y0)
    return (jittered_x0, jittered_y0, jittered_x1, jittered_y1)


def _augmented(
    image: np.ndarray,
    region_mask: np.ndarray,
    window: Window,
    box: tuple[int, int, int, int] | None,
    rng: np.random.Generator,
    recipe: InteractiveRecipe,
) -> Example:
    """The window's crop, flipped and turned (prompt maps with it), lighting varied; a click-prompted example
    gets its first click in the crop (the deepest half of the region: RITM's first click, or the deepest point)."""
    grey = window.crop(image)
    target = window.crop_mask(region_mask)
    box_map = None if box is None else window.box_map(box)
    if rng.random() < recipe.flip_probability:
        grey, target = grey[:, ::-1], target[:, ::-1]
        box_map = None if box_map is None else box_map[:, ::-1]
    if rng.random() < recipe.flip_probability:
        grey, target = grey[::-1], target[::-1]
        box_map = None if box_map is None else box_map[::-1]
    if rng.random() < recipe.rotate90_probability:
        grey, target = np.rot90(grey), np.rot90(target)
        box_map = None if box_map is None else np.rot90(box_map)
    grey = _lighting(np.ascontiguousarray(grey), rng, recipe)
    target = np.ascontiguousarray(target)
    positive: tuple[Point, ...] = ()
    if box_map is None:
        if not target.any():  # a sliver lost in resampling: prompt it with its box instead
            return _augmented(image, region_mask, window, _mask_box(region_mask), rng, recipe)
        point, _ = next_click(target, np.zeros_like(target), rng=rng if rng.random() < RANDOM_CLICK_SHARE else None)
        positive = (point,)
    else:
        box_map = np.ascontiguousarray(box_map)
    return Example(grey=grey, target=target, box_map=box_map, positive=positive, negative=())


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, columns = np.nonzero(mask)
    return (int(columns.min()), int(rows.min()), int(columns.max()), int(rows.max()))


def _lighting(grey: np.ndarray, rng: np.random.Generator, recipe: InteractiveRecipe) -> np.ndarray:
    values = grey.astype(np.float32) / 255.0
    if rng.random() < recipe.lighting_probability:
        values = values ** rng.uniform(0.7, 1.4)
        values = (values - values.mean()) * rng.uniform(0.75, 1.25) + values.mean() + rng.uniform(-0.15, 0.15)
    if rng.random() < recipe.noise_probability:
        values = values + rng.normal(0.0, rng.uniform(0.01, 0.04), size=values.shape)
    return np.asarray(np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8))
