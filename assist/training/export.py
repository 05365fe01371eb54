"""ONNX export of a trained network (fp32, and int8 by onnxruntime quantization), the parity check against
PyTorch, and `Predictor`: the onnxruntime inference used to deploy it.

The ONNX graph is `ProbabilityNet`: input "grey" float32 (N, 1, H, W) with values 0..255, H and W any multiples
of 32 (dynamic axes); outputs "probabilities" (N, K + 1, H, W) and "image_probability" (N, 1). The file carries
its defect classes and decision rule in its metadata, so a Predictor needs nothing else.
"""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime  # type: ignore[import-untyped]  # no stubs published
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static  # type: ignore[import-untyped]

from assist.training.decision import DefectDecision, decision_apply
from assist.training.inference import ProbabilityNet, torch_run
from assist.training.model import SegmentationNet
from assist.training.tiling import SIZE_MULTIPLE_PX, pad_to_multiple, probabilities_predict

ONNX_OPSET = 17
EXPORT_SIZE_PX = 256  # the traced example's side; any multiple of 32 runs afterwards
METADATA_CLASSES = "defectlab.defect_classes"  # JSON list, in class-index order (index i + 1)
METADATA_DECISION = "defectlab.decision"  # DefectDecision JSON
METADATA_HAS_IMAGE_HEAD = "defectlab.has_image_head"  # "true": the image probability is a trained head
CALIBRATION_SIDE_PX = 320  # static int8: calibration images are padded/cropped to this square


def onnx_export(
    net: SegmentationNet, path: Path | str, *, defect_classes: Sequence[str], decision: DefectDecision | None
) -> Path:
    """Write the fp32 ONNX graph of `net` with its metadata to `path`."""
    path = Path(path)
    probability_net = ProbabilityNet(net.cpu().eval()).eval()
    example = torch.zeros(1, 1, EXPORT_SIZE_PX, EXPORT_SIZE_PX)
    torch.onnx.export(
        probability_net,
        (example,),
        str(path),
        input_names=["grey"],
        output_names=["probabilities", "image_probability"],
        dynamic_axes={
            "grey": {0: "batch", 2: "height", 3: "width"},
            "probabilities": {0: "batch", 2: "height", 3: "width"},
            "image_probability": {0: "batch"},
        },
        opset_version=ONNX_OPSET,
        dynamo=False,  # the TorchScript exporter: dynamic H/W through smp's interpolations works there
    )
    _metadata_write(path, defect_classes=defect_classes, decision=decision, has_image_head=net.has_image_head)
    return path


def _metadata_write(
    path: Path, *, defect_classes: Sequence[str], decision: DefectDecision | None, has_image_head: bool
) -> None:
    model = onnx.load(str(path))
    values = {METADATA_CLASSES: json.dumps(list(defect_classes)), METADATA_HAS_IMAGE_HEAD: json.dumps(has_image_head)}
    if decision is not None:
        values[METADATA_DECISION] = decision.to_json()
    del model.metadata_props[:]
    for key, value in values.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def _metadata_read(path: Path) -> dict[str, str]:
    return {prop.key: prop.value for prop in onnx.load(str(path), load_external_data=False).metadata_props}


class _Calibration(CalibrationDataReader):
    def __init__(self, images: Sequence[np.ndarray]) -> None:
        self.inputs = iter([{"grey": _square(image)[None, None].astype(np.float32)} for image in images])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.inputs, None)


def _square(image: np.ndarray) -> np.ndarray:
    padded = pad_to_multiple(image)
    if min(padded.shape) < CALIBRATION_SIDE_PX:
        padded = np.pad(padded, [(0, max(CALIBRATION_SIDE_PX - side, 0)) for side in padded.shape], mode="reflect")
    return padded[:CALIBRATION_SIDE_PX, :CALIBRATION_SIDE_PX]


def onnx_quantize_int8(
    fp32_path: Path | str, int8_path: Path | str, *, calibration_images: Sequence[np.ndarray] | None = None
) -> Path:
    """int8 weights: static QDQ (activations too, ranges from `calibration_images`, e.g. training images) when
    images are given, else dynamic (weights only; onnxruntime turns convolutions into ConvInteger)."""
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    if calibration_images:
        quantize_static(
            str(fp32_path),
            str(int8_path),
            _Calibration(calibration_images),
            quant_format=QuantFormat.QDQ,
            per_channel=True,  # depthwise convolutions have very different ranges per channel
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    else:
        quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QUInt8)
    metadata = _metadata_read(fp32_path)
    model = onnx.load(str(int8_path))
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(int8_path))
    return int8_path


@dataclass(frozen=True)
class PredictorOutput:
    mask: np.ndarray  # uint8 (H, W): 0 background, i + 1 for defect class i; only regions that passed
    is_defective: bool  # the image-level decision: some region passed its minimum size and the threshold
    score: float  # the image's highest region score, 0..1
    inference_ms: float  # network and tiling, wall clock
    inference_cpu_ms: float  # the same, CPU time of this process: what it costs on an idle machine


class Predictor:
    """onnxruntime inference of an exported model on grey uint8 images of any size."""

    def __init__(self, path: Path | str, *, threads: int = 1, decision: DefectDecision | None = None) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # shared CPUs: more threads spin against other work
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.defect_classes: list[str] = json.loads(metadata[METADATA_CLASSES])
        self.has_image_head = json.loads(metadata.get(METADATA_HAS_IMAGE_HEAD, "false"))
        stored = DefectDecision.from_json(metadata[METADATA_DECISION]) if METADATA_DECISION in metadata else None
        self.decision = decision or stored or DefectDecision(min_area_px=(0.0,) * len(self.defect_classes))

    def run(self, window: np.ndarray) -> tuple[np.ndarray, float]:
        """One padded window (multiple of 32 a side): class probabilities (C, h, w) and the image probability."""
        if window.shape[0] % SIZE_MULTIPLE_PX or window.shape[1] % SIZE_MULTIPLE_PX:
            raise ValueError(f"window {window.shape} is not a multiple of {SIZE_MULTIPLE_PX}")
        probabilities, image_probability = self.session.run(None, {"grey": window[None, None].astype(np.float32)})
        return probabilities[0], float(image_probability[0, 0])

    def probabilities(self, image: np.ndarray, *, flip: bool = False) -> tuple[np.ndarray, float]:
        return probabilities_predict(image, self.run, flip=flip)

    def predict(self, image: np.ndarray, *, flip: bool = False) -> PredictorOutput:
        started, started_cpu = time.perf_counter(), time.process_time()
        probabilities, image_probability = self.probabilities(image, flip=flip)
        elapsed_ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        mask, score = decision_apply(probabilities, image_probability if self.has_image_head else None, self.decision)
        return PredictorOutput(
            mask=mask, is_defective=bool(mask.any()), score=score, inference_ms=elapsed_ms, inference_cpu_ms=cpu_ms
        )


def parity_check(net: SegmentationNet, onnx_path: Path | str, images: Sequence[np.ndarray]) -> dict[str, float]:
    """PyTorch vs onnxruntime on the same images: the largest absolute difference of any class probability and
    the share of pixels whose most probable class agrees."""
    predictor = Predictor(onnx_path)
    run = torch_run(net.cpu().eval(), torch.device("cpu"))
    max_difference, agreeing, total = 0.0, 0, 0
    for image in images:
        expected, _ = probabilities_predict(image, run)
        actual, _ = predictor.probabilities(image)
        max_difference = max(max_difference, float(np.abs(expected - actual).max()))
        agreeing += int((expected.argmax(axis=0) == actual.argmax(axis=0)).sum())
        total += image.size
    return {"max_abs_probability_difference": max_difference, "mask_agreement": agreeing / max(total, 1)}
