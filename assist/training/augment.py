"""Training-crop augmentation: the albumentations pipeline a recipe asks for, and copy-paste of real defect regions
onto defect-free crops. Pure numpy/cv2; every random choice comes from the numpy Generator passed in, so a batch
is a function of (seed, epoch, step) alone.
"""

from dataclasses import dataclass

import albumentations as A  # type: ignore[import-untyped]  # no stubs published
import cv2
import numpy as np

from assist.training.recipe import Augmentation

COPY_PASTE_FEATHER_PX = 2  # the pasted region's edge is blended over this width, so no sharp seam is learnt
COPY_PASTE_MARGIN_PX = 3  # pasted pixels reach this far beyond the labelled region (its visible rim)
COPY_PASTE_MAX_SIDE_FRACTION = 0.6  # regions wider or taller than this share of the crop are not pasted


def augmentation_pipeline(settings: Augmentation) -> A.Compose:
    """Geometry (flips, 90° turns, small affine, elastic) then photometry (lighting, gamma, blur, noise).
    Borders are reflected for image and mask alike, so the labels follow the pixels."""
    reflect = cv2.BORDER_REFLECT_101
    return A.Compose(
        [
            A.HorizontalFlip(p=settings.flip_probability),
            A.VerticalFlip(p=settings.flip_probability),
            A.RandomRotate90(p=settings.rotate90_probability),
            A.Affine(
                scale=settings.scale_range,
                rotate=(-settings.rotate_degrees, settings.rotate_degrees),
                border_mode=reflect,
                p=settings.affine_probability,
            ),
            A.ElasticTransform(
                alpha=settings.elastic_alpha_px,
                sigma=settings.elastic_sigma_px,
                border_mode=reflect,
                p=settings.elastic_probability,
            ),
            A.OneOf(
                [
                    A.RandomBrightnessContrast(
                        brightness_limit=settings.brightness_limit, contrast_limit=settings.contrast_limit, p=1.0
                    ),
                    A.RandomGamma(gamma_limit=settings.gamma_limit, p=1.0),
                ],
                p=settings.lighting_probability,
            ),
            A.GaussianBlur(sigma_limit=settings.blur_sigma_px, p=settings.blur_probability),
            A.GaussNoise(std_range=settings.noise_std, p=settings.noise_probability),
        ],
        seed=0,  # reseeded per crop from the batch generator
    )


def augment(
    pipeline: A.Compose, image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    pipeline.set_random_seed(int(rng.integers(2**31 - 1)))
    out = pipeline(image=image, mask=mask)
    return out["image"], out["mask"]


@dataclass(frozen=True)
class DefectRegion:
    """A labelled defect cut from a training image, ready to paste: its pixels and its mask, bounding-box sized."""

    image: np.ndarray  # uint8 (h, w)
    region: np.ndarray  # bool (h, w): the labelled pixels
    class_index: int  # 1..K
    background_level: float  # mean grey of the unlabelled pixels around it: pasting matches this level


def defect_regions_cut(image: np.ndarray, mask: np.ndarray, crop_size_px: int) -> list[DefectRegion]:
    """Every connected defect region of one image that is small enough to paste into a crop."""
    regions: list[DefectRegion] = []
    max_side_px = int(crop_size_px * COPY_PASTE_MAX_SIDE_FRACTION)
    for class_index in np.unique(mask):
        if class_index == 0:
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (mask == class_index).astype(np.uint8), connectivity=8
        )
        for label in range(1, count):
            x, y, width, height, _ = stats[label]
            if max(width, height) + 2 * COPY_PASTE_MARGIN_PX > max_side_px:
                continue
            x0, y0 = max(x - COPY_PASTE_MARGIN_PX, 0), max(y - COPY_PASTE_MARGIN_PX, 0)
            x1 = min(x + width + COPY_PASTE_MARGIN_PX, image.shape[1])
            y1 = min(y + height + COPY_PASTE_MARGIN_PX, image.shape[0])
            region = labels[y0:y1, x0:x1] == label
            patch = image[y0:y1, x0:x1]
            around = patch[~region]
            regions.append(
                DefectRegion(
                    image=patch.copy(),
                    region=region,
                    class_index=int(class_index),
                    background_level=float(around.mean()) if around.size else float(patch.mean()),
                )
            )
    return regions


def copy_paste(
    image: np.ndarray, mask: np.ndarray, region: DefectRegion, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`region` pasted at a random place of the crop (randomly flipped), its grey level shifted to the crop's
    local level and its rim feathered; the mask gets the region's labelled pixels."""
    patch, labelled = region.image.astype(np.float32), region.region
    if rng.random() < 0.5:
        patch, labelled = patch[:, ::-1], labelled[:, ::-1]
    if rng.random() < 0.5:
        patch, labelled = patch[::-1], labelled[::-1]
    height, width = labelled.shape
    if height > image.shape[0] or width > image.shape[1]:
        return image, mask
    y = int(rng.integers(0, image.shape[0] - height + 1))
    x = int(rng.integers(0, image.shape[1] - width + 1))
    target = image[y : y + height, x : x + width].astype(np.float32)
    shifted = patch - region.background_level + target.mean()
    # Alpha 1 on the region and its margin, fading out over the feather width: the defect's rim comes along.
    reach = cv2.dilate(labelled.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=COPY_PASTE_MARGIN_PX)
    alpha = cv2.GaussianBlur(reach.astype(np.float32), (0, 0), sigmaX=COPY_PASTE_FEATHER_PX)
    alpha = np.maximum(alpha, labelled.astype(np.float32))
    pasted_image, pasted_mask = image.copy(), mask.copy()
    pasted_image[y : y + height, x : x + width] = np.clip(alpha * shifted + (1 - alpha) * target, 0, 255).astype(
        np.uint8
    )
    pasted_mask[y : y + height, x : x + width][labelled] = region.class_index
    return pasted_image, pasted_mask
