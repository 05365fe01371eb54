"""Training the interactive model, RITM-style (Sofiiuk et al. 2021, "Reviving Iterative Training with Mask
Guidance for Interactive Segmentation"):

1. a batch of examples (examples.py): crops with a box or a first click;
2. 0..max_click_iterations passes without gradients (the count drawn per batch, as RITM's trainer does): the
   model, in eval mode, predicts; its mask becomes the previous-mask channel, and the next click goes where the
   larger error is deepest (assist.engines.quality.next_click drawing among the deepest half), positive on a
   missed defect, negative on a false one;
3. one gradient step on the final prompt, with RITM's normalized focal loss (or BCE + soft Dice).

    result = interactive_train(samples_train, samples_val, recipe, checkpoint_dir=folder, on_progress=report)

Validation scores the model as the benchmark does (assist.engines.quality.engine_score through the same crop and
paste code the engine uses): box IoU and NoC@85 on the val split's regions; the best by box IoU + (1 - NoC@85 /
cap) is kept as best.pt. Checkpoints (assist.training.checkpoints: atomic) every `checkpoint_every_steps`:
last.pt resumes the run where it was; batches depend on (seed, step) only, so a `steps` budget on the CPU gives
the same weights in one go or stopped and resumed.
"""

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from assist.engines.base import EngineResult, Prompt
from assist.engines.quality import Region, engine_score, next_click, regions_from_mask
from assist.interactive.examples import Example, ExampleSampler
from assist.interactive.inference import CropGeometry, interactive_predict, torch_runner
from assist.interactive.network import InteractiveNet, encoder_parameters, network_build, non_encoder_parameters
from assist.interactive.recipe import InteractiveRecipe, recipe_check_resumable
from assist.interactive.window import prompt_channels
from assist.training.batchnorm import batch_norm_recompute, batch_norms
from assist.training.checkpoints import BEST_NAME, LAST_NAME, checkpoint_load, checkpoint_save
from assist.training.samples import Sample
from assist.training.train import learning_rate_factor

FOCAL_EPSILON = 1e-8
DICE_SMOOTHING = 1.0
BN_STEP_OFFSET = 1_000_000_000  # recalibration batches are drawn as these (fixed) steps
CLICK_RNG_STREAM = 1_000_003  # the click simulation's RNG stream, apart from the examples' (seed, step, index)


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int | None
    loss: float
    val_metrics: dict[str, Any] | None  # set on the call right after a validation
    elapsed_seconds: float


@dataclass(frozen=True)
class InteractiveTrainingResult:
    best_checkpoint: Path | None  # None when stopped before the first validation
    best_metrics: dict[str, Any]
    steps_done: int
    elapsed_seconds: float
    is_cancelled: bool
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _State:
    step: int = 0
    elapsed_seconds: float = 0.0
    best_score: float = -math.inf
    last_validation_seconds: float = 0.0
    validated_step: int = -1
    history: list[dict[str, Any]] = field(default_factory=list)


def interactive_train(
    samples_train: Sequence[Sample],
    samples_val: Sequence[Sample],
    recipe: InteractiveRecipe,
    *,
    checkpoint_dir: Path | str,
    device: torch.device | str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
    validation_regions: int | None = None,
    defect_classes: Sequence[str] | None = None,
) -> InteractiveTrainingResult:
    """Train on the regions of `samples_train`, validate on those of `samples_val` (the first
    `validation_regions` of them), keep the best. `should_stop` is polled before every step. `defect_classes`
    names the mask's class indices in the validation figures (default: the image id's folder)."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    previous_threads, previous_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    previous_cv2_threads = cv2.getNumThreads()
    torch.set_num_threads(recipe.torch_threads)
    cv2.setNumThreads(1)
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    try:
        regions = regions_for_validation(samples_val, defect_classes=defect_classes)[:validation_regions]
        return _train(
            samples_train, regions, recipe, Path(checkpoint_dir), device,
            on_progress or (lambda progress: None), should_stop or (lambda: False), resume,
        )  # fmt: skip
    finally:
        torch.set_num_threads(previous_threads)
        cv2.setNumThreads(previous_cv2_threads)
        torch.use_deterministic_algorithms(previous_deterministic)


def regions_for_validation(samples: Sequence[Sample], *, defect_classes: Sequence[str] | None = None) -> list[Region]:
    """Each 8-connected defect region of the samples, as the benchmark scores it (class = the image's largest)."""
    regions: list[Region] = []
    for sample in samples:
        if sample.is_defect_free or not sample.mask.any():
            continue
        class_index = sample.defect_class_indices[0]
        defect_class = defect_classes[class_index - 1] if defect_classes else sample.image_id.split("/")[0]
        regions += regions_from_mask(sample.image, sample.mask > 0, defect_class=defect_class, name=sample.image_id)
    return regions


def _train(
    samples_train: Sequence[Sample],
    regions_val: list[Region],
    recipe: InteractiveRecipe,
    checkpoint_dir: Path,
    device: torch.device,
    on_progress: Callable[[Progress], None],
    should_stop: Callable[[], bool],
    resume: bool,
) -> InteractiveTrainingResult:
    torch.manual_seed(recipe.seed)
    net = network_build(recipe).to(device)
    optimizer = torch.optim.AdamW(
        [
            {"params": encoder_parameters(net), "lr_factor": recipe.encoder_learning_rate_factor},
            {"params": non_encoder_parameters(net), "lr_factor": 1.0},
        ],
        lr=recipe.learning_rate,
        weight_decay=recipe.weight_decay,
    )
    state = _State()
    last_path, best_path = checkpoint_dir / LAST_NAME, checkpoint_dir / BEST_NAME
    if resume and last_path.exists():
        state = _restore(last_path, recipe, net, optimizer)
    sampler = ExampleSampler(samples_train, recipe)
    clock = time.process_time if recipe.budget_clock == "cpu" else time.monotonic
    started = clock() - state.elapsed_seconds

    def save_last() -> None:
        checkpoint_save(last_path, _snapshot(recipe, net, optimizer, state))

    def validate_now() -> None:
        validation_started = clock()
        bn_recalibrate(net, sampler, recipe, device)
        metrics = validate(net, recipe, regions_val, device=device)
        net.train()
        score = metrics["box_mean_iou"] + 1.0 - metrics["noc85"] / recipe.validation_max_clicks
        state.history.append({"step": state.step, "loss": loss_value, "score": score, **metrics})
        if score > state.best_score:
            state.best_score = score
            content = {"recipe": recipe.to_dict(), "model": net.state_dict(), "metrics": metrics, "score": score}
            checkpoint_save(best_path, content)
        state.validated_step = state.step
        state.last_validation_seconds = clock() - validation_started
        state.elapsed_seconds = clock() - started
        on_progress(Progress(state.step, _total_steps(recipe, state), loss_value, metrics, state.elapsed_seconds))

    loss_value = math.nan
    net.train()
    while not _budget_spent(recipe, state):
        if should_stop():
            state.elapsed_seconds = clock() - started
            save_last()
            return _result(state, best_path, is_cancelled=True)
        for group in optimizer.param_groups:
            group["lr"] = recipe.learning_rate * group["lr_factor"] * _schedule(recipe, _progress(recipe, state))
        examples = sampler.batch(state.step)
        loss_value = _step(
            net, optimizer, examples, recipe, device, np.random.default_rng([recipe.seed, state.step, CLICK_RNG_STREAM])
        )
        state.step += 1
        state.elapsed_seconds = clock() - started
        on_progress(Progress(state.step, _total_steps(recipe, state), loss_value, None, state.elapsed_seconds))
        if state.step % recipe.validate_every_steps == 0 and regions_val:
            validate_now()
        if state.step % recipe.checkpoint_every_steps == 0:
            save_last()
    if regions_val and state.validated_step != state.step:
        validate_now()
    save_last()
    return _result(state, best_path, is_cancelled=False)


def bn_recalibrate(
    net: InteractiveNet, sampler: ExampleSampler, recipe: InteractiveRecipe, device: torch.device
) -> None:
    """Precise BatchNorm (assist.training.batchnorm) over `bn_recalibration_batches` fixed training batches."""

    def forward(batch: int) -> None:
        examples = sampler.batch(BN_STEP_OFFSET + batch)
        prompts = batch_prompts(examples, recipe, [e.positive for e in examples], [e.negative for e in examples], None)
        net(_grey_tensor(examples, device), prompts.to(device))

    batch_norm_recompute(net, forward, recipe.bn_recalibration_batches)


def batch_prompts(
    examples: Sequence[Example],
    recipe: InteractiveRecipe,
    positive: Sequence[Sequence[tuple[float, float]]],
    negative: Sequence[Sequence[tuple[float, float]]],
    previous: np.ndarray | None,
) -> torch.Tensor:
    return torch.from_numpy(
        np.stack(
            [
                prompt_channels(
                    size=recipe.crop_size_px,
                    radius=recipe.click_radius_px,
                    box_map=example.box_map,
                    positive=positive[index],
                    negative=negative[index],
                    previous=None if previous is None else previous[index],
                )  # fmt: skip
                for index, example in enumerate(examples)
            ]
        )
    )


def simulate_clicks(
    net: InteractiveNet,
    examples: Sequence[Example],
    recipe: InteractiveRecipe,
    device: torch.device,
    rng: np.random.Generator,
    iterations: int,
) -> tuple[list[list[tuple[float, float]]], list[list[tuple[float, float]]], np.ndarray | None]:
    """RITM's no-grad passes: each adds, per example, a click on the larger error of the model's own mask and
    makes that mask the previous one. Returns (positive clicks, negative clicks, previous masks or None).

    Unlike RITM (eval mode), the passes normalise with the batch's own statistics, as the gradient pass does: with
    batches of 8 mixed crops the running statistics lag so far that eval-mode masks were much worse (on training
    crops at step 650, IoU 0.00-0.59 where batch statistics gave 0.55-0.77), so the simulated corrections would
    answer masks the model does not make."""
    positive = [list(example.positive) for example in examples]
    negative = [list(example.negative) for example in examples]
    previous: np.ndarray | None = None
    if iterations == 0:
        return positive, negative, previous
    grey = _grey_tensor(examples, device)
    norms = batch_norms(net)
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0  # batch statistics for the pass, running statistics left as they are
    with torch.no_grad():
        for _ in range(iterations):
            prompts = batch_prompts(examples, recipe, positive, negative, previous).to(device)
            previous = (torch.sigmoid(net(grey, prompts))[:, 0] >= 0.5).cpu().numpy()
            for index, example in enumerate(examples):
                try:
                    point, is_positive = next_click(example.target, previous[index], rng=rng)
                except ValueError:  # already perfect: nothing to correct
                    continue
                (positive if is_positive else negative)[index].append(point)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    return positive, negative, previous


def _grey_tensor(examples: Sequence[Example], device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.stack([example.grey for example in examples]).astype(np.float32))[:, None].to(device)


def _step(
    net: InteractiveNet,
    optimizer: torch.optim.Optimizer,
    examples: list[Example],
    recipe: InteractiveRecipe,
    device: torch.device,
    rng: np.random.Generator,
) -> float:
    iterations = int(rng.integers(0, recipe.max_click_iterations + 1))
    positive, negative, previous = simulate_clicks(net, examples, recipe, device, rng, iterations)
    prompts = batch_prompts(examples, recipe, positive, negative, previous).to(device)
    targets = torch.from_numpy(np.stack([example.target for example in examples]).astype(np.float32))[:, None]
    logits = net(_grey_tensor(examples, device), prompts)
    loss = interactive_loss(logits, targets.to(device), recipe)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def interactive_loss(logits: torch.Tensor, targets: torch.Tensor, recipe: InteractiveRecipe) -> torch.Tensor:
    """logits, targets (N, 1, H, W). "normalized-focal": RITM's NormalizedFocalLossSigmoid (the focal weights of
    each image rescaled to sum to its pixel count, the scale not back-propagated); "bce-dice": BCE + soft Dice."""
    logits = logits.float()
    if recipe.loss == "bce-dice":
        probabilities = torch.sigmoid(logits)
        intersection = (probabilities * targets).sum(dim=(1, 2, 3))
        total = probabilities.sum(dim=(1, 2, 3)) + targets.sum(dim=(1, 2, 3))
        dice = (2 * intersection + DICE_SMOOTHING) / (total + DICE_SMOOTHING)
        return F.binary_cross_entropy_with_logits(logits, targets) + (1 - dice).mean()
    probabilities = torch.sigmoid(logits)
    is_defect = targets > 0.5
    correct = torch.where(is_defect, probabilities, 1 - probabilities)
    alpha = torch.where(is_defect, recipe.focal_alpha, 1 - recipe.focal_alpha)
    beta = (1 - correct) ** recipe.focal_gamma
    pixels = targets[0].numel()
    scale = (pixels / (beta.sum(dim=(1, 2, 3), keepdim=True) + FOCAL_EPSILON)).detach()
    loss = -alpha * beta * scale * torch.log(torch.clamp(correct + FOCAL_EPSILON, max=1.0))
    return loss.sum(dim=(1, 2, 3)).div(pixels).mean()


class _TorchEngine:
    """The PyTorch network behind the engine interface, cropping as the deployed engine does."""

    def __init__(self, net: InteractiveNet, recipe: InteractiveRecipe, device: torch.device) -> None:
        self.run = torch_runner(net, device)
        self.geometry = CropGeometry.of(recipe)

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        output = interactive_predict(self.run, self.geometry, image, prompt)
        return EngineResult(output.mask, output.offset, image.shape, output.score, "interactive")


def validate(
    net: InteractiveNet, recipe: InteractiveRecipe, regions: list[Region], *, device: torch.device
) -> dict[str, Any]:
    """The benchmark's scores on `regions` (NoC capped at the recipe's validation_max_clicks)."""
    return engine_score(
        "interactive", _TorchEngine(net, recipe, device), regions, max_clicks=recipe.validation_max_clicks
    )


def _progress(recipe: InteractiveRecipe, state: _State) -> float:
    by_time = state.elapsed_seconds / recipe.budget_seconds if recipe.budget_seconds else 0.0
    by_steps = state.step / recipe.steps if recipe.steps else 0.0
    return min(max(by_time, by_steps), 1.0)


def _schedule(recipe: InteractiveRecipe, progress: float) -> float:
    return learning_rate_factor(progress, warmup_fraction=recipe.warmup_fraction)


def _budget_spent(recipe: InteractiveRecipe, state: _State) -> bool:
    if recipe.steps is not None and state.step >= recipe.steps:
        return True
    if recipe.budget_seconds is None:
        return False
    # Leave room for the final validation, so the whole run fits the budget.
    return state.elapsed_seconds + state.last_validation_seconds >= recipe.budget_seconds


def _total_steps(recipe: InteractiveRecipe, state: _State) -> int | None:
    totals = [recipe.steps] if recipe.steps is not None else []
    if recipe.budget_seconds is not None and state.step:
        totals.append(int(recipe.budget_seconds / (state.elapsed_seconds / state.step)))
    return min(totals) if totals else None


def _snapshot(
    recipe: InteractiveRecipe, net: InteractiveNet, optimizer: torch.optim.Optimizer, state: _State
) -> dict[str, Any]:
    return {
        "recipe": recipe.to_dict(),
        "model": net.state_dict(),
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "state": {name: getattr(state, name) for name in _State.__dataclass_fields__},
    }


def _restore(path: Path, recipe: InteractiveRecipe, net: InteractiveNet, optimizer: torch.optim.Optimizer) -> _State:
    content = checkpoint_load(path)
    recipe_check_resumable(InteractiveRecipe.from_dict(content["recipe"]), recipe)
    net.load_state_dict(content["model"])
    optimizer.load_state_dict(content["optimizer"])
    torch.set_rng_state(content["torch_rng"])
    return _State(**content["state"])


def _result(state: _State, best_path: Path, *, is_cancelled: bool) -> InteractiveTrainingResult:
    best = checkpoint_load(best_path) if best_path.exists() else None
    return InteractiveTrainingResult(
        best_checkpoint=best_path if best else None,
        best_metrics=best["metrics"] if best else {},
        steps_done=state.step,
        elapsed_seconds=state.elapsed_seconds,
        is_cancelled=is_cancelled,
        history=state.history,
    )


def network_from_checkpoint(path: Path | str) -> tuple[InteractiveNet, InteractiveRecipe, dict[str, Any]]:
    """(network in eval mode, recipe, validation metrics) of a best.pt or last.pt."""
    content = checkpoint_load(Path(path))
    recipe = InteractiveRecipe.from_dict(content["recipe"])
    net = network_build(recipe, pretrained=False)  # the weights come from the checkpoint, not the wheel
    net.load_state_dict(content["model"])
    return net.eval(), recipe, content.get("metrics", {})
