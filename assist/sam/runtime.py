"""SAM in onnxruntime: `SamEncoder` turns an image (or the part of it being viewed) into an `ImageEmbedding`,
`SamDecoder` turns an embedding and the inspector's clicks/box into candidate masks. No torch: this is what the
server (and, through the same graphs, the browser) runs.

Crops. A large image is encoded one region at a time (the view the inspector is working in): pass the region's
pixels and its `offset` (x, y) in the image. Prompts are always given in whole-image px; a `Decoded` answer covers
the region only, with its `offset` and the whole `image_shape` beside it (the convention of
assist/engines/base.py EngineResult: suggestions are small, so whole-image masks are built only on request, by
`full_mask`). A click or box outside the encoded region raises ValueError: SAM saw nothing there.

    encoder, decoder = SamEncoder(files.encoder), SamDecoder(files.decoder)
    embedding = encoder.encode(grey)                                      # ~1 s on 2 idle cores: once per image
    decoded = decoder.decode(embedding, positive_clicks=((120, 80),))     # ~50 ms: every click
    mask, score = decoded.suggestion()
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from assist.sam.masks import upscaling_for
from assist.sam.transforms import (
    EMBEDDING_SHAPE,
    IMAGE_SIDE_PX,
    LOW_RES_SIDE_PX,
    Box,
    Point,
    image_preprocess,
    prompt_arrays,
)

if TYPE_CHECKING:
    import onnx
    import onnxruntime  # type: ignore[import-untyped]  # no stubs published

# onnx and onnxruntime are imported when a session is first opened, not with this module: every web process
# imports the engines (the URLconf reaches them), and the two took 1.4 s and 80 MB of each one's start-up.

DEFAULT_THREADS = 2  # onnxruntime intra-op threads per session: the server shares its cores with the workers
# Idle onnxruntime threads spin by default, waiting for work. On cores shared with other processes that spinning is
# CPU taken from them: measured per MobileSAM click on 2 busy cores, 147 ms of CPU spinning vs 95 ms not (and
# 460 vs 310 ms wall).
IS_SPINNING_ALLOWED = False
# The graphs' input and output names, as onnx_export writes them (SAM's own ONNX names for the decoder).
ENCODER_INPUT, ENCODER_OUTPUT = "image", "image_embeddings"
DECODER_INPUTS = ("image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size")
DECODER_OUTPUTS = ("masks", "iou_predictions", "low_res_masks")
# What the server and the browser run of it: the low-resolution logits, without the graph's upscaling of all four
# tokens to the region's size (masks.py upscales the one shown, where it can be); `orig_im_size` then goes unused.
DECODER_RUN_OUTPUTS = ("iou_predictions", "low_res_masks")
DECODER_UNUSED_INPUT = "orig_im_size"
SINGLE_TOKEN = 0  # the decoder's first mask token is SAM's single-mask answer; tokens 1-3 its multimask answers
MULTIMASK_TOKENS = (1, 2, 3)


@dataclass(frozen=True)
class ImageEmbedding:
    """What the encoder saw: a region of an image, and SAM's embedding of it."""

    embedding: np.ndarray  # float16 (1, 256, 64, 64): half the bytes of float32, for the cache and the browser
    offset: tuple[int, int]  # (x, y) image px of the region's top-left pixel
    region_shape: tuple[int, int]  # (height, width) px of the region
    image_shape: tuple[int, int]  # (height, width) px of the whole image

    @cached_property
    def float32(self) -> np.ndarray:
        """The decoder's input, converted once per embedding (4 MB), not once per click."""
        return self.embedding.astype(np.float32)

    def __post_init__(self) -> None:
        if self.embedding.shape != EMBEDDING_SHAPE or self.embedding.dtype != np.float16:
            raise ValueError(
                f"an embedding is float16 {EMBEDDING_SHAPE}, not {self.embedding.dtype} {self.embedding.shape}"
            )
        x, y = self.offset
        height, width = self.region_shape
        if (
            x < 0
            or y < 0
            or height < 1
            or width < 1
            or y + height > self.image_shape[0]
            or x + width > self.image_shape[1]
        ):
            raise ValueError(f"region {width}x{height} at {self.offset} leaves the image {self.image_shape}")

    @property
    def scale(self) -> float:
        """Encoder-input px per region px (SAM resized the region's longest side to 1024)."""
        return IMAGE_SIDE_PX / max(self.region_shape)


@dataclass(frozen=True)
class Decoded:
    """SAM's answers to one prompt, over the encoded region: the decoder's low-resolution logits, upscaled to
    region-size masks only when asked (masks.py: the graph no longer does it for all four tokens)."""

    scores: np.ndarray  # float32 (3,): SAM's predicted IoU of each multimask answer with the defect, 0..1, uncalibrated
    best_index: int  # the multimask answer with the highest score
    single_score: float  # SAM's predicted IoU of its single-mask answer (mask token 0)
    low_res_logits: np.ndarray  # float32 (4, 256, 256): token 0 then the three multimask answers
    is_ambiguous: bool  # one click and no box: the prompt could mean a whole or a part
    offset: tuple[int, int]  # (x, y) image px of the region's top-left pixel
    region_shape: tuple[int, int]  # (height, width) px of the encoded region
    image_shape: tuple[int, int]  # (height, width) px of the whole image

    @cached_property
    def masks(self) -> np.ndarray:
        """bool (3, region height, region width): the three multimask answers (SAM's whole/part/subpart)."""
        upscaling = upscaling_for(self.region_shape)
        return np.stack([upscaling.full_mask(self.low_res_logits[token]) for token in MULTIMASK_TOKENS])

    @cached_property
    def single_mask(self) -> np.ndarray:
        """bool (region height, region width): SAM's single-mask answer (mask token 0)."""
        return upscaling_for(self.region_shape).full_mask(self.low_res_logits[SINGLE_TOKEN])

    @property
    def suggestion_token(self) -> int:
        """The mask token to show, as SAM's authors use the outputs: for an ambiguous prompt (one click) the best of
        the three multimask answers, else (several clicks, a box) the single-mask answer, which SAM trained for
        prompts that say enough."""
        return 1 + self.best_index if self.is_ambiguous else SINGLE_TOKEN

    @property
    def suggestion_score(self) -> float:
        return float(self.scores[self.best_index]) if self.is_ambiguous else self.single_score

    def suggestion(self) -> tuple[np.ndarray, float]:
        """The mask to show (over the whole region) and its score."""
        if self.is_ambiguous:
            return self.masks[self.best_index], self.suggestion_score
        return self.single_mask, self.suggestion_score

    def suggestion_window(self) -> tuple[np.ndarray, tuple[int, int]]:
        """The suggestion's mask over the smallest window that holds it, and the window's top-left (x, y) in
        *image* px: what an outline needs, upscaled only there (an empty (0, 0) mask when SAM found nothing)."""
        mask, window = upscaling_for(self.region_shape).mask(self.low_res_logits[self.suggestion_token])
        x, y = self.offset
        return mask, (x, y) if window is None else (x + window[0], y + window[1])

    def mask_input(self) -> np.ndarray:
        """The suggestion's low-resolution logits (1, 1, 256, 256), to pass as `mask_input` with the next click on
        the same embedding: SAM refines its previous answer rather than starting over."""
        return cast(np.ndarray, self.low_res_logits[self.suggestion_token][None, None].copy())

    def full_mask(self, mask: np.ndarray) -> np.ndarray:
        """A region mask (one of `masks`, or the suggestion's) as a bool mask of the whole image."""
        full = np.zeros(self.image_shape, dtype=bool)
        x, y = self.offset
        full[y : y + mask.shape[0], x : x + mask.shape[1]] = mask
        return full


class SamEncoder:
    def __init__(self, encoder_path: str | Path, *, threads: int = DEFAULT_THREADS) -> None:
        self.session = onnx_session(encoder_path, threads=threads)

    def encode(
        self, region: np.ndarray, *, offset: tuple[int, int] = (0, 0), image_shape: tuple[int, int] | None = None
    ) -> ImageEmbedding:
        """Embed `region`: a uint8 grey (H, W) or RGB (H, W, 3) image, or a crop of one whose top-left pixel is at
        `offset` (x, y) in an image of `image_shape` (height, width); by default the region is the whole image."""
        pixels = image_preprocess(region)
        region_shape = (int(region.shape[0]), int(region.shape[1]))
        embedding = self.session.run([ENCODER_OUTPUT], {ENCODER_INPUT: pixels})[0]
        return ImageEmbedding(
            embedding=embedding.astype(np.float16),
            offset=(int(offset[0]), int(offset[1])),
            region_shape=region_shape,
            image_shape=region_shape if image_shape is None else (int(image_shape[0]), int(image_shape[1])),
        )


class SamDecoder:
    """The fp32 decoder, or the int8 one (smaller, for the browser; on the server the fp32 one is as fast)."""

    def __init__(self, decoder_path: str | Path, *, threads: int = DEFAULT_THREADS) -> None:
        import onnx

        self.session = onnx_session(decoder_pruned(onnx.load(str(decoder_path))), threads=threads)
        self._inputs = {value.name for value in self.session.get_inputs()}

    def decode(
        self,
        embedding: ImageEmbedding,
        *,
        positive_clicks: tuple[Point, ...] = (),
        negative_clicks: tuple[Point, ...] = (),
        box: Box | None = None,
        mask_input: np.ndarray | None = None,
    ) -> Decoded:
        """SAM's masks for the prompt, all coordinates in whole-image px ((x, y) of a pixel; a box (x0, y0, x1, y1)
        inclusive). `mask_input`: a previous answer's `mask_input()` (or transforms.mask_input_from_mask), for
        this same embedding. Raises ValueError for an empty prompt or one outside the encoded region."""
        if box is None and not positive_clicks:
            raise ValueError("a SAM prompt needs a box or a positive click")
        x, y = embedding.offset
        positive = tuple(_into_region((px - x, py - y), embedding) for px, py in positive_clicks)
        negative = tuple(_into_region((px - x, py - y), embedding) for px, py in negative_clicks)
        region_box = None
        if box is not None:
            top_left = _into_region((box[0] - x, box[1] - y), embedding)
            bottom_right = _into_region((box[2] - x, box[3] - y), embedding)
            region_box = (*top_left, *bottom_right)
        coords, labels = prompt_arrays(
            positive_clicks=positive, negative_clicks=negative, box=region_box, region_shape=embedding.region_shape
        )
        has_mask_input = mask_input is not None
        if mask_input is None:
            mask_input = np.zeros((1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), np.float32)
        elif mask_input.shape != (1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX):
            raise ValueError(f"a mask input is (1, 1, 256, 256) logits, not {mask_input.shape}")
        feeds = {
            "image_embeddings": embedding.float32,
            "point_coords": coords,
            "point_labels": labels,
            "mask_input": mask_input.astype(np.float32, copy=False),
            "has_mask_input": np.array([1.0 if has_mask_input else 0.0], np.float32),
            DECODER_UNUSED_INPUT: np.array(embedding.region_shape, np.float32),
        }
        scores, low_res_logits = self.session.run(
            list(DECODER_RUN_OUTPUTS), {name: value for name, value in feeds.items() if name in self._inputs}
        )
        multimask_scores = scores[0, 1:].astype(np.float32)
        return Decoded(
            scores=multimask_scores,
            best_index=int(np.argmax(multimask_scores)),
            single_score=float(scores[0, SINGLE_TOKEN]),
            low_res_logits=low_res_logits[0],
            is_ambiguous=box is None and len(positive_clicks) == 1 and not negative_clicks,
            offset=embedding.offset,
            region_shape=embedding.region_shape,
            image_shape=embedding.image_shape,
        )


def decoder_pruned(model: onnx.ModelProto) -> onnx.ModelProto:
    """SAM's decoder graph cut after its low-resolution logits (DECODER_RUN_OUTPUTS): the same model when it ends
    there already (an install's int8 file), else the part of it those outputs need. Measured with MobileSAM, the
    cut-off upscaling was a fifth of the decoder's time natively."""
    import onnx.utils

    if {output.name for output in model.graph.output} == set(DECODER_RUN_OUTPUTS):
        return model
    inputs = [value.name for value in model.graph.input if value.name != DECODER_UNUSED_INPUT]
    return onnx.utils.Extractor(model).extract_model(inputs, list(DECODER_RUN_OUTPUTS))


def _into_region(point: Point, embedding: ImageEmbedding) -> Point:
    """A region-px point, checked to lie on a pixel of the region (half a pixel of slack on each side, the
    pixel's own extent)."""
    height, width = embedding.region_shape
    if not (-0.5 <= point[0] < width - 0.5 and -0.5 <= point[1] < height - 0.5):
        x, y = embedding.offset
        raise ValueError(
            f"point ({point[0] + x}, {point[1] + y}) is outside the encoded region {width}x{height} at "
            f"{embedding.offset}: SAM saw nothing there"
        )
    return float(point[0]), float(point[1])


def onnx_session(
    model: str | Path | onnx.ModelProto, *, threads: int = DEFAULT_THREADS
) -> onnxruntime.InferenceSession:
    import onnx
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if IS_SPINNING_ALLOWED else "0")
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
