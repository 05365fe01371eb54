"""The decoder rewritten for export computes SAM's own decoder (random MobileSAM weights: the rewrite is algebra on
the weights, whatever their values). Pure PyTorch, no export (test_sam_runtime checks the exported file)."""

import pytest
import torch

from assist.sam.decoder_graph import (
    ChannelsLastMaskDecoder,
    ImageToTokenAttention,
    TokenToImageAttention,
    decoder_for_export,
)

MAX_ABS_DIFF = 1e-4  # float32 rounding of sums taken in another order; measured ~3e-7


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    torch.manual_seed(0)
    return sam_model_registry["vit_t"](checkpoint=None).eval()


def _decode(model: torch.nn.Module, embedding, points, labels, mask_input, has_mask_input):
    from mobile_sam.utils.onnx import SamOnnxModel  # type: ignore[import-untyped]

    wrapper = SamOnnxModel(model, return_single_mask=False).eval()
    with torch.no_grad():
        return wrapper(embedding, points, labels, mask_input, has_mask_input, torch.tensor([600.0, 800.0]))


@pytest.mark.parametrize("point_count", [2, 4])
def test_rewritten_decoder_answers_as_sam(model, point_count):
    # given: an embedding, clicks (and a box's corners), a previous answer as mask input
    generator = torch.Generator().manual_seed(point_count)
    embedding = torch.randn(1, 256, 64, 64, generator=generator)
    points = torch.rand(1, point_count, 2, generator=generator) * 1024
    labels = torch.tensor([[1.0, 0.0, 2.0, 3.0][:point_count]])
    mask_input = torch.randn(1, 1, 256, 256, generator=generator) * 5
    rewritten = decoder_for_export(model)
    # when
    expected = _decode(model, embedding, points, labels, mask_input, torch.tensor([1.0]))
    actual = _decode(rewritten, embedding, points, labels, mask_input, torch.tensor([1.0]))
    # then: masks, IoU predictions and low-resolution logits alike
    for got, wanted in zip(actual, expected, strict=True):
        assert got.shape == wanted.shape
        assert float((got - wanted).abs().max()) < MAX_ABS_DIFF


def test_rewrite_replaces_every_cross_attention_and_leaves_the_model_alone(model):
    # when
    rewritten = decoder_for_export(model)
    # then
    transformer = rewritten.mask_decoder.transformer
    assert [type(layer.cross_attn_token_to_image) for layer in transformer.layers] == [TokenToImageAttention] * 2
    assert [type(layer.cross_attn_image_to_token) for layer in transformer.layers] == [ImageToTokenAttention] * 2
    assert type(transformer.final_attn_token_to_image) is TokenToImageAttention
    assert type(rewritten.mask_decoder) is ChannelsLastMaskDecoder
    assert rewritten.image_encoder is model.image_encoder  # shared, not copied
    assert type(model.mask_decoder.transformer.final_attn_token_to_image).__name__ == "Attention"
    assert type(model.mask_decoder).__name__ == "MaskDecoder"
