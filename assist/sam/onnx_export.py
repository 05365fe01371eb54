"""A loaded SAM model -> three ONNX files beside its checkpoint, and a parity report against PyTorch.

- encoder (`<checkpoint stem>.encoder.onnx`): input "image" float32 (1, 3, 1024, 1024), already resized, normalised
  and padded (transforms.image_preprocess); output "image_embeddings" float32 (1, 256, 64, 64). Fixed shapes: SAM
  only ever sees its 1024 px square.
- decoder (`.decoder.onnx`): SAM's own export wrapper `SamOnnxModel` (prompt encoder, mask decoder and mask
  upscaling), with every mask token returned (`return_single_mask=False`): inputs "image_embeddings",
  "point_coords" (1, N, 2) and "point_labels" (1, N) with N dynamic, "mask_input" (1, 1, 256, 256),
  "has_mask_input" (1,), "orig_im_size" (2,) float32 (height, width); outputs "masks" (1, 4, H, W) logits at
  orig_im_size, "iou_predictions" (1, 4), "low_res_masks" (1, 4, 256, 256). Token 0 is SAM's single-mask answer,
  tokens 1-3 its three multimask answers (runtime.SamDecoder picks them apart). The mask decoder is exported as
  decoder_graph.decoder_for_export rewrites it (the same function, ~30% less onnxruntime time); parity_check
  compares the file with the original PyTorch model.
- decoder int8 (`.decoder.int8.onnx`): the decoder with weights dynamically quantized to QUInt8, ~4x smaller, for
  the browser (onnxruntime-web) where the download size counts; cut after its low-resolution outputs
  (runtime.DECODER_RUN_OUTPUTS, without "orig_im_size"): the browser upscales the answer it shows itself, as the
  server does (masks.py), instead of the graph upscaling all four tokens in wasm.

Export uses the TorchScript exporter (`dynamo=False`, opset 17): SAM's wrapper traces there, with the dynamic point
count; files are written under a temporary name and renamed, so a half-written file never looks installed.
Tried here with MobileSAM (vit_t) only. ViT-H's encoder is over protobuf's 2 GB, so its weights would go to
external data files beside the .onnx: untried.

The fp32 file keeps SAM's whole graph (its upscaling of the 4 masks to `orig_im_size`, 16 bytes per region pixel),
so that parity is checked against SAM's own wrapper; runtime.SamDecoder cuts it at the low-resolution logits when it
loads it, and masks.py upscales the answer shown, over its window only.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]

from assist.sam.decoder_graph import decoder_for_export
from assist.sam.masks import upscaling_for
from assist.sam.runtime import (
    DECODER_INPUTS,
    DECODER_OUTPUTS,
    DECODER_RUN_OUTPUTS,
    DECODER_UNUSED_INPUT,
    ENCODER_INPUT,
    ENCODER_OUTPUT,
    decoder_pruned,
    onnx_session,
)
from assist.sam.transforms import EMBEDDING_SHAPE, IMAGE_SIDE_PX, LOW_RES_SIDE_PX, image_preprocess, prompt_arrays

ONNX_OPSET = 17
PARITY_IMAGE_SHAPE = (600, 800)  # (height, width) px: not square, so the resize and the crop back are exercised
PARITY_SEED = 0
# Parity bounds that an install must meet. Measured with random MobileSAM weights: encoder 6e-6, decoder 5e-6,
# int8 mask agreement 0.994. The fp32 bounds leave 100x room because float32 rounding grows with the values, and
# trained weights give larger activations and logits (of order 10) than random ones (of order 1).
ENCODER_MAX_ABS_DIFF = 1e-3  # fp32 ONNX vs PyTorch, embedding units
DECODER_MAX_ABS_DIFF = 1e-3  # fp32 ONNX vs PyTorch, mask logits, IoU predictions and low-res logits
DECODER_INT8_MIN_MASK_AGREEMENT = 0.95  # share of mask pixels on the same side of the threshold as PyTorch's


@dataclass(frozen=True)
class SamOnnxFiles:
    encoder: Path
    decoder: Path
    decoder_int8: Path


@dataclass(frozen=True)
class ParityReport:
    encoder_max_abs_diff: float  # embedding, fp32 ONNX vs PyTorch
    decoder_max_abs_diff: float  # mask logits, IoU predictions and low-res logits, fp32 ONNX vs PyTorch
    decoder_int8_max_abs_diff: float  # IoU predictions, low-res logits, int8 vs PyTorch (informative: quantization)
    decoder_int8_iou_max_abs_diff: float  # predicted IoU scores, int8 vs PyTorch
    decoder_int8_mask_agreement: float  # share of pixels thresholded alike, int8 vs PyTorch, 0..1

    @property
    def is_within_bounds(self) -> bool:
        return (
            self.encoder_max_abs_diff <= ENCODER_MAX_ABS_DIFF
            and self.decoder_max_abs_diff <= DECODER_MAX_ABS_DIFF
            and self.decoder_int8_mask_agreement >= DECODER_INT8_MIN_MASK_AGREEMENT
        )


@dataclass(frozen=True)
class ExportReport:
    files: SamOnnxFiles
    parity: ParityReport
    export_seconds: float
    parity_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "encoder": str(self.files.encoder),
            "decoder": str(self.files.decoder),
            "decoder_int8": str(self.files.decoder_int8),
            "size_bytes": {name: path.stat().st_size for name, path in vars(self.files).items()},
            "encoder_max_abs_diff": self.parity.encoder_max_abs_diff,
            "decoder_max_abs_diff": self.parity.decoder_max_abs_diff,
            "decoder_int8_max_abs_diff": self.parity.decoder_int8_max_abs_diff,
            "decoder_int8_iou_max_abs_diff": self.parity.decoder_int8_iou_max_abs_diff,
            "decoder_int8_mask_agreement": self.parity.decoder_int8_mask_agreement,
            "is_within_bounds": self.parity.is_within_bounds,
            "export_seconds": round(self.export_seconds, 1),
            "parity_seconds": round(self.parity_seconds, 1),
        }


def onnx_files_for(checkpoint_path: Path | str) -> SamOnnxFiles:
    """Where the ONNX files of a checkpoint live: beside it, named after it (one folder per installed model)."""
    checkpoint_path = Path(checkpoint_path)
    stem = checkpoint_path.parent / checkpoint_path.stem
    return SamOnnxFiles(
        encoder=Path(f"{stem}.encoder.onnx"),
        decoder=Path(f"{stem}.decoder.onnx"),
        decoder_int8=Path(f"{stem}.decoder.int8.onnx"),
    )


def sam_onnx_export(model: torch.nn.Module, files: SamOnnxFiles) -> ExportReport:
    """Export `model` (from checkpoints.checkpoint_load) to `files`, then check each file against PyTorch."""
    started = time.perf_counter()
    encoder_export(model, files.encoder)
    decoder_export(model, files.decoder)
    decoder_quantize(files.decoder, files.decoder_int8)
    exported = time.perf_counter()
    parity = parity_check(model, files)
    return ExportReport(files, parity, exported - started, time.perf_counter() - exported)


def encoder_export(model: torch.nn.Module, path: Path) -> Path:
    example = torch.zeros(1, 3, IMAGE_SIDE_PX, IMAGE_SIDE_PX)
    with _written_then_renamed(path) as partial, torch.no_grad():
        torch.onnx.export(
            model.get_submodule("image_encoder").eval(),
            (example,),
            str(partial),
            input_names=[ENCODER_INPUT],
            output_names=[ENCODER_OUTPUT],
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    return path


def decoder_export(model: torch.nn.Module, path: Path) -> Path:
    example = _decoder_example(model, num_points=3)
    with _written_then_renamed(path) as partial:
        torch.onnx.export(
            _decoder_wrapper(decoder_for_export(model)),
            tuple(torch.from_numpy(example[name]) for name in DECODER_INPUTS),
            str(partial),
            input_names=list(DECODER_INPUTS),
            output_names=list(DECODER_OUTPUTS),
            dynamic_axes={
                "point_coords": {1: "num_points"},
                "point_labels": {1: "num_points"},
                "masks": {2: "height", 3: "width"},
            },
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    return path


def decoder_quantize(decoder_path: Path, int8_path: Path) -> Path:
    """Weights to unsigned 8-bit, activations quantized on the fly (no calibration images needed: SAM's own
    recipe for its browser demo), then cut after the low-resolution outputs (runtime.decoder_pruned)."""
    with _written_then_renamed(int8_path) as partial:
        quantize_dynamic(
            str(decoder_path), str(partial), per_channel=False, reduce_range=False, weight_type=QuantType.QUInt8
        )
        onnx.save(decoder_pruned(onnx.load(str(partial))), str(partial))
    return int8_path


def parity_check(model: torch.nn.Module, files: SamOnnxFiles, *, seed: int = PARITY_SEED) -> ParityReport:
    """Each ONNX file against PyTorch on a random grey image and two prompts (a click; clicks, a box and a mask
    input), as max abs differences. Random input is enough: parity is about the graph, not the weights' quality."""
    generator = np.random.default_rng(seed)
    image = generator.integers(0, 256, size=PARITY_IMAGE_SHAPE, dtype=np.uint8)
    pixels = image_preprocess(image)
    with torch.no_grad():
        embedding = model.get_submodule("image_encoder")(torch.from_numpy(pixels)).numpy()
    onnx_embedding = onnx_session(files.encoder).run(None, {ENCODER_INPUT: pixels})[0]
    encoder_diff = float(np.abs(onnx_embedding - embedding).max())

    wrapper = _decoder_wrapper(model)
    decoder, decoder_int8 = onnx_session(files.decoder), onnx_session(files.decoder_int8)
    upscaling = upscaling_for(PARITY_IMAGE_SHAPE)
    decoder_diff = int8_diff = int8_iou_diff = 0.0
    agreeing = pixels_compared = 0
    for inputs in _parity_prompts(embedding, generator):
        with torch.no_grad():
            expected = [
                output.numpy() for output in wrapper(*(torch.from_numpy(inputs[name]) for name in DECODER_INPUTS))
            ]
        actual = decoder.run(None, inputs)
        # The int8 graph ends at the low-resolution logits: its masks are upscaled as the browser upscales them.
        int8_inputs = {name: value for name, value in inputs.items() if name != DECODER_UNUSED_INPUT}
        int8_scores, int8_low_res = decoder_int8.run(list(DECODER_RUN_OUTPUTS), int8_inputs)
        int8_masks = np.stack([upscaling.full_mask(logits) for logits in int8_low_res[0]])
        decoder_diff = max(decoder_diff, *(float(np.abs(a - e).max()) for a, e in zip(actual, expected, strict=True)))
        int8_diff = max(
            int8_diff,
            *(float(np.abs(a - e).max()) for a, e in zip((int8_scores, int8_low_res), expected[1:], strict=True)),
        )
        int8_iou_diff = max(int8_iou_diff, float(np.abs(int8_scores - expected[1]).max()))
        agreeing += int((int8_masks == (expected[0][0] > 0)).sum())
        pixels_compared += expected[0].size
    return ParityReport(encoder_diff, decoder_diff, int8_diff, int8_iou_diff, agreeing / pixels_compared)


def _parity_prompts(embedding: np.ndarray, generator: np.random.Generator) -> list[dict[str, np.ndarray]]:
    height, width = PARITY_IMAGE_SHAPE
    click = prompt_arrays(
        positive_clicks=((width * 0.4, height * 0.5),), negative_clicks=(), box=None, region_shape=PARITY_IMAGE_SHAPE
    )
    box = prompt_arrays(
        positive_clicks=((width * 0.5, height * 0.5),),
        negative_clicks=((width * 0.6, height * 0.55),),
        box=(width * 0.3, height * 0.3, width * 0.7, height * 0.8),
        region_shape=PARITY_IMAGE_SHAPE,
    )
    mask_input = generator.normal(0.0, 5.0, size=(1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX)).astype(np.float32)
    return [
        _decoder_inputs(embedding, *click, mask_input=None, region_shape=PARITY_IMAGE_SHAPE),
        _decoder_inputs(embedding, *box, mask_input=mask_input, region_shape=PARITY_IMAGE_SHAPE),
    ]


def _decoder_inputs(
    embedding: np.ndarray,
    point_coords: np.ndarray,
    point_labels: np.ndarray,
    *,
    mask_input: np.ndarray | None,
    region_shape: tuple[int, int],
) -> dict[str, np.ndarray]:
    return {
        "image_embeddings": embedding.astype(np.float32),
        "point_coords": point_coords,
        "point_labels": point_labels,
        "mask_input": np.zeros((1, 1, LOW_RES_SIDE_PX, LOW_RES_SIDE_PX), np.float32)
        if mask_input is None
        else mask_input,
        "has_mask_input": np.array([0.0 if mask_input is None else 1.0], np.float32),
        "orig_im_size": np.array(region_shape, np.float32),
    }


def _decoder_example(model: torch.nn.Module, *, num_points: int) -> dict[str, np.ndarray]:
    generator = np.random.default_rng(PARITY_SEED)
    coords = generator.integers(0, IMAGE_SIDE_PX, size=(1, num_points, 2)).astype(np.float32)
    labels = generator.integers(0, 4, size=(1, num_points)).astype(np.float32)
    embedding = generator.normal(size=EMBEDDING_SHAPE).astype(np.float32)
    return _decoder_inputs(embedding, coords, labels, mask_input=None, region_shape=(1500, 2250))


def _decoder_wrapper(model: torch.nn.Module) -> torch.nn.Module:
    # The wrapper of the package the model comes from: mobile_sam's differs from Meta's in one cast, its own fix.
    if type(model).__module__.startswith("mobile_sam"):
        from mobile_sam.utils.onnx import SamOnnxModel  # type: ignore[import-untyped]
    else:
        from segment_anything.utils.onnx import SamOnnxModel  # type: ignore[import-untyped]
    return cast(torch.nn.Module, SamOnnxModel(model, return_single_mask=False).eval())


class _written_then_renamed:
    """`with _written_then_renamed(path) as partial:` write `partial`; on success it becomes `path`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return self.partial

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if error_type is None:
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)
