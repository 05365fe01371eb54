"""PyTorch inference on whole images, and the validation step of training: predict, calibrate the image-level
decision on the validation images, evaluate. The onnxruntime Predictor (export.py) runs the same tiling and the
same decision, so its figures are comparable."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from assist.training.decision import DefectDecision, Regions, decision_calibrate, regions_score
from assist.training.evaluate import Truth, evaluate
from assist.training.model import INPUT_MEAN, INPUT_STD, SegmentationNet
from assist.training.samples import Sample
from assist.training.tiling import Run, probabilities_predict


class ProbabilityNet(nn.Module):
    """The deployed function: grey pixels in, probabilities out. Input float (N, 1, H, W) with values 0..255
    (H, W multiples of 32); outputs class probabilities (N, K + 1, H, W) and the image defect probability (N, 1)."""

    def __init__(self, net: SegmentationNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, grey: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        normalised = (grey / 255.0 - INPUT_MEAN) / INPUT_STD
        mask_logits, image_logit = self.net(normalised.expand(-1, 3, -1, -1))
        return torch.softmax(mask_logits, dim=1), torch.sigmoid(image_logit)


def torch_run(net: SegmentationNet, device: torch.device) -> Run:
    probability_net = ProbabilityNet(net).eval()

    @torch.inference_mode()
    def run(window: np.ndarray) -> tuple[np.ndarray, float]:
        grey = torch.from_numpy(window).to(device=device, dtype=torch.float32)[None, None]
        probabilities, image_probability = probability_net(grey)
        return probabilities[0].float().cpu().numpy(), float(image_probability[0, 0])

    return run


@dataclass(frozen=True)
class Prediction:
    regions: Regions  # the scored regions (minimum size applied), before the threshold
    inference_ms: float  # wall clock of the network and tiling, without post-processing


def predictions_make(
    run: Run, samples: Sequence[Sample], min_area_px: Sequence[float], *, flip: bool, has_image_head: bool
) -> list[Prediction]:
    predictions = []
    for sample in samples:
        started = time.perf_counter()
        probabilities, image_probability = probabilities_predict(sample.image, run, flip=flip)
        elapsed_ms = (time.perf_counter() - started) * 1000
        regions = regions_score(probabilities, image_probability if has_image_head else None, min_area_px)
        predictions.append(Prediction(regions=regions, inference_ms=elapsed_ms))
    return predictions


def predictions_evaluate(
    predictions: Sequence[Prediction],
    samples: Sequence[Sample],
    defect_classes: Sequence[str],
    decision: DefectDecision,
) -> dict[str, Any]:
    masks = [prediction.regions.mask(decision.score_threshold) for prediction in predictions]
    truths = [
        Truth(image_id=sample.image_id, mask=sample.mask, is_defect_free=sample.is_defect_free) for sample in samples
    ]
    metrics = evaluate(
        truths,
        masks,
        defect_classes,
        min_area_px=decision.min_area_px,
        inference_ms=[prediction.inference_ms for prediction in predictions],
    )
    metrics["score_threshold"] = decision.score_threshold
    return metrics


def validate(
    net: SegmentationNet,
    samples_val: Sequence[Sample],
    defect_classes: Sequence[str],
    min_area_px: Sequence[float],
    *,
    false_alarm_target: float,
    flip: bool,
    device: torch.device,
) -> tuple[dict[str, Any], DefectDecision]:
    """Metrics on the validation images with the decision rule calibrated on those same images."""
    was_training = net.training
    net.eval()
    try:
        predictions = predictions_make(
            torch_run(net, device), samples_val, min_area_px, flip=flip, has_image_head=net.has_image_head
        )
    finally:
        net.train(was_training)
    decision = decision_calibrate(
        [prediction.regions for prediction in predictions],
        samples_val,
        min_area_px,
        false_alarm_target=false_alarm_target,
    )
    return predictions_evaluate(predictions, samples_val, defect_classes, decision), decision


def hard_negative_points(
    net: SegmentationNet, samples: Sequence[Sample], device: torch.device, *, probability_threshold: float, limit: int
) -> dict[int, np.ndarray]:
    """index -> (n, 2) (row, column) points of defect-free `samples` where the network's defect probability
    reaches the threshold (at most `limit` per image, evenly picked): where the next crops should look."""
    was_training = net.training
    net.eval()
    run = torch_run(net, device)
    points: dict[int, np.ndarray] = {}
    try:
        for index, sample in enumerate(samples):
            if not sample.is_defect_free:
                continue
            probabilities, _ = probabilities_predict(sample.image, run)
            rows, columns = np.nonzero(1 - probabilities[0] >= probability_threshold)
            if len(rows):
                pick = np.linspace(0, len(rows) - 1, num=min(limit, len(rows))).astype(int)
                points[index] = np.stack([rows[pick], columns[pick]], axis=1)
    finally:
        net.train(was_training)
    return points
