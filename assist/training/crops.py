"""Training batches: crops at native resolution, drawn class-balanced, centred on defects, with defect-free crops
as negatives (hard negatives once the model has shown where it errs). Pure numpy/cv2.

A batch is a function of (seed, epoch, step) and the hard-negative points alone: resuming a run, or drawing the
batches in another process, gives the same pixels.
"""

from collections.abc import Sequence

import cv2
import numpy as np

from assist.training.augment import DefectRegion, augment, augmentation_pipeline, copy_paste, defect_regions_cut
from assist.training.recipe import Recipe
from assist.training.samples import Sample, sample_label

HARD_NEGATIVE_SHARE = 0.5  # of defect-free crops, once hard-negative points are known: centred on one of them


class CropSampler:
    """Draws (images, masks) batches of uint8 (B, S, S) crops from the training samples.

    Defect-free crops make up `defect_free_fraction` of a batch; the rest come from defect images, the defect class
    chosen with weight (images of the class)^class_balance_power, then an image of it, then a crop centred on one of
    its defect pixels (`defect_centred_fraction`) or anywhere. Images with a defect label but an empty mask
    (labelling gaps) are left out: their background is not known to be clean."""

    def __init__(self, samples: Sequence[Sample], defect_classes: Sequence[str], recipe: Recipe) -> None:
        self.samples = list(samples)
        self.recipe = recipe
        self.pipeline = augmentation_pipeline(recipe.augmentation)
        self.defect_free = [index for index, sample in enumerate(self.samples) if sample.is_defect_free]
        by_class: dict[str, list[int]] = {}
        for index, sample in enumerate(self.samples):
            if not sample.is_defect_free and sample.mask.any():
                by_class.setdefault(sample_label(sample, defect_classes), []).append(index)
        self.class_names = sorted(by_class)
        self.class_images = [by_class[name] for name in self.class_names]
        weights = np.array([len(images) ** recipe.class_balance_power for images in self.class_images], dtype=float)
        self.class_weights = weights / weights.sum() if len(weights) else weights
        if not self.class_images and not self.defect_free:
            raise ValueError("no training images: need defect images with masks or defect-free images")
        regions: dict[int, list[DefectRegion]] = {}
        for images in self.class_images:
            for index in images:
                for region in defect_regions_cut(
                    self.samples[index].image, self.samples[index].mask, recipe.crop_size_px
                ):
                    regions.setdefault(region.class_index, []).append(region)
        self.regions = [regions[class_index] for class_index in sorted(regions)]
        self.hard_negatives: dict[int, np.ndarray] = {}  # defect-free sample index -> (n, 2) (row, column) points

    def batch(self, epoch: int, step: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.recipe.seed, epoch, step])
        size = self.recipe.crop_size_px
        images = np.empty((self.recipe.batch_size, size, size), dtype=np.uint8)
        masks = np.empty_like(images)
        for item in range(self.recipe.batch_size):
            images[item], masks[item] = self._crop(rng)
        return images, masks

    def _crop(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        recipe, size = self.recipe, self.recipe.crop_size_px
        if self.defect_free and (not self.class_images or rng.random() < recipe.defect_free_fraction):
            index = self.defect_free[int(rng.integers(len(self.defect_free)))]
            points = self.hard_negatives.get(index)
            centre = None
            if points is not None and len(points) and rng.random() < HARD_NEGATIVE_SHARE:
                centre = points[int(rng.integers(len(points)))]
            image, mask = _crop_at(self.samples[index], size, centre, rng, jitter=recipe.defect_centre_jitter)
            if self.regions and rng.random() < recipe.augmentation.copy_paste_probability:
                regions = self.regions[int(rng.integers(len(self.regions)))]
                image, mask = copy_paste(image, mask, regions[int(rng.integers(len(regions)))], rng)
        else:
            images = self.class_images[int(rng.choice(len(self.class_images), p=self.class_weights))]
            sample = self.samples[images[int(rng.integers(len(images)))]]
            centre = None
            if rng.random() < recipe.defect_centred_fraction:
                rows, columns = np.nonzero(sample.mask)
                pick = int(rng.integers(len(rows)))
                centre = np.array([rows[pick], columns[pick]])
            image, mask = _crop_at(sample, size, centre, rng, jitter=recipe.defect_centre_jitter)
        return augment(self.pipeline, image, mask, rng)


def _crop_at(
    sample: Sample, size: int, centre: np.ndarray | None, rng: np.random.Generator, *, jitter: float
) -> tuple[np.ndarray, np.ndarray]:
    """A size x size crop around `centre` (shifted by up to jitter x size), or anywhere when None. Images smaller
    than the crop are reflected out to it, as inference pads them."""
    image, mask = sample.image, sample.mask
    pad_rows, pad_columns = max(size - image.shape[0], 0), max(size - image.shape[1], 0)
    if pad_rows or pad_columns:
        top, left = pad_rows // 2, pad_columns // 2
        borders = (top, pad_rows - top, left, pad_columns - left)
        image = cv2.copyMakeBorder(image, *borders, cv2.BORDER_REFLECT_101)
        mask = cv2.copyMakeBorder(mask, *borders, cv2.BORDER_REFLECT_101)
        if centre is not None:
            centre = centre + np.array([top, left])
    height, width = image.shape
    if centre is None:
        y0, x0 = int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
    else:
        shift = rng.uniform(-jitter, jitter, size=2) * size
        y0 = int(np.clip(round(centre[0] + shift[0] - size / 2), 0, height - size))
        x0 = int(np.clip(round(centre[1] + shift[1] - size / 2), 0, width - size))
    return image[y0 : y0 + size, x0 : x0 + size].copy(), mask[y0 : y0 + size, x0 : x0 + size].copy()
