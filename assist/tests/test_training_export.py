"""ONNX export of a tiny network: parity with PyTorch, dynamic height and width, metadata, int8, the Predictor."""

import numpy as np
import pytest
import torch

from assist.training.decision import DefectDecision
from assist.training.export import Predictor, onnx_export, onnx_quantize_int8, parity_check
from assist.training.model import model_build
from assist.training.recipe import Recipe
from assist.training.tiling import pad_to_multiple, probabilities_predict, tile_starts

CLASSES = ["blowhole", "crack"]
TINY = Recipe(architecture="unet-scratch", decoder_channels=(8, 8, 8, 8, 8), image_head=True)
PARITY_TOLERANCE = 1e-4  # fp32 onnxruntime vs PyTorch: summation order differs, nothing else


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    net = model_build(TINY, len(CLASSES)).eval()
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    decision = DefectDecision(min_area_px=(4.0, 9.0), score_threshold=0.25)
    onnx_export(net, path, defect_classes=CLASSES, decision=decision)
    return net, path, decision


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=shape, dtype=np.uint8) for shape in [(64, 64), (70, 101), (45, 150)]]


def test_onnx_matches_pytorch_on_any_size(exported):
    net, path, _ = exported

    parity = parity_check(net, path, _images())

    assert parity["max_abs_probability_difference"] < PARITY_TOLERANCE
    assert parity["mask_agreement"] > 0.999


def test_the_predictor_reads_classes_and_decision_from_the_file(exported):
    _, path, decision = exported
    predictor = Predictor(path)

    output = predictor.predict(_images()[1])

    assert (predictor.defect_classes, predictor.decision, predictor.has_image_head) == (CLASSES, decision, True)
    assert (output.mask.shape, output.mask.dtype) == ((70, 101), np.uint8)
    assert output.is_defective == bool(output.mask.any())
    assert 0.0 <= output.score <= 1.0


def test_int8_keeps_metadata_and_runs(exported, tmp_path):
    _, path, decision = exported

    int8_path = onnx_quantize_int8(path, tmp_path / "model.int8.onnx", calibration_images=_images()[:2])
    predictor = Predictor(int8_path)

    assert predictor.decision == decision
    assert predictor.predict(_images()[2]).mask.shape == (45, 150)


def test_padding_reflects_to_multiples_of_32_and_tiles_cover_the_image():
    image = np.arange(35 * 40, dtype=np.uint8).reshape(35, 40)

    padded = pad_to_multiple(image)

    assert padded.shape == (64, 64)
    assert np.array_equal(padded[:35, :40], image)
    assert np.array_equal(padded[35, :40], image[33])  # reflected without repeating the edge row
    assert tile_starts(100, 100, 10) == [0]
    assert tile_starts(1984, 1024, 64) == [0, 960]  # exactly 64 px shared
    assert tile_starts(2000, 1024, 64) == [0, 488, 976]  # two windows would share only 48 px


def test_tiles_and_flips_give_the_pixelwise_answer_of_a_single_pass():
    # given: a "network" that looks at each pixel alone, so tiling and flipping must not change its answer
    def run(window: np.ndarray) -> tuple[np.ndarray, float]:
        defect = window.astype(np.float32) / 255
        return np.stack([1 - defect, defect]), float(defect.max())

    image = np.random.default_rng(1).integers(0, 256, size=(150, 230), dtype=np.uint8)
    # when
    tiled, tiled_image_probability = probabilities_predict(image, run, max_tile_px=64, flip=True)
    # then
    assert tiled.shape == (2, 150, 230)
    assert np.allclose(tiled[1], image / 255, atol=1e-6)
    assert tiled_image_probability == pytest.approx(image.max() / 255)
