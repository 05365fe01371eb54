"""SAM's ONNX export and onnxruntime inference with a randomly initialised MobileSAM (no official weights here; the
random model has the official graph, shapes and speed, so export, parity, prompts and crops are tested honestly,
but not mask quality). The install (export and parity check) runs once per module (~20 s of CPU). Pure: no database."""

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from assist.sam.checkpoints import checkpoint_load
from assist.sam.onnx_export import (
    DECODER_INT8_MIN_MASK_AGREEMENT,
    ExportReport,
    SamOnnxFiles,
    onnx_files_for,
    sam_onnx_export,
)
from assist.sam.runtime import ImageEmbedding, SamDecoder, SamEncoder
from assist.sam.transforms import EMBEDDING_SHAPE, mask_input_from_mask

TORCH_THREADS = 2  # the machine's cores are shared with other test runs
IMAGE_HEIGHT, IMAGE_WIDTH = 180, 300  # not square: the resize, padding and crop back are exercised
FP32_PARITY_MAX_ABS_DIFF = 1e-4  # measured ~6e-6 (encoder) and ~5e-6 (decoder) with random weights


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[torch.nn.Module, ExportReport]:
    """What the install step does: checkpoint file -> model -> three graphs beside it, checked against PyTorch."""
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    torch.set_num_threads(TORCH_THREADS)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("sam")
    torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), folder / "mobile_sam.pt")
    model = checkpoint_load(folder / "mobile_sam.pt", "vit_t")
    return model, sam_onnx_export(model, onnx_files_for(folder / "mobile_sam.pt"))


@pytest.fixture(scope="module")
def exported(installed) -> tuple[torch.nn.Module, SamOnnxFiles]:
    return installed[0], installed[1].files


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    generator = np.random.default_rng(3)
    grey = generator.integers(90, 140, size=(IMAGE_HEIGHT, IMAGE_WIDTH)).astype(np.uint8)
    grey[60:110, 120:200] = 40  # a dark defect-like patch
    return grey


@pytest.fixture(scope="module")
def embedding(exported, image) -> ImageEmbedding:
    return SamEncoder(exported[1].encoder).encode(image)


@pytest.fixture(scope="module")
def decoder(exported) -> SamDecoder:
    return SamDecoder(exported[1].decoder)


def test_export_writes_the_three_graphs_beside_the_checkpoint(exported):
    # given
    _, files = exported
    folder = files.encoder.parent
    # then
    assert sorted(path.name for path in folder.iterdir()) == [
        "mobile_sam.decoder.int8.onnx",
        "mobile_sam.decoder.onnx",
        "mobile_sam.encoder.onnx",
        "mobile_sam.pt",
    ]
    encoder = onnx.load(str(files.encoder), load_external_data=False)
    assert _dims(encoder.graph.input[0]) == [1, 3, 1024, 1024]
    assert _dims(encoder.graph.output[0]) == [1, 256, 64, 64]
    decoder = onnx.load(str(files.decoder))
    inputs = {value.name: _dims(value) for value in decoder.graph.input}
    assert inputs["point_coords"] == [1, "num_points", 2]
    assert inputs["orig_im_size"] == [2]
    # the int8 decoder is the smaller one (SAM's measured 16.5 MB -> 4.7 MB)
    assert files.decoder_int8.stat().st_size < files.decoder.stat().st_size / 3


def test_each_graph_matches_pytorch(installed):
    # given
    report = installed[1]
    # then
    assert report.parity.encoder_max_abs_diff < FP32_PARITY_MAX_ABS_DIFF
    assert report.parity.decoder_max_abs_diff < FP32_PARITY_MAX_ABS_DIFF
    assert report.parity.decoder_int8_mask_agreement >= DECODER_INT8_MIN_MASK_AGREEMENT
    assert report.parity.is_within_bounds
    summary = report.to_json()
    assert summary["is_within_bounds"] is True
    assert summary["size_bytes"]["decoder_int8"] == report.files.decoder_int8.stat().st_size


def test_encoder_gives_a_float16_embedding_and_the_region(embedding):
    assert (embedding.embedding.dtype, embedding.embedding.shape) == (np.float16, EMBEDDING_SHAPE)
    assert (embedding.offset, embedding.region_shape, embedding.image_shape) == ((0, 0), (180, 300), (180, 300))
    assert embedding.scale == pytest.approx(1024 / 300)


def test_click_gives_three_masks_of_the_image_size_with_scores(embedding, decoder):
    # when
    decoded = decoder.decode(embedding, positive_clicks=((160, 85),))
    # then
    assert (decoded.masks.dtype, decoded.masks.shape) == (bool, (3, 180, 300))
    assert (decoded.scores.dtype, decoded.scores.shape) == (np.float32, (3,))
    assert decoded.best_index == int(np.argmax(decoded.scores))
    assert decoded.single_mask.shape == (180, 300)
    assert decoded.is_ambiguous
    mask, score = decoded.suggestion()
    assert np.array_equal(mask, decoded.masks[decoded.best_index])
    assert score == float(decoded.scores[decoded.best_index])
    assert decoded.mask_input().shape == (1, 1, 256, 256)


def test_box_and_clicks_give_the_single_mask_answer(embedding, decoder):
    # when
    decoded = decoder.decode(
        embedding, positive_clicks=((160, 85),), negative_clicks=((20, 20),), box=(115, 55, 205, 115)
    )
    # then
    assert decoded.masks.shape == (3, 180, 300)
    assert not decoded.is_ambiguous
    mask, score = decoded.suggestion()
    assert (mask is decoded.single_mask, score) == (True, decoded.single_score)


def test_previous_answer_can_be_refined(embedding, decoder):
    # given
    first = decoder.decode(embedding, positive_clicks=((160, 85),))
    # when
    from_logits = decoder.decode(embedding, positive_clicks=((160, 85), (130, 70)), mask_input=first.mask_input())
    from_mask = decoder.decode(
        embedding, positive_clicks=((160, 85), (130, 70)), mask_input=mask_input_from_mask(first.suggestion()[0])
    )
    without = decoder.decode(embedding, positive_clicks=((160, 85), (130, 70)))
    # then: the mask input reaches the decoder
    assert from_logits.single_mask.shape == from_mask.single_mask.shape == (180, 300)
    assert not np.array_equal(from_logits.low_res_logits, without.low_res_logits)


def test_prompt_outside_the_region_or_empty_is_refused(embedding, decoder):
    with pytest.raises(ValueError, match=r"point \(300, 10\) is outside the encoded region 300x180 at \(0, 0\)"):
        decoder.decode(embedding, positive_clicks=((300, 10),))
    with pytest.raises(ValueError, match="a SAM prompt needs a box or a positive click"):
        decoder.decode(embedding, negative_clicks=((10, 10),))


def test_crop_answers_in_whole_image_coordinates(exported, image, decoder):
    # given: the inspector views a 160 x 100 region at (120, 50) of the image
    x, y, width, height = 120, 50, 160, 100
    region = SamEncoder(exported[1].encoder).encode(
        image[y : y + height, x : x + width], offset=(x, y), image_shape=image.shape
    )
    # when: the click is in whole-image px
    decoded = decoder.decode(region, positive_clicks=((160, 85),), box=(125, 55, 205, 115))
    # then: the answer covers the region, placed by its offset
    assert (decoded.offset, decoded.image_shape, decoded.masks.shape) == ((120, 50), (180, 300), (3, 100, 160))
    same_region_alone = ImageEmbedding(region.embedding, offset=(0, 0), region_shape=(100, 160), image_shape=(100, 160))
    alone = decoder.decode(same_region_alone, positive_clicks=((40, 35),), box=(5, 5, 85, 65))
    assert np.array_equal(decoded.masks, alone.masks)
    full = decoded.full_mask(decoded.single_mask)
    assert full.shape == (180, 300)
    assert np.array_equal(full[y : y + height, x : x + width], decoded.single_mask)
    assert full.sum() == decoded.single_mask.sum()


def test_int8_decoder_agrees_with_fp32(exported, embedding, decoder):
    # when
    int8 = SamDecoder(exported[1].decoder_int8).decode(embedding, positive_clicks=((160, 85),))
    fp32 = decoder.decode(embedding, positive_clicks=((160, 85),))
    # then
    assert (int8.masks == fp32.masks).mean() >= DECODER_INT8_MIN_MASK_AGREEMENT
    assert np.abs(int8.scores - fp32.scores).max() < 0.05


@pytest.mark.slow
def test_runtime_agrees_with_mobile_sam_predictor(exported, image, embedding, decoder):
    # given: MobileSAM's own PyTorch predictor on the same image and click
    from mobile_sam import SamPredictor

    predictor = SamPredictor(exported[0])
    predictor.set_image(np.repeat(image[:, :, None], 3, axis=2))
    masks, scores, _ = predictor.predict(point_coords=np.array([[160.0, 85.0]]), point_labels=np.array([1]))
    # when
    decoded = decoder.decode(embedding, positive_clicks=((160, 85),))
    # then: same masks up to the float16 embedding's rounding
    assert (decoded.masks == masks).mean() > 0.99
    assert np.abs(decoded.scores - scores).max() < 0.01


def _dims(value: onnx.ValueInfoProto) -> list:
    return [dim.dim_param or dim.dim_value for dim in value.type.tensor_type.shape.dim]


def test_files_are_named_after_the_checkpoint():
    files = onnx_files_for(Path("/models/sam/mobile_sam.pt"))
    assert (files.encoder, files.decoder, files.decoder_int8) == (
        Path("/models/sam/mobile_sam.encoder.onnx"),
        Path("/models/sam/mobile_sam.decoder.onnx"),
        Path("/models/sam/mobile_sam.decoder.int8.onnx"),
    )
