"""SAM's mask decoder rewritten for export: the same function, in an order that costs onnxruntime less.

`decoder_for_export(model)` returns a copy of a loaded SAM (checkpoints.checkpoint_load) whose mask decoder computes
what the original computes, up to float rounding (onnx_export.parity_check compares the exported graph with the
*original* PyTorch model, so an install proves the equivalence with its own weights):

- **Cross-attention with few tokens.** A click's decoder has 5 + N tokens (SAM's IoU and mask tokens, the prompt's
  points) against the image's 4,096 cells (64 x 64), 256 channels each. SAM's `Attention` projects the 4,096 cells
  first (keys and values, 256 -> 128 channels: 134 M multiply-adds each; for image-to-token attention, the queries
  and the output projection), which is most of the decoder. Folding a head's projection into the other side
  instead (a query against projected keys is the projected query against raw keys) touches each cell once per
  head-token pair: 8 heads x 7 tokens = 56 columns of 256 instead of 128 of 256 twice. Of the decoder's ~1.75 G
  multiply-adds (ten 4,096-cell projections and the upscaling), this takes ~0.75 G away. The key projection's
  bias drops out of the token-to-image attention: it adds one constant to a query's every score, which the
  softmax ignores.
- **LayerNorm2d channels last.** SAM normalises the upscaled mask features (64 x 128 x 128) over channels with
  six elementwise ops in NCHW order; a transpose to NHWC and onnxruntime's fused LayerNormalization is cheaper.

Measured with onnxruntime in docs/assist.md ("The decoder graph").
"""

import copy
import math
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional


class TokenToImageAttention(nn.Module):
    """SAM's `Attention(q=tokens, k=v=image cells)`: each head's query is taken into the keys' channels (through the
    key projection's rows of that head) and scored against the raw keys; the softmax-weighted raw values go through
    the value projection last. (b, tokens, E) x (b, cells, E) -> (b, tokens, E)."""

    q_proj: nn.Linear
    out_proj: nn.Linear
    key_weight: torch.Tensor
    value_weight: torch.Tensor
    value_bias: torch.Tensor

    def __init__(self, attention: Any) -> None:  # SAM's Attention (segment_anything/mobile_sam ship no types)
        super().__init__()
        self.num_heads: int = attention.num_heads
        self.q_proj, self.out_proj = attention.q_proj, attention.out_proj
        key_weight, value_weight = attention.k_proj.weight.detach(), attention.v_proj.weight.detach()
        internal_dim, embedding_dim = key_weight.shape
        self.head_dim = internal_dim // self.num_heads
        # (heads, head dim, E) and (heads, E, head dim): each head's rows of the projections
        self.register_buffer("key_weight", key_weight.reshape(self.num_heads, self.head_dim, embedding_dim).clone())
        value_weight = value_weight.reshape(self.num_heads, self.head_dim, embedding_dim).transpose(1, 2)
        self.register_buffer("value_weight", value_weight.contiguous())
        self.register_buffer("value_bias", attention.v_proj.bias.detach().clone())

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        batch, tokens, embedding_dim = q.shape
        heads = self.num_heads
        queries = self.q_proj(q).reshape(batch, tokens, heads, self.head_dim).transpose(1, 2)
        queries_in_keys = (queries @ self.key_weight).reshape(batch, heads * tokens, embedding_dim)
        scores = (queries_in_keys @ k.transpose(1, 2)) / math.sqrt(self.head_dim)
        weights = torch.softmax(scores, dim=-1)
        mixed = (weights @ v).reshape(batch, heads, tokens, embedding_dim)
        out = (mixed @ self.value_weight).transpose(1, 2).reshape(batch, tokens, heads * self.head_dim)
        return cast(torch.Tensor, self.out_proj(out + self.value_bias))


class ImageToTokenAttention(nn.Module):
    """SAM's `Attention(q=image cells, k=v=tokens)`: each head's projected keys are taken back into the cells'
    channels (through the query projection's rows of that head), and each head's projected values through the output
    projection's columns of that head, so the cells meet one (E, heads x tokens) matrix each way.
    (b, cells, E) x (b, tokens, E) -> (b, cells, E)."""

    k_proj: nn.Linear
    v_proj: nn.Linear
    query_weight: torch.Tensor
    query_bias: torch.Tensor
    out_weight: torch.Tensor
    out_bias: torch.Tensor

    def __init__(self, attention: Any) -> None:  # SAM's Attention
        super().__init__()
        self.num_heads: int = attention.num_heads
        self.k_proj, self.v_proj = attention.k_proj, attention.v_proj
        query_weight, out_weight = attention.q_proj.weight.detach(), attention.out_proj.weight.detach()
        internal_dim, embedding_dim = query_weight.shape
        self.head_dim = internal_dim // self.num_heads
        heads = self.num_heads
        # (heads, E, head dim), (heads, head dim, 1), (heads, head dim, E)
        self.register_buffer(
            "query_weight", query_weight.reshape(heads, self.head_dim, embedding_dim).transpose(1, 2).contiguous()
        )
        self.register_buffer("query_bias", attention.q_proj.bias.detach().reshape(heads, self.head_dim, 1).clone())
        self.register_buffer(
            "out_weight", out_weight.reshape(embedding_dim, heads, self.head_dim).permute(1, 2, 0).contiguous()
        )
        self.register_buffer("out_bias", attention.out_proj.bias.detach().clone())

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        batch, tokens, embedding_dim = k.shape
        cells, heads = q.shape[1], self.num_heads
        keys = self.k_proj(k).reshape(batch, tokens, heads, self.head_dim).transpose(1, 2)
        keys_in_cells = (self.query_weight @ keys.transpose(2, 3)).permute(0, 2, 1, 3)
        keys_in_cells = keys_in_cells.reshape(batch, embedding_dim, heads * tokens)
        key_bias = (keys @ self.query_bias).reshape(batch, 1, heads * tokens)
        scores = ((q @ keys_in_cells + key_bias) / math.sqrt(self.head_dim)).reshape(batch, cells, heads, tokens)
        weights = torch.softmax(scores, dim=-1).reshape(batch, cells, heads * tokens)
        values = self.v_proj(v).reshape(batch, tokens, heads, self.head_dim).transpose(1, 2)
        values_out = (values @ self.out_weight).reshape(batch, heads * tokens, embedding_dim)
        return cast(torch.Tensor, weights @ values_out + self.out_bias)


class ChannelsLastLayerNorm2d(nn.Module):
    """SAM's LayerNorm2d (over the channels of an NCHW map) as NHWC LayerNormalization."""

    weight: nn.Parameter
    bias: nn.Parameter

    def __init__(self, layer_norm: Any) -> None:  # SAM's LayerNorm2d
        super().__init__()
        self.weight, self.bias = layer_norm.weight, layer_norm.bias
        self.eps: float = layer_norm.eps
        self.normalized_shape = (int(layer_norm.weight.shape[0]),)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels_last = x.permute(0, 2, 3, 1)
        normalised = functional.layer_norm(channels_last, self.normalized_shape, self.weight, self.bias, self.eps)
        return normalised.permute(0, 3, 1, 2)


def decoder_for_export(model: nn.Module) -> nn.Module:
    """A copy of `model` whose mask decoder is rewritten as above (the image encoder is shared, not copied)."""
    encoder = model.get_submodule("image_encoder")
    memo = {id(encoder): encoder}  # deepcopy reuses what the memo holds: the encoder's 5-600 M parameters stay put
    rewritten = copy.deepcopy(model, memo)
    transformer: Any = rewritten.get_submodule("mask_decoder.transformer")
    for layer in transformer.layers:
        layer.cross_attn_token_to_image = TokenToImageAttention(layer.cross_attn_token_to_image)
        layer.cross_attn_image_to_token = ImageToTokenAttention(layer.cross_attn_image_to_token)
    transformer.final_attn_token_to_image = TokenToImageAttention(transformer.final_attn_token_to_image)
    upscaling = cast(nn.Sequential, rewritten.get_submodule("mask_decoder.output_upscaling"))
    for index, module in enumerate(upscaling):
        if type(module).__name__ == "LayerNorm2d":
            upscaling[index] = ChannelsLastLayerNorm2d(module)
    return rewritten
