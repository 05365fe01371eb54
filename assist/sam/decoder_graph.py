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
- **Upscaling channels last.** SAM turns the transformer's cells (channels last) back into an NCHW map and upscales
  it with two 2 x 2 stride-2 transposed convolutions, a LayerNorm2d between (six elementwise ops over channels).
  Kept channels last, each transposed convolution is one plain matrix product per cell (a constant weight, so the
  int8 file quantizes it too; onnxruntime-web ran the ConvTranspose in float32, its slowest op), the norm is
  LayerNormalization over the last axis, and the sub-pixels are put in place once, on the four tokens' logits.

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
        # (heads, head dim, E), (heads, head dim, 1), (heads, head dim, E): each head's rows of the query projection
        # and its bias, each head's columns of the output projection
        self.register_buffer("query_weight", query_weight.reshape(heads, self.head_dim, embedding_dim).clone())
        self.register_buffer("query_bias", attention.q_proj.bias.detach().reshape(heads, self.head_dim, 1).clone())
        self.register_buffer(
            "out_weight", out_weight.reshape(embedding_dim, heads, self.head_dim).permute(1, 2, 0).contiguous()
        )
        self.register_buffer("out_bias", attention.out_proj.bias.detach().clone())

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        batch, tokens, embedding_dim = k.shape
        cells, heads = q.shape[1], self.num_heads
        keys = self.k_proj(k).reshape(batch, tokens, heads, self.head_dim).transpose(1, 2)
        # (b, heads x tokens, E), transposed only in the product below: a plain transposed-B GEMM, where a batched
        # transpose made onnxruntime-web's product ~1.7x slower
        keys_in_cells = (keys @ self.query_weight).reshape(batch, heads * tokens, embedding_dim)
        key_bias = (keys @ self.query_bias).reshape(batch, 1, heads * tokens)
        scores = (q @ keys_in_cells.transpose(1, 2) + key_bias) / math.sqrt(self.head_dim)
        scores = scores.reshape(batch, cells, heads, tokens)
        weights = torch.softmax(scores, dim=-1).reshape(batch, cells, heads * tokens)
        values = self.v_proj(v).reshape(batch, tokens, heads, self.head_dim).transpose(1, 2)
        values_out = (values @ self.out_weight).reshape(batch, heads * tokens, embedding_dim)
        return cast(torch.Tensor, weights @ values_out + self.out_bias)


class ChannelsLastMaskDecoder(nn.Module):
    """SAM's MaskDecoder whose upscaling stays channels last: each of its 2 x 2 stride-2 transposed convolutions is
    one matrix product per cell (in channels -> 2 x 2 x out channels), LayerNorm2d a LayerNormalization over the
    last axis, and the sub-pixels are put in place once, on the four tokens' logits (not on 32 feature channels)."""

    first_weight: torch.Tensor
    first_bias: torch.Tensor
    second_weight: torch.Tensor
    second_bias: torch.Tensor

    def __init__(self, decoder: Any) -> None:  # SAM's MaskDecoder
        super().__init__()
        self.num_mask_tokens: int = decoder.num_mask_tokens
        self.iou_token, self.mask_tokens = decoder.iou_token, decoder.mask_tokens
        self.transformer = decoder.transformer
        self.output_hypernetworks_mlps = decoder.output_hypernetworks_mlps
        self.iou_prediction_head = decoder.iou_prediction_head
        first, layer_norm, self.first_activation, second, self.second_activation = decoder.output_upscaling
        self.layer_norm_weight, self.layer_norm_bias = layer_norm.weight, layer_norm.bias
        self.layer_norm_eps: float = layer_norm.eps
        # ConvTranspose2d weight (in, out, 2, 2) -> (in, 2 x 2 x out): a cell's four sub-pixels, row-major
        for name, convolution in (("first", first), ("second", second)):
            weight = convolution.weight.detach()
            self.register_buffer(f"{name}_weight", weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1).clone())
            self.register_buffer(f"{name}_bias", convolution.bias.detach().repeat(4).clone())

    def predict_masks(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """As MaskDecoder.predict_masks: (masks (b, tokens, 4h, 4w) logits, IoU predictions (b, tokens))."""
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        output_tokens = output_tokens.unsqueeze(0).expand(sparse_prompt_embeddings.size(0), -1, -1)
        tokens = torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)
        src = torch.repeat_interleave(image_embeddings, tokens.shape[0], dim=0) + dense_prompt_embeddings
        pos_src = torch.repeat_interleave(image_pe, tokens.shape[0], dim=0)
        batch, _, height, width = src.shape
        hs, cells = self.transformer(src, pos_src, tokens)  # cells: (b, h x w, c), channels last
        first = self.first_activation(
            functional.layer_norm(
                (cells @ self.first_weight + self.first_bias).reshape(batch, height * width * 4, -1),
                (int(self.layer_norm_weight.shape[0]),),
                self.layer_norm_weight,
                self.layer_norm_bias,
                self.layer_norm_eps,
            )
        )
        second = self.second_activation(first @ self.second_weight + self.second_bias)
        features = second.reshape(batch, height * width * 16, -1)  # (b, sub-pixels, c / 8)
        hyper_in = torch.stack(
            [mlp(hs[:, 1 + index, :]) for index, mlp in enumerate(self.output_hypernetworks_mlps)], dim=1
        )
        logits = (features @ hyper_in.transpose(1, 2)).reshape(batch, height, width, 2, 2, 2, 2, -1)
        # (y, x, i, j, k, l, token) -> pixel (4y + 2i + k, 4x + 2j + l) of each token's map
        masks = logits.permute(0, 7, 1, 3, 5, 2, 4, 6).reshape(batch, -1, height * 4, width * 4)
        return masks, self.iou_prediction_head(hs[:, 0, :])


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
    rewritten.mask_decoder = ChannelsLastMaskDecoder(rewritten.mask_decoder)
    return rewritten
