"""The training loop on a handful of real magnetic-tile images: steps, checkpoints, resume, cancel, determinism.

A tiny recipe (64 px crops, batches of 2, a slim decoder) keeps each run to a few seconds on a shared CPU; the
network is still the real Lite0 U-Net with its ImageNet encoder."""

import functools
from pathlib import Path

import pytest
import torch

from assist.training.checkpoints import BEST_NAME, LAST_NAME, checkpoint_load, network_from_checkpoint
from assist.training.model import model_build
from assist.training.recipe import Recipe, training_threads
from assist.training.samples import Sample, samples_read_folder
from assist.training.train import Progress, TrainingResult, train

TINY = Recipe(
    budget_seconds=None,
    epochs=1,
    steps_per_epoch=2,
    batch_size=2,
    crop_size_px=64,
    decoder_channels=(16, 16, 16, 16, 16),
    validate_every_epochs=1,
)
IMAGES_PER_FOLDER = 2


@functools.cache
def _handful(root: Path) -> tuple[list[Sample], list[Sample], list[str]]:
    samples, defect_classes = samples_read_folder(root)
    by_folder: dict[str, list[Sample]] = {}
    for sample in samples:
        by_folder.setdefault(sample.image_id.split("/")[0], []).append(sample)
    train_samples = [sample for folder in by_folder.values() for sample in folder[:IMAGES_PER_FOLDER]]
    val_samples = [by_folder["crack"][-1], by_folder["free"][-1]]
    return train_samples, val_samples, defect_classes


@pytest.fixture
def handful(magnetic_tile: Path) -> tuple[list[Sample], list[Sample], list[str]]:
    """Two images per folder to train on, one crack and one defect-free image to validate on (read once)."""
    return _handful(magnetic_tile)


def _run(handful, checkpoint_dir: Path, recipe: Recipe = TINY, **options) -> tuple[TrainingResult, list[Progress]]:
    train_samples, val_samples, defect_classes = handful
    reports: list[Progress] = []
    result = train(
        train_samples, val_samples, recipe, defect_classes=defect_classes, checkpoint_dir=checkpoint_dir,
        device="cpu", on_progress=reports.append, **options,
    )  # fmt: skip
    return result, reports


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return checkpoint_load(path)["model"]


def test_two_steps_write_checkpoints_and_a_validated_best(handful, tmp_path):
    # when
    result, reports = _run(handful, tmp_path)
    # then
    assert (result.steps_done, result.epochs_done, result.is_cancelled) == (2, 1, False)
    assert [report.step for report in reports if report.val_metrics is None] == [1, 2]
    assert "mean_defect_iou" in (reports[-1].val_metrics or {})
    assert {path.name for path in tmp_path.iterdir()} == {LAST_NAME, BEST_NAME}  # no temporary files left
    assert result.best_checkpoint == tmp_path / BEST_NAME
    net, recipe, defect_classes, decision, metrics = network_from_checkpoint(tmp_path / BEST_NAME)
    assert (recipe, defect_classes) == (TINY, handful[2])
    assert len(decision.min_area_px if decision else ()) == len(defect_classes)
    assert metrics["detection_rate"] == result.best_metrics["detection_rate"]


def test_frozen_encoder_blocks_keep_their_imagenet_weights_and_statistics_through_training(handful, tmp_path):
    # given: the stem and the first two blocks frozen, precise BatchNorm before validation
    recipe = TINY.with_changes(encoder_frozen_blocks=2, bn_recalibration_batches=2, ema_decay=None)
    imagenet = model_build(recipe, len(handful[2])).state_dict()
    # when
    _run(handful, tmp_path, recipe)
    # then: the frozen part is ImageNet's, running statistics included; the rest moved
    trained = _weights(tmp_path / LAST_NAME)
    front = ("unet.encoder.model.conv_stem.", "unet.encoder.model.bn1.", "unet.encoder.model.blocks.0.",
             "unet.encoder.model.blocks.1.")  # fmt: skip
    assert all(torch.equal(trained[name], imagenet[name]) for name in imagenet if name.startswith(front))
    assert not torch.equal(trained["unet.encoder.model.blocks.2.0.bn1.running_mean"],
                           imagenet["unet.encoder.model.blocks.2.0.bn1.running_mean"])  # fmt: skip


def test_a_cancelled_run_resumes_from_the_saved_step_and_ends_as_an_uninterrupted_one(handful, tmp_path):
    # given: a run cancelled after its first step
    calls = iter([False, True])
    cancelled, _ = _run(handful, tmp_path / "resumed", should_stop=lambda: next(calls))
    assert (cancelled.is_cancelled, cancelled.steps_done, cancelled.best_checkpoint) == (True, 1, None)
    assert checkpoint_load(tmp_path / "resumed" / LAST_NAME)["state"]["step_in_epoch"] == 1
    # when
    resumed, reports = _run(handful, tmp_path / "resumed")
    straight, _ = _run(handful, tmp_path / "straight")
    # then: the resumed run did only step 2, and its weights are those of a run that was never stopped
    assert [report.step for report in reports if report.val_metrics is None] == [2]
    assert (resumed.is_cancelled, resumed.steps_done) == (False, 2)
    resumed_weights, straight_weights = (
        _weights(tmp_path / "resumed" / LAST_NAME),
        _weights(tmp_path / "straight" / LAST_NAME),
    )
    assert all(torch.equal(resumed_weights[name], straight_weights[name]) for name in straight_weights)


def test_cancel_before_the_first_step_trains_nothing(handful, tmp_path):
    result, reports = _run(handful, tmp_path, should_stop=lambda: True)

    assert (result.is_cancelled, result.steps_done, result.best_checkpoint, reports) == (True, 0, None, [])
    assert checkpoint_load(tmp_path / LAST_NAME)["state"]["global_step"] == 0


def test_the_same_seed_gives_the_same_losses_and_another_seed_does_not(handful, tmp_path):
    _, first = _run(handful, tmp_path / "first", resume=False)
    _, second = _run(handful, tmp_path / "second", resume=False)
    _, other = _run(handful, tmp_path / "other", TINY.with_changes(seed=1), resume=False)

    def losses(reports: list[Progress]) -> list[float]:
        return [report.loss for report in reports if report.val_metrics is None]

    assert losses(first) == losses(second)
    assert losses(first) != losses(other)


def test_resuming_with_another_recipe_is_refused(handful, tmp_path):
    _run(handful, tmp_path)

    with pytest.raises(ValueError, match="crop_size_px"):
        _run(handful, tmp_path, TINY.with_changes(crop_size_px=96))


@pytest.mark.parametrize(
    ("changes", "busy_cores", "threads"),
    [
        ({"torch_threads": 3}, 0.0, 3),  # the recipe's own number
        ({"budget_seconds": 900.0}, 0.2, 2),  # a time budget on an idle machine: every core
        ({"budget_seconds": 900.0}, 1.4, 1),  # one core busy elsewhere: the other
        ({"budget_seconds": 900.0}, 5.0, 1),  # at least one
        ({"budget_seconds": None, "epochs": 3}, 0.0, 1),  # an epoch budget must be bit-for-bit reproducible
        ({"budget_seconds": 900.0, "budget_clock": "cpu"}, 0.0, 1),  # a CPU-time budget: a shared machine
    ],
)
def test_training_threads_take_the_idle_cores_only_where_a_run_may(changes, busy_cores, threads):
    recipe = Recipe(torch_threads=0).with_changes(**changes)

    assert training_threads(recipe, cores=2, busy_cores=lambda: busy_cores) == threads
