"""The training loop: batches from CropSampler, AdamW with warm-up and a cosine schedule, an EMA of the weights,
validation with the image-level decision calibrated on the validation split, a checkpoint per epoch (resumable,
written atomically) and the best weights by validation score.

    result = train(samples_train, samples_val, recipe, defect_classes=names, checkpoint_dir=folder,
                   on_progress=report, should_stop=lambda: job.is_cancelled)

Reproducible: with an epoch budget on the CPU, the same samples, recipe and seed give bit-identical weights,
whether the run went through in one go or was stopped and resumed (batches depend on (seed, epoch, step) only;
the torch RNG is checkpointed). A wall-clock budget makes the schedule follow elapsed time instead.
"""

import copy
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assist.training.batchnorm import batch_norm_recompute
from assist.training.checkpoints import (
    BEST_NAME,
    LAST_NAME,
    checkpoint_load,
    checkpoint_save,
    recipe_check_resumable,
)
from assist.training.crops import CropSampler
from assist.training.decision import DefectDecision, min_area_px_from_samples
from assist.training.inference import hard_negative_points, validate
from assist.training.losses import class_weights_from, image_head_loss, segmentation_loss
from assist.training.model import (
    SegmentationNet,
    encoder_parameters,
    images_to_input,
    model_build,
    non_encoder_parameters,
)
from assist.training.recipe import Recipe, training_threads
from assist.training.samples import Sample

EMA_WARMUP_STEPS = 10  # EMA decay = min(ema_decay, (1 + step) / (this + step)): 0.1 at first, 0.92 at step 100
BN_EPOCH = 1_000_000_000  # precise-BatchNorm batches are drawn as this (fixed) epoch
BUSY_WINDOW_SECONDS = 1.0  # how long a run looks at the machine before it picks its threads
DETECTION_WEIGHT = 1.0  # validation score = mean defect IoU + this x detection rate (false alarms fixed by calibration)


@dataclass(frozen=True)
class Progress:
    """What `on_progress` receives after every step and every validation."""

    epoch: int  # 0-based epoch the step belongs to
    step: int  # steps done in the whole run
    total_steps: int | None  # known with an epoch budget; estimated from speed with a wall-clock budget
    loss: float  # of the last step
    val_metrics: dict[str, Any] | None  # set on the call right after a validation
    eta_seconds: float | None
    elapsed_seconds: float


@dataclass(frozen=True)
class TrainingResult:
    best_checkpoint: Path | None  # None when cancelled before the first validation
    best_metrics: dict[str, Any]
    decision: DefectDecision | None
    epochs_done: int
    steps_done: int
    elapsed_seconds: float
    is_cancelled: bool
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per validation


@dataclass
class _State:
    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    elapsed_seconds: float = 0.0
    best_score: float = -math.inf
    last_validation_seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    hard_negatives: dict[int, np.ndarray] = field(default_factory=dict)


def train(
    samples_train: Sequence[Sample],
    samples_val: Sequence[Sample],
    recipe: Recipe,
    *,
    defect_classes: Sequence[str],
    checkpoint_dir: Path | str,
    device: torch.device | str | None = None,
    min_area_px: Sequence[float] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
) -> TrainingResult:
    """Train `recipe` on `samples_train`, validate on `samples_val`, keep the best. `min_area_px`: per defect class
    (the project's minimum sizes); None derives them from the training masks. `should_stop` is polled before every
    step: a cancelled run saves where it is, so `resume=True` later carries on from that step."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    checkpoint_dir = Path(checkpoint_dir)
    defect_classes = list(defect_classes)
    min_area_px = (
        tuple(min_area_px) if min_area_px is not None else min_area_px_from_samples(samples_train, len(defect_classes))
    )
    previous_threads, previous_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(training_threads_now(recipe))
    # CUDA upsampling has no deterministic backward: there, warn instead of failing.
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    try:
        return _train(
            samples_train, samples_val, recipe, defect_classes, checkpoint_dir, device, min_area_px,
            on_progress or (lambda progress: None), should_stop or (lambda: False), resume,
        )  # fmt: skip
    finally:
        torch.set_num_threads(previous_threads)
        torch.use_deterministic_algorithms(previous_deterministic)


def training_threads_now(recipe: Recipe) -> int:
    """training_threads on this machine, now."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return training_threads(recipe, cores=cores, busy_cores=_busy_cores)


def _busy_cores(window_seconds: float = BUSY_WINDOW_SECONDS) -> float:
    """Cores busy over the last moment (/proc/stat; this process sleeps meanwhile, so it is the others' work). Not
    the load average: that still counts this process's own work of the minute before (a version's ingest, say)."""
    try:
        before = _cpu_busy_seconds()
        time.sleep(window_seconds)
        return max(0.0, _cpu_busy_seconds() - before) / window_seconds
    except (OSError, ValueError, IndexError):  # no /proc: another system
        return os.getloadavg()[0]


def _cpu_busy_seconds() -> float:
    """Seconds all cores spent busy since boot: /proc/stat's first line less idle and iowait."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _train(
    samples_train: Sequence[Sample],
    samples_val: Sequence[Sample],
    recipe: Recipe,
    defect_classes: list[str],
    checkpoint_dir: Path,
    device: torch.device,
    min_area_px: tuple[float, ...],
    on_progress: Callable[[Progress], None],
    should_stop: Callable[[], bool],
    resume: bool,
) -> TrainingResult:
    torch.manual_seed(recipe.seed)
    net = model_build(recipe, len(defect_classes)).to(device).to(memory_format=torch.channels_last)
    ema = copy.deepcopy(net).eval() if recipe.ema_decay is not None else None
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
        state = _restore(last_path, recipe, net, ema, optimizer)
    sampler = CropSampler(samples_train, defect_classes, recipe)
    sampler.hard_negatives = state.hard_negatives
    class_weights = class_weights_from(samples_train, len(defect_classes) + 1, recipe).to(device)

    def save_last() -> None:
        checkpoint_save(last_path, _snapshot(recipe, defect_classes, net, ema, optimizer, state))

    clock = time.process_time if recipe.budget_clock == "cpu" else time.monotonic
    started = clock() - state.elapsed_seconds
    loss_value = math.nan
    is_finished = _budget_spent(recipe, state)
    while not is_finished:
        for step in range(state.step_in_epoch, recipe.steps_per_epoch):
            if should_stop():
                state.step_in_epoch, state.elapsed_seconds = step, clock() - started
                save_last()
                return _result(state, best_path, is_cancelled=True)
            for group in optimizer.param_groups:
                group["lr"] = recipe.learning_rate * group["lr_factor"] * _schedule(recipe, _progress(recipe, state))
            images, masks = sampler.batch(state.epoch, step)
            loss_value = _step(net, optimizer, images, masks, class_weights, recipe, device)
            if ema is not None:
                # Warm-up: early on the average would mostly hold the random initial decoder.
                decay = min(recipe.ema_decay or 0.0, (1 + state.global_step) / (EMA_WARMUP_STEPS + state.global_step))
                _ema_update(ema, net, decay)
            state.global_step += 1
            state.elapsed_seconds = clock() - started
            total = _total_steps(recipe, state)
            eta = None if total is None else (total - state.global_step) * state.elapsed_seconds / state.global_step
            on_progress(Progress(state.epoch, state.global_step, total, loss_value, None, eta, state.elapsed_seconds))
            if _budget_spent(recipe, state):
                break
        state.epoch, state.step_in_epoch = state.epoch + 1, 0
        is_finished = _budget_spent(recipe, state)
        if is_finished or state.epoch % recipe.validate_every_epochs == 0:
            validation_started = clock()
            _batch_norm_recompute(ema or net, sampler, recipe, device)
            metrics, decision = validate(
                ema or net, samples_val, defect_classes, min_area_px,
                false_alarm_target=recipe.false_alarm_target, flip=recipe.flip_test_time, device=device,
            )  # fmt: skip
            score = (metrics["mean_defect_iou"] or 0.0) + DETECTION_WEIGHT * (metrics["detection_rate"] or 0.0)
            row = {
                "epoch": state.epoch,
                "step": state.global_step,
                "loss": loss_value,
                "score": score,
                **_summary(metrics),
            }
            state.history.append(row)
            if score > state.best_score:
                state.best_score = score
                best = _snapshot(recipe, defect_classes, ema or net, None, None, state, weights_only=True)
                checkpoint_save(best_path, {**best, "metrics": metrics, "decision": decision.to_json(), "score": score})
            state.last_validation_seconds = clock() - validation_started
            state.elapsed_seconds = clock() - started
            on_progress(
                Progress(
                    state.epoch - 1,
                    state.global_step,
                    _total_steps(recipe, state),
                    loss_value,
                    metrics,
                    None,
                    state.elapsed_seconds,
                )
            )
        if (
            recipe.hard_negative_every_epochs
            and state.epoch % recipe.hard_negative_every_epochs == 0
            and not is_finished
        ):
            state.hard_negatives = hard_negative_points(
                ema or net, samples_train, device,
                probability_threshold=recipe.hard_negative_probability, limit=recipe.hard_negative_points_per_image,
            )  # fmt: skip
            sampler.hard_negatives = state.hard_negatives
            state.elapsed_seconds = clock() - started
        save_last()
        is_finished = is_finished or _budget_spent(recipe, state)
    return _result(state, best_path, is_cancelled=False)


def _step(
    net: SegmentationNet,
    optimizer: torch.optim.Optimizer,
    images: np.ndarray,
    masks: np.ndarray,
    class_weights: torch.Tensor,
    recipe: Recipe,
    device: torch.device,
) -> float:
    inputs = images_to_input(torch.from_numpy(images)).to(device).contiguous(memory_format=torch.channels_last)
    targets = torch.from_numpy(masks).long().to(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=_bf16_enabled(recipe, device)):
        mask_logits, image_logit = net(inputs)
    loss = segmentation_loss(mask_logits, targets, class_weights, recipe)
    if recipe.image_head:
        loss = loss + recipe.image_head_weight * image_head_loss(image_logit, targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def _bf16_enabled(recipe: Recipe, device: torch.device) -> bool:
    """bf16 autocast where the hardware has it: on a CPU without native bf16 (AVX512-BF16 / AMX) oneDNN emulates
    it, several times slower than float32, so such a CPU trains in float32."""
    if not recipe.bf16_autocast:
        return False
    return device.type != "cpu" or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _batch_norm_recompute(net: SegmentationNet, sampler: CropSampler, recipe: Recipe, device: torch.device) -> None:
    def forward(batch: int) -> None:
        images, _ = sampler.batch(BN_EPOCH, batch)
        net(images_to_input(torch.from_numpy(images)).to(device).contiguous(memory_format=torch.channels_last))

    batch_norm_recompute(net, forward, recipe.bn_recalibration_batches)


@torch.no_grad()
def _ema_update(ema: SegmentationNet, net: SegmentationNet, decay: float) -> None:
    for ema_value, value in zip(ema.state_dict().values(), net.state_dict().values(), strict=True):
        if ema_value.dtype.is_floating_point:
            ema_value.mul_(decay).add_(value, alpha=1 - decay)
        else:
            ema_value.copy_(value)


def _progress(recipe: Recipe, state: _State) -> float:
    """How far through the budget the run is, 0..1: the furthest of time and epochs."""
    by_time = state.elapsed_seconds / recipe.budget_seconds if recipe.budget_seconds else 0.0
    by_steps = state.global_step / (recipe.epochs * recipe.steps_per_epoch) if recipe.epochs else 0.0
    return min(max(by_time, by_steps), 1.0)


def learning_rate_factor(progress: float, *, warmup_fraction: float, schedule: str = "cosine") -> float:
    """Learning-rate factor at `progress` (0..1) through the budget: linear warm-up, then cosine to zero (or
    constant). Shared with the interactive model's training (assist/interactive/train.py)."""
    if progress < warmup_fraction:
        return (progress + 1e-3) / (warmup_fraction + 1e-3)
    if schedule == "constant":
        return 1.0
    remaining = (progress - warmup_fraction) / max(1.0 - warmup_fraction, 1e-9)
    return 0.5 * (1 + math.cos(math.pi * min(remaining, 1.0)))


def _schedule(recipe: Recipe, progress: float) -> float:
    return learning_rate_factor(progress, warmup_fraction=recipe.warmup_fraction, schedule=recipe.schedule)


def _budget_spent(recipe: Recipe, state: _State) -> bool:
    if recipe.epochs is not None and state.epoch >= recipe.epochs:
        return True
    if recipe.budget_seconds is None:
        return False
    # Leave room for the final validation, so the whole run (with it) fits the budget.
    return state.elapsed_seconds + state.last_validation_seconds >= recipe.budget_seconds


def _total_steps(recipe: Recipe, state: _State) -> int | None:
    totals = []
    if recipe.epochs is not None:
        totals.append(recipe.epochs * recipe.steps_per_epoch)
    if recipe.budget_seconds is not None and state.global_step:
        seconds_per_step = state.elapsed_seconds / state.global_step
        totals.append(int(recipe.budget_seconds / seconds_per_step))
    return min(totals) if totals else None


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("mean_defect_iou", "detection_rate", "false_alarm_rate", "boundary_f1", "pixel_accuracy", "score_threshold")
    return {key: metrics.get(key) for key in keys} | {"per_class_iou": metrics.get("per_class_iou")}


def _snapshot(
    recipe: Recipe,
    defect_classes: list[str],
    net: SegmentationNet,
    ema: SegmentationNet | None,
    optimizer: torch.optim.Optimizer | None,
    state: _State,
    *,
    weights_only: bool = False,
) -> dict[str, Any]:
    content = {"recipe": recipe.to_dict(), "defect_classes": defect_classes, "model": net.state_dict()}
    if weights_only:
        return content
    return content | {
        "ema": ema.state_dict() if ema is not None else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "torch_rng": torch.get_rng_state(),
        "state": {name: getattr(state, name) for name in _State.__dataclass_fields__},
    }


def _restore(
    path: Path, recipe: Recipe, net: SegmentationNet, ema: SegmentationNet | None, optimizer: torch.optim.Optimizer
) -> _State:
    content = checkpoint_load(path)
    recipe_check_resumable(Recipe.from_dict(content["recipe"]), recipe)
    net.load_state_dict(content["model"])
    if ema is not None and content.get("ema") is not None:
        ema.load_state_dict(content["ema"])
    optimizer.load_state_dict(content["optimizer"])
    torch.set_rng_state(content["torch_rng"])
    return _State(**content["state"])


def _result(state: _State, best_path: Path, *, is_cancelled: bool) -> TrainingResult:
    best = checkpoint_load(best_path) if best_path.exists() else None
    return TrainingResult(
        best_checkpoint=best_path if best else None,
        best_metrics=best["metrics"] if best else {},
        decision=DefectDecision.from_json(best["decision"]) if best else None,
        epochs_done=state.epoch,
        steps_done=state.global_step,
        elapsed_seconds=state.elapsed_seconds,
        is_cancelled=is_cancelled,
        history=state.history,
    )
