"""A tiny network whose answer is known, exported to ONNX through the training code's own export: it calls a
pixel a "blowhole" the darker it is than DARK_GREY (a logistic ramp GREY_SCALE wide) and never sees a "crack".
Its Predictor (assist/training/export.py, onnxruntime) is what label next and label-error review get from the
promoted model, so the tests run the real inference path without a trained model."""

from pathlib import Path

import torch
from torch import nn

from assist.training.decision import DefectDecision
from assist.training.export import Predictor, onnx_export
from assist.training.model import INPUT_MEAN, INPUT_STD

DEFECT_CLASSES = ["blowhole", "crack"]
DARK_GREY = 105.0  # a pixel this grey is a blowhole with probability 1/2
GREY_SCALE = 10.0  # grey levels per unit of logit: 150 (surface) is a blowhole with probability ~1 %
MIN_AREA_PX = 4.0


class DarknessNet(nn.Module):
    """The interface of assist.training.model.SegmentationNet: normalised 3-channel input, (mask logits, image
    logit); no image head."""

    has_image_head = False

    def forward(self, normalised: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        grey = (normalised[:, :1] * INPUT_STD + INPUT_MEAN) * 255.0
        blowhole = (DARK_GREY - grey) / GREY_SCALE
        surface = torch.zeros_like(blowhole)
        crack = torch.full_like(blowhole, -20.0)
        return torch.cat([surface, blowhole, crack], dim=1), torch.zeros(grey.shape[0], 1)


def darkness_predictor(directory: Path) -> Predictor:
    path = directory / "darkness.onnx"
    decision = DefectDecision(min_area_px=(MIN_AREA_PX, MIN_AREA_PX), score_threshold=0.5)
    onnx_export(DarknessNet(), path, defect_classes=DEFECT_CLASSES, decision=decision)  # type: ignore[arg-type]
    return Predictor(path)
