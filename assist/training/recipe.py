"""A training recipe: every choice that changes the model a run produces, in one frozen dataclass, and the named
recipes the bench and the job pick from. Pure: no torch import, so the Django side can show and store recipes.

Why the defaults (measured on the magnetic-tile val split; the runs are in docs/training-recipes.md):
- native resolution and crops centred on defects: cracks are 2-4 px wide and vanish when a tile is shrunk;
- defect-free crops and class-balanced sampling: without them clean grinding texture is predicted as "uneven";
- a small decoder: the decoder is trained from scratch anyway, and on 2 shared cores steps per minute matter most
  (a decoder four times as wide learnt no faster per CPU minute and made inference 70 % slower);
- an image-level head: at the same false-alarm rate on clean tiles it kept far more defective tiles flagged;
- many small crops (16 x 128², nearly all on a defect), rare classes weighted up, and the encoder's stem and first
  three blocks frozen at their ImageNet weights: the first two were ahead of the older default at every validation,
  the freeze is 28 % cheaper a step and learnt faster per step still.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Architecture = Literal["unet-lite0", "unet-scratch"]
"unet-lite0: U-Net on an ImageNet-pretrained EfficientNet-Lite0 encoder; unet-scratch: the same, randomly initialised."
Schedule = Literal["cosine", "constant"]
DiceClasses = Literal["present", "all"]
"""all: the Dice term averages every defect class; an absent class's Dice is smoothing / (predicted mass +
smoothing), so its term pushes that class towards zero everywhere, which holds false alarms down (measured:
docs/training-recipes.md). present: only the classes with pixels in the batch (smp's DiceLoss convention)."""
BudgetClock = Literal["wall", "cpu"]
"""wall: elapsed time; cpu: this process's CPU time (a fair budget on a shared machine, where waiting for a core
does not count)."""


@dataclass(frozen=True)
class Augmentation:
    """Albumentations settings, applied to each training crop (probabilities are per crop)."""

    flip_probability: float = 0.5  # each of horizontal and vertical: tiles have no up or left
    rotate90_probability: float = 0.5  # the grinding streaks turn too; the model should not rely on their direction
    rotate_degrees: float = 10.0  # small free rotations, reflected borders
    scale_range: tuple[float, float] = (0.85, 1.2)  # zoom: defect sizes vary between tiles and cameras
    affine_probability: float = 0.5
    brightness_limit: float = 0.25  # fraction of full scale: lighting varies between stations
    contrast_limit: float = 0.25
    gamma_limit: tuple[int, int] = (70, 140)  # percent
    lighting_probability: float = 0.8
    blur_probability: float = 0.15  # focus
    blur_sigma_px: tuple[float, float] = (0.3, 1.2)
    noise_probability: float = 0.2
    noise_std: tuple[float, float] = (0.01, 0.05)  # fraction of full scale
    elastic_probability: float = 0.1
    elastic_alpha_px: float = 20.0
    elastic_sigma_px: float = 6.0
    copy_paste_probability: float = 0.3  # per defect-free crop: paste one real defect region onto it


@dataclass(frozen=True)
class Recipe:
    """Everything a training run needs besides the samples. Budgets: the run stops at whichever of
    `budget_seconds` (wall clock, summed over resumes) and `epochs` comes first; give at least one. With a
    wall-clock budget the learning-rate schedule follows elapsed time, so the result depends on the machine's
    speed; only an epoch budget is bit-for-bit reproducible."""

    name: str = "unet-lite0"
    architecture: Architecture = "unet-lite0"
    decoder_channels: tuple[int, ...] = (64, 48, 32, 16, 16)  # from the 1/16 stage up to full resolution
    crop_size_px: int = 128  # square training crops at native resolution (a multiple of 32)
    batch_size: int = 16  # 16 x 128² costs a step what 8 x 192² did, with twice the defects in it
    budget_seconds: float | None = 900.0
    budget_clock: BudgetClock = "wall"
    epochs: int | None = None
    steps_per_epoch: int = 40  # an "epoch" is a fixed number of sampled batches: crops are drawn, not enumerated
    validate_every_epochs: int = 2  # validation costs ~10 s of CPU; the last epoch is always validated

    learning_rate: float = 2e-3  # AdamW, decoder and head
    encoder_learning_rate_factor: float = 0.5  # the pretrained encoder moves more slowly
    encoder_frozen_blocks: int = 3  # the stem and this many first encoder blocks keep their ImageNet weights and
    # BatchNorm statistics (generic edge filters): no backward through them, 3 blocks cut a step by 28 %
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05  # of the budget: linear warm-up, then the schedule
    schedule: Schedule = "cosine"
    ema_decay: float | None = 0.99  # exponential moving average of weights, evaluated and exported instead
    bn_recalibration_batches: int = 0  # before each validation: BatchNorm statistics from scratch (0: off)

    dice_weight: float = 1.0  # loss = weighted CE (or focal) + dice_weight x soft Dice over defect classes
    dice_classes: DiceClasses = "all"  # "present" raised the defect-free tiles' scores (round 2 of the notebook)
    focal_gamma: float = 0.0  # 0: plain cross-entropy
    class_weight_power: float = 0.5  # CE class weight = (pixel frequency)^-power, normalised; 0: unweighted
    class_weight_max: float = 30.0  # cap: a rare class must not swamp the background

    defect_centred_fraction: float = 0.9  # crops of defect images centred on a defect pixel (else anywhere)
    defect_centre_jitter: float = 0.35  # of the crop size: the defect is not always in the middle
    defect_free_fraction: float = 0.3  # crops drawn from defect-free images (clean texture is the hard negative)
    class_balance_power: float = 0.0  # defect class weights = (images per class)^power: 0 uniform, 1 natural
    augmentation: Augmentation = field(default_factory=Augmentation)
    hard_negative_every_epochs: int = 2  # 0: off; else look for false defects on the defect-free training images
    # (OHEM-style: later defect-free crops are centred on them; with the image head it beat the head alone, notebook)
    hard_negative_probability: float = 0.5  # defect probability that marks a clean pixel as a hard negative
    hard_negative_points_per_image: int = 64

    image_head: bool = True  # an image-level defect/no-defect head on the encoder, trained with the masks: its
    # probability multiplies the region scores, so confident texture regions on clean tiles score lower (notebook)
    image_head_weight: float = 0.2
    flip_test_time: bool = False  # average the prediction of the image and its horizontal flip
    false_alarm_target: float = 0.05  # image-level rule: defect-free val images flagged at most this often
    seed: int = 0
    torch_threads: int = 0  # 0: training_threads() picks; on a busy 2-core machine two OpenMP threads spin against
    # each other (7x slower), on an idle one two threads took 1.03 s per step against 1.71 s for one
    bf16_autocast: bool = False

    def __post_init__(self) -> None:
        if self.budget_seconds is None and self.epochs is None:
            raise ValueError("a recipe needs budget_seconds, epochs or both")
        if self.crop_size_px % 32:
            raise ValueError(f"crop_size_px must be a multiple of 32, not {self.crop_size_px}")

    def with_changes(self, **changes: Any) -> "Recipe":
        """A copy with some fields changed; "augmentation.x" keys change the augmentation."""
        augmentation_changes = {
            key.split(".", 1)[1]: value for key, value in changes.items() if key.startswith("augmentation.")
        }
        changes = {key: value for key, value in changes.items() if not key.startswith("augmentation.")}
        if augmentation_changes:
            changes["augmentation"] = dataclasses.replace(self.augmentation, **augmentation_changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Recipe":
        values = dict(values)
        augmentation = Augmentation(**_tuples(values.pop("augmentation", {})))
        return cls(augmentation=augmentation, **_tuples(values))


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    """JSON turns tuples into lists; the dataclasses are frozen and compared, so turn them back."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}


RECIPES: dict[str, Recipe] = {
    "unet-lite0": Recipe(),
    "unet-scratch": Recipe(
        name="unet-scratch", architecture="unet-scratch", encoder_learning_rate_factor=1.0, encoder_frozen_blocks=0
    ),
}
"The named recipes; the first is the default."


def training_threads(recipe: Recipe, *, cores: int, busy_cores: Callable[[], float]) -> int:
    """PyTorch threads for a run: the recipe's own number, or with 0: one where the run must be reproducible (an
    epoch budget) or counts CPU time (a shared machine), else the cores this process may use that are idle now
    (`busy_cores()`: how many others keep busy, asked only then), at least one."""
    if recipe.torch_threads > 0:
        return recipe.torch_threads
    if recipe.budget_seconds is None or recipe.budget_clock == "cpu":
        return 1
    return max(1, cores - round(busy_cores()))


def recipe_get(name: str) -> Recipe:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    return RECIPES[name]
