"""The training loss: class-weighted cross-entropy (or focal loss) + soft Dice over the defect classes, plus the
image-level head's binary cross-entropy when the recipe has one."""

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from assist.training.recipe import Recipe
from assist.training.samples import Sample

DICE_SMOOTHING = 1.0  # px: keeps the Dice of a class absent from both prediction and batch near 1, not 0/0


def class_weights_from(samples: Sequence[Sample], class_count: int, recipe: Recipe) -> torch.Tensor:
    """CE weight per class (background first): (pixel frequency)^-power over the training masks, scaled so that
    background weighs 1, capped at `class_weight_max`. Classes without pixels get the cap."""
    counts = np.zeros(class_count, dtype=np.float64)
    for sample in samples:
        counts += np.bincount(sample.mask.ravel(), minlength=class_count)[:class_count]
    frequency = counts / max(counts.sum(), 1.0)
    with np.errstate(divide="ignore"):
        weights = np.where(frequency > 0, frequency**-recipe.class_weight_power, np.inf)
    weights = weights / weights[0] if np.isfinite(weights[0]) else np.ones(class_count)
    return torch.tensor(np.minimum(weights, recipe.class_weight_max), dtype=torch.float32)


def segmentation_loss(
    logits: torch.Tensor, masks: torch.Tensor, class_weights: torch.Tensor, recipe: Recipe
) -> torch.Tensor:
    """logits (N, C, H, W) float; masks (N, H, W) long class indices."""
    logits = logits.float()
    if recipe.focal_gamma > 0:
        log_probabilities = F.log_softmax(logits, dim=1)
        picked = log_probabilities.gather(1, masks.unsqueeze(1)).squeeze(1)
        focal = (1 - picked.exp()) ** recipe.focal_gamma
        pixel_weights = class_weights[masks]
        classification = -(focal * picked * pixel_weights).sum() / pixel_weights.sum()
    else:
        classification = F.cross_entropy(logits, masks, weight=class_weights)
    if recipe.dice_weight == 0:
        return classification
    probabilities = F.softmax(logits, dim=1)[:, 1:]
    targets = F.one_hot(masks, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].float()
    # Batch Dice per defect class: one sum over the batch, so a crop without the class does not count as 0.
    intersection = (probabilities * targets).sum(dim=(0, 2, 3))
    total = probabilities.sum(dim=(0, 2, 3)) + targets.sum(dim=(0, 2, 3))
    dice = (2 * intersection + DICE_SMOOTHING) / (total + DICE_SMOOTHING)
    if recipe.dice_classes == "all":
        return classification + recipe.dice_weight * (1 - dice).mean()
    present = targets.sum(dim=(0, 2, 3)) > 0
    if not present.any():
        return classification
    return classification + recipe.dice_weight * (1 - dice[present]).mean()


def image_head_loss(image_logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the image-level logit against "the crop holds defect pixels"."""
    has_defect = (masks > 0).flatten(1).any(dim=1).float()
    return F.binary_cross_entropy_with_logits(image_logits.squeeze(1).float(), has_defect)
