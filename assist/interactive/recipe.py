"""The interactive recipe: every choice that changes the click-and-box model a run produces. Pure: no torch.

Why the defaults (docs/interactive-model.md has the variants measured on the val split):
- 128 px crops around the prompt, resampled: blowholes (12 px) are enlarged, fray and uneven patches (up to
  600 px) shrunk; the crop's geometry is stored with the model, so the engine crops exactly as training did;
- RITM's iterative training (Sofiiuk et al. 2021): up to `max_click_iterations` no-grad passes where the model's
  own mask gives the next click and the previous-mask channel, so it learns to use corrections;
- RITM's normalized focal loss: thin cracks and small pores are not drowned by easy background pixels.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

BudgetClock = Literal["wall", "cpu"]
Loss = Literal["normalized-focal", "bce-dice"]


@dataclass(frozen=True)
class InteractiveRecipe:
    """The run stops at whichever of `budget_seconds` (on `budget_clock`, summed over resumes) and `steps`
    comes first. Only a `steps` budget is bit-for-bit reproducible: the schedule follows the clock otherwise."""

    name: str = "interactive"
    decoder_channels: tuple[int, ...] = (64, 48, 32, 16, 16)
    crop_size_px: int = 128  # the network's square input (a multiple of 32)
    crop_context: float = 0.4  # the crop adds this share of the prompt's extent on each side
    min_window_px: float = 48.0  # smallest image square a crop covers (a 12 px pore still shows its surroundings)
    click_radius_px: float = 3.0  # click disks, in crop px (RITM: 5 px at 320-480 px crops)
    pretrained: bool = True  # ImageNet Lite0 encoder from the wheel; False: random (tests that need no wheel)

    batch_size: int = 8
    budget_seconds: float | None = 900.0
    budget_clock: BudgetClock = "cpu"
    steps: int | None = None
    validate_every_steps: int = 400  # and at the end; validation time counts against the budget
    validation_max_clicks: int = 10  # NoC on val is capped here (the report caps at 20): cheaper, same ranking
    checkpoint_every_steps: int = 50
    bn_recalibration_batches: int = 25  # before each validation: BatchNorm statistics from scratch (0: off)

    learning_rate: float = 1e-3  # AdamW, decoder and the new input channels
    encoder_learning_rate_factor: float = 0.5  # the pretrained encoder moves more slowly
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    loss: Loss = "normalized-focal"
    focal_alpha: float = 0.5
    focal_gamma: float = 2.0

    box_prompt_share: float = 0.5  # examples prompted by a (jittered) box; the rest by a first click alone
    box_jitter: tuple[float, float] = (-0.05, 0.2)  # each side moves out by this share of the box's extent
    defect_free_share: float = 0.05  # boxes on defect-free images: the target is empty, corrections negative
    class_balance_power: float = 0.5  # region weight = (regions of its class)^(power - 1): 1 natural, 0 uniform
    max_click_iterations: int = 3  # RITM: 0..this many no-grad passes, each adding the next click
    flip_probability: float = 0.5
    rotate90_probability: float = 0.5
    lighting_probability: float = 0.8  # gamma, contrast, brightness
    noise_probability: float = 0.2

    seed: int = 0
    torch_threads: int = 1  # on a shared 2-core machine two OpenMP threads spin against each other

    def __post_init__(self) -> None:
        if self.budget_seconds is None and self.steps is None:
            raise ValueError("a recipe needs budget_seconds, steps or both")
        if self.crop_size_px % 32:
            raise ValueError(f"crop_size_px must be a multiple of 32, not {self.crop_size_px}")

    def with_changes(self, **changes: Any) -> "InteractiveRecipe":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "InteractiveRecipe":
        # JSON turns tuples into lists; the dataclass is frozen and compared, so turn them back.
        fields: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in values.items()
        }
        return cls(**fields)


BUDGET_FIELDS = frozenset({"budget_seconds", "budget_clock", "steps", "validate_every_steps", "checkpoint_every_steps"})
"Fields a resumed run may change: extending the budget is how a finished run is continued."


def recipe_check_resumable(saved: InteractiveRecipe, current: InteractiveRecipe) -> None:
    saved_values, current_values = saved.to_dict(), current.to_dict()
    changed = sorted(
        name for name in saved_values if name not in BUDGET_FIELDS and saved_values[name] != current_values[name]
    )
    if changed:
        raise ValueError(f"cannot resume with a different recipe (changed: {', '.join(changed)})")
