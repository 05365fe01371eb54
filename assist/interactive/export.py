"""ONNX export of the interactive network, the parity check against PyTorch, and the onnxruntime Runner.

The graph: inputs "grey" float32 (N, 1, H, W), values 0..255, and "prompt" float32 (N, 4, H, W), the maps of
network.PROMPT_CHANNELS; output "probability" float32 (N, 1, H, W). H and W are dynamic multiples of 32 (the
engine feeds the model's crop size). The file carries its crop geometry in its metadata, so the engine needs
nothing else: the same file runs in onnxruntime-web, with the crop and the click disks drawn in JavaScript.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime  # type: ignore[import-untyped]  # no stubs published
import torch
from torch import nn

from assist.interactive.inference import CropGeometry, Runner, torch_runner
from assist.interactive.network import PROMPT_CHANNELS, InteractiveNet

ONNX_OPSET = 17
METADATA_GEOMETRY = "defectlab.interactive.geometry"  # CropGeometry JSON
METADATA_KIND = "defectlab.model_kind"
MODEL_KIND = "interactive"


class _ProbabilityNet(nn.Module):
    def __init__(self, net: InteractiveNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, grey: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(grey, prompt))


def onnx_export(net: InteractiveNet, path: Path | str, *, geometry: CropGeometry) -> Path:
    """Write the fp32 graph of `net` with its crop geometry to `path`."""
    path = Path(path)
    size = geometry.size
    example = (torch.zeros(1, 1, size, size), torch.zeros(1, len(PROMPT_CHANNELS), size, size))
    torch.onnx.export(
        _ProbabilityNet(net.cpu().eval()).eval(),
        example,
        str(path),
        input_names=["grey", "prompt"],
        output_names=["probability"],
        dynamic_axes={name: {0: "batch", 2: "height", 3: "width"} for name in ("grey", "prompt", "probability")},
        opset_version=ONNX_OPSET,
        dynamo=False,  # the TorchScript exporter: smp's interpolations with dynamic sizes work there
    )
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in {METADATA_GEOMETRY: geometry.to_json(), METADATA_KIND: MODEL_KIND}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


class OnnxInteractiveModel:
    """An exported interactive model in onnxruntime: its crop geometry and a Runner."""

    def __init__(self, path: Path | str, *, threads: int = 1) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # shared CPUs: more threads spin against other work
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        metadata = self.session.get_modelmeta().custom_metadata_map
        if metadata.get(METADATA_KIND) != MODEL_KIND or METADATA_GEOMETRY not in metadata:
            raise ValueError(f"{path} is not an exported interactive model (no {METADATA_GEOMETRY} metadata)")
        self.geometry = CropGeometry.from_json(metadata[METADATA_GEOMETRY])

    def run(self, grey: np.ndarray, channels: np.ndarray) -> np.ndarray:
        (probability,) = self.session.run(
            None, {"grey": grey[None, None].astype(np.float32), "prompt": channels[None].astype(np.float32)}
        )
        return np.asarray(probability[0, 0])


def parity_check(
    net: InteractiveNet, onnx_path: Path | str, inputs: Sequence[tuple[np.ndarray, np.ndarray]]
) -> dict[str, float]:
    """PyTorch vs onnxruntime on the same (grey crop, prompt maps) pairs: the largest absolute probability
    difference and the share of pixels on the same side of 0.5."""
    model = OnnxInteractiveModel(onnx_path)
    run: Runner = torch_runner(net.cpu().eval())
    max_difference, agreeing, total = 0.0, 0, 0
    for grey, channels in inputs:
        expected, actual = run(grey, channels), model.run(grey, channels)
        max_difference = max(max_difference, float(np.abs(expected - actual).max()))
        agreeing += int(((expected >= 0.5) == (actual >= 0.5)).sum())
        total += expected.size
    return {"max_abs_probability_difference": max_difference, "mask_agreement": agreeing / max(total, 1)}
