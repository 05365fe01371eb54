"""The interactive model on a handful of real magnetic-tile images: the widened network, crops, RITM click
simulation, training and resume, ONNX parity, and the engine answering boxes and clicks.

A tiny recipe (64 px crops, batches of 2, a slim decoder) keeps each run to seconds on a shared CPU; the network
is still the real Lite0 U-Net with its ImageNet encoder."""

import functools
from pathlib import Path

import numpy as np
import pytest
import torch

from assist.engines.base import Prompt
from assist.engines.quality import next_click
from assist.interactive.engine import InteractiveEngine
from assist.interactive.examples import ExampleSampler
from assist.interactive.export import OnnxInteractiveModel, onnx_export, parity_check
from assist.interactive.inference import CropGeometry
from assist.interactive.network import network_build
from assist.interactive.recipe import InteractiveRecipe
from assist.interactive.train import (
    batch_prompts,
    interactive_train,
    network_from_checkpoint,
    regions_for_validation,
    simulate_clicks,
)
from assist.interactive.window import Window, window_around
from assist.training.checkpoints import BEST_NAME, LAST_NAME, checkpoint_load
from assist.training.samples import Sample, samples_read_folder

TINY = InteractiveRecipe(
    crop_size_px=64,
    batch_size=2,
    decoder_channels=(16, 16, 16, 16, 16),
    budget_seconds=None,
    steps=2,
    validate_every_steps=2,
    validation_max_clicks=2,
    checkpoint_every_steps=1,
    defect_free_share=0.3,
)


@functools.cache
def _handful(root: Path) -> tuple[list[Sample], list[Sample], list[str]]:
    samples, defect_classes = samples_read_folder(root)
    by_folder: dict[str, list[Sample]] = {}
    for sample in samples:
        by_folder.setdefault(sample.image_id.split("/")[0], []).append(sample)
    train_samples = [sample for folder in by_folder.values() for sample in folder[:2]]
    return train_samples, [by_folder["blowhole"][-1], by_folder["crack"][-1]], defect_classes


@pytest.fixture
def handful(magnetic_tile: Path) -> tuple[list[Sample], list[Sample], list[str]]:
    return _handful(magnetic_tile)


def _train(handful, folder: Path, recipe: InteractiveRecipe = TINY, **options):
    train_samples, val_samples, defect_classes = handful
    return interactive_train(
        train_samples, val_samples, recipe, checkpoint_dir=folder, device="cpu", validation_regions=2,
        defect_classes=defect_classes, **options,
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(magnetic_tile: Path, tmp_path_factory) -> tuple[Path, Path]:
    """(best.pt, exported ONNX) of a two-step tiny run."""
    folder = tmp_path_factory.mktemp("interactive")
    result = _train(_handful(magnetic_tile), folder)
    net, recipe, _ = network_from_checkpoint(result.best_checkpoint)
    return result.best_checkpoint, onnx_export(net, folder / "interactive.onnx", geometry=CropGeometry.of(recipe))


def test_prompt_channels_start_at_zero_so_the_pretrained_encoder_sees_the_image_as_before():
    torch.manual_seed(0)
    net = network_build(TINY).eval()
    grey = torch.rand(1, 1, 64, 64) * 255
    with torch.no_grad():
        plain = net(grey, torch.zeros(1, 4, 64, 64))
        prompted = net(grey, (torch.rand(1, 4, 64, 64) > 0.5).float())
    stem = net.unet.encoder.model.conv_stem.weight
    assert stem.shape[1] == 7
    assert torch.count_nonzero(stem[:, 3:]) == 0
    assert torch.count_nonzero(stem[:, :3]) > 0
    assert torch.equal(plain, prompted)


def test_a_crop_pasted_back_is_the_image_again_and_the_box_map_covers_the_box_pixels():
    mask = np.zeros((40, 50), dtype=bool)
    mask[10:20, 5:30] = True
    window = Window(x0=-6.0, y0=-4.0, side=64.0, size=64)  # one crop px per image px, past the top-left corner
    values, offset = window.paste(window.crop_mask(mask).astype(np.float32), mask.shape)
    assert offset == (0, 0)
    assert values.shape == mask.shape
    assert np.array_equal(values >= 0.5, mask)
    box_map = window.box_map((5, 10, 29, 19))
    assert box_map.sum() == mask.sum()
    assert box_map[14, 11]
    assert not box_map[13, 11]
    assert window.to_crop((5.0, 10.0)) == (11.0, 14.0)


def test_a_window_holds_its_prompt_with_context_and_a_minimum_size():
    window = window_around((100, 50, 139, 59), size=128, context=0.25, min_side=48)
    assert window.side == 60  # 40 px wide box, 25 % on each side
    assert (window.x0, window.y0) == (90.0, 25.0)
    assert window_around((10, 10, 11, 11), size=128, context=0.25, min_side=48).side == 48


def test_training_clicks_fall_in_the_deeper_half_of_the_larger_error():
    defect = np.zeros((30, 30), dtype=bool)
    defect[5:25, 5:25] = True
    predicted = np.zeros_like(defect)
    predicted[5:25, 5:12] = True  # a missed 20 x 13 strip
    rng = np.random.default_rng(0)
    for _ in range(20):
        (x, y), is_positive = next_click(defect, predicted, rng=rng)
        assert is_positive
        assert defect[int(y), int(x)]
        assert not predicted[int(y), int(x)]
        assert 15 <= x <= 21
        assert 8 <= y <= 21
    false = np.zeros_like(defect)
    false[0:30, 0:30] = True  # everything marked: the larger error is false
    (x, y), is_positive = next_click(defect, false, rng=rng)
    assert not is_positive
    assert not defect[int(y), int(x)]


def test_click_simulation_puts_each_new_click_in_the_models_error(handful):
    train_samples, _, _ = handful
    sampler = ExampleSampler(train_samples, TINY)
    examples = sampler.batch(0) + sampler.batch(1)
    torch.manual_seed(0)
    net = network_build(TINY)
    positive, negative, previous = simulate_clicks(
        net, examples, TINY, torch.device("cpu"), np.random.default_rng(0), 1
    )
    assert previous is not None
    assert previous.shape == (4, 64, 64)
    for index, example in enumerate(examples):
        new_positive = positive[index][len(example.positive) :]
        new_negative = negative[index][len(example.negative) :]
        assert len(new_positive) + len(new_negative) == int(bool((example.target ^ previous[index]).any()))
        for x, y in new_positive:
            assert example.target[round(y), round(x)]
            assert not previous[index][round(y), round(x)]
        for x, y in new_negative:
            assert previous[index][round(y), round(x)]
            assert not example.target[round(y), round(x)]


def test_examples_crop_the_prompted_region_and_are_the_same_for_the_same_step(handful):
    train_samples, _, _ = handful
    first, again = ExampleSampler(train_samples, TINY), ExampleSampler(train_samples, TINY)
    for index in range(6):
        example = first.example(3, index)
        assert example.grey.shape == example.target.shape == (64, 64)
        assert (example.box_map is None) == bool(example.positive)
        for x, y in example.positive:
            assert example.target[round(y), round(x)]
        repeated = again.example(3, index)
        assert np.array_equal(example.grey, repeated.grey)
        assert np.array_equal(example.target, repeated.target)


def test_training_writes_checkpoints_and_resumes_to_the_same_weights(handful, tmp_path):
    whole = _train(handful, tmp_path / "whole")
    assert whole.steps_done == 2
    assert whole.best_checkpoint == tmp_path / "whole" / BEST_NAME
    assert (tmp_path / "whole" / LAST_NAME).exists()
    assert set(whole.best_metrics) >= {"box_mean_iou", "noc85", "box_noc85", "per_class_iou"}
    stopped = _train(handful, tmp_path / "split", should_stop=iter([False, True]).__next__)
    assert stopped.is_cancelled
    assert stopped.steps_done == 1
    resumed = _train(handful, tmp_path / "split")
    assert resumed.steps_done == 2
    expected = checkpoint_load(tmp_path / "whole" / LAST_NAME)["model"]
    actual = checkpoint_load(tmp_path / "split" / LAST_NAME)["model"]
    assert all(torch.equal(expected[name], actual[name]) for name in expected)


def test_resuming_with_another_recipe_is_refused(handful, tmp_path):
    _train(handful, tmp_path, TINY.with_changes(steps=1))
    with pytest.raises(ValueError, match="crop_context"):
        _train(handful, tmp_path, TINY.with_changes(crop_context=0.2))


def test_onnx_export_matches_pytorch(trained, handful):
    best, onnx_path = trained
    net, recipe, _ = network_from_checkpoint(best)
    sampler = ExampleSampler(handful[0], recipe)
    examples = sampler.batch(0)
    prompts = batch_prompts(examples, recipe, [[(20.0, 30.0)], []], [[], [(40.0, 12.0)]], None)
    parity = parity_check(net, onnx_path, [(example.grey, prompts[i].numpy()) for i, example in enumerate(examples)])
    assert parity["max_abs_probability_difference"] < 1e-4
    assert OnnxInteractiveModel(onnx_path).geometry == CropGeometry.of(recipe)


def test_the_engine_answers_a_box_and_clicks_with_a_mask_of_the_image(trained, handful):
    _, onnx_path = trained
    engine = InteractiveEngine(onnx_path)
    region = regions_for_validation(handful[1])[0]
    x0, y0, x1, y1 = region.box
    for prompt in (
        Prompt(box=region.box),
        Prompt(positive_clicks=(((x0 + x1) / 2, (y0 + y1) / 2),)),
        Prompt(box=region.box, negative_clicks=((float(x0), float(y0)),)),
    ):
        result = engine.predict(region.image, prompt)
        assert result.engine == "interactive"
        assert result.image_shape == region.image.shape
        assert result.full_mask().shape == region.image.shape
        assert 0.0 <= result.score <= 1.0
    with pytest.raises(ValueError, match="outside"):
        engine.predict(region.image, Prompt(box=(0, 0, 10_000, 10)))


def test_a_corrective_click_is_drawn_into_the_input_and_recomputes_the_mask(trained, handful):
    _, onnx_path = trained
    engine = InteractiveEngine(onnx_path)
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    model_run = engine.model.run

    def run(grey: np.ndarray, channels: np.ndarray) -> np.ndarray:
        probability = model_run(grey, channels)
        calls.append((channels, probability))
        return probability

    engine.model.run = run  # observe the real model's inputs and outputs
    region = regions_for_validation(handful[1])[0]
    first = engine.predict(region.image, Prompt(box=region.box)).full_mask()
    point, is_positive = next_click(region.mask, first)
    clicks = {"positive_clicks" if is_positive else "negative_clicks": (point,)}
    engine.predict(region.image, Prompt(box=region.box, previous_mask=first, **clicks))
    (box_channels, box_probability), (click_channels, click_probability) = calls
    channel = 1 if is_positive else 2
    assert not box_channels[channel].any()
    assert click_channels[channel].any()
    assert click_channels[3].any() == first.any()  # the previous mask is drawn in too
    assert not np.array_equal(box_probability, click_probability)


def test_with_a_box_margin_nothing_is_marked_far_outside_the_box(trained, handful):
    _, onnx_path = trained
    engine = InteractiveEngine(onnx_path, flip=True, box_margin=0.0)
    region = regions_for_validation(handful[1])[0]
    x0, y0, x1, y1 = region.box
    full = engine.predict(region.image, Prompt(box=region.box)).full_mask()
    allowed = np.zeros_like(full)
    allowed[max(y0 - 2, 0) : y1 + 3, max(x0 - 2, 0) : x1 + 3] = True
    assert not (full & ~allowed).any()
