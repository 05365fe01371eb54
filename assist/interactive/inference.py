"""From an engine Prompt on a whole image to a mask: crop around what was drawn, run the network, paste back.
The network is any `Runner` (PyTorch during validation, onnxruntime when deployed), so both share this code.

The crop: the square around the box, the clicks and (without a box) the previous mask, widened by the crop
context (CropGeometry, stored with the model). Without a box a single click says nothing of the defect's size:
when the mask reaches a side of the crop that lies inside the image, the crop doubles and the network runs
again (at most MAX_GROWTHS times), as a large patch clicked once would otherwise be cut at the crop's edge.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from assist.engines.base import Prompt
from assist.interactive.network import InteractiveNet
from assist.interactive.recipe import InteractiveRecipe
from assist.interactive.window import Window, prompt_channels, window_around

Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]
"(grey uint8 (S, S), prompt float32 (4, S, S)) -> defect probability float32 (S, S)"
MAX_GROWTHS = 3  # 48 px -> 384 px: the largest images here are about 600 px
GROWTH_FACTOR = 2.0
PROBABILITY_THRESHOLD = 0.5
BOX_MARGIN_PX = 2.0


@dataclass(frozen=True)
class CropGeometry:
    """How the model crops: part of the model (ONNX metadata), as the network only knows crops made this way."""

    size: int
    context: float
    min_window_px: float
    click_radius_px: float

    @classmethod
    def of(cls, recipe: InteractiveRecipe) -> "CropGeometry":
        return cls(recipe.crop_size_px, recipe.crop_context, recipe.min_window_px, recipe.click_radius_px)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "CropGeometry":
        values: dict[str, Any] = json.loads(text)
        return cls(**values)


@dataclass(frozen=True)
class InteractiveOutput:
    mask: np.ndarray  # bool: the pasted-back crop
    offset: tuple[int, int]  # (x, y) of its top-left pixel
    score: float  # mean defect probability inside the mask (0 when empty)
    runs: int  # network runs (1 + growths)


def prompt_window(prompt: Prompt, geometry: CropGeometry, image_shape: tuple[int, int]) -> Window:
    xs = [point[0] for point in prompt.positive_clicks + prompt.negative_clicks]
    ys = [point[1] for point in prompt.positive_clicks + prompt.negative_clicks]
    if prompt.box is not None:
        xs += [prompt.box[0], prompt.box[2]]
        ys += [prompt.box[1], prompt.box[3]]
    elif prompt.previous_mask is not None and prompt.previous_mask.any():
        rows, columns = np.nonzero(prompt.previous_mask)
        xs += [float(columns.min()), float(columns.max())]
        ys += [float(rows.min()), float(rows.max())]
    return window_around(
        (min(xs), min(ys), max(xs), max(ys)),
        size=geometry.size,
        context=geometry.context,
        min_side=geometry.min_window_px,
        max_side=max(image_shape) * (1 + 2 * geometry.context),
    )


def interactive_predict(
    run: Runner,
    geometry: CropGeometry,
    image: np.ndarray,
    prompt: Prompt,
    *,
    flip: bool = False,
    box_margin: float | None = None,
) -> InteractiveOutput:
    """The defect mask for `prompt` on the grey `image`; the prompt is assumed checked (base.prompt_check).

    `flip`: average with the prediction of the mirrored crop (twice the time). `box_margin`: with a box, nothing
    is marked further outside the box and the positive clicks than this share of their extent (plus 2 px): the
    inspector's box says where the defect is."""
    if flip:
        plain_run = run

        def run(grey: np.ndarray, channels: np.ndarray) -> np.ndarray:
            mirrored = plain_run(np.ascontiguousarray(grey[:, ::-1]), np.ascontiguousarray(channels[:, :, ::-1]))
            return np.asarray((plain_run(grey, channels) + mirrored[:, ::-1]) / 2)

    window = prompt_window(prompt, geometry, image.shape)
    runs = 0
    while True:
        channels = prompt_channels(
            size=geometry.size,
            radius=geometry.click_radius_px,
            box_map=None if prompt.box is None else window.box_map(prompt.box),
            positive=[window.to_crop(point) for point in prompt.positive_clicks],
            negative=[window.to_crop(point) for point in prompt.negative_clicks],
            previous=None if prompt.previous_mask is None else window.crop_mask(prompt.previous_mask),
        )
        probability = run(window.crop(image), channels)
        runs += 1
        is_cut = prompt.box is None and window.reaches_inner_edge(probability >= PROBABILITY_THRESHOLD, image.shape)
        if not is_cut or runs > MAX_GROWTHS:
            break
        window = window.grown(GROWTH_FACTOR)
    values, offset = window.paste(probability, image.shape)
    mask = values >= PROBABILITY_THRESHOLD
    if box_margin is not None and prompt.box is not None:
        mask &= _allowed(prompt.box, prompt.positive_clicks, box_margin, offset, mask.shape)
    score = float(values[mask].mean()) if mask.any() else 0.0
    return InteractiveOutput(mask=mask, offset=offset, score=score, runs=runs)


def _allowed(
    box: tuple[float, float, float, float],
    positive_clicks: tuple[tuple[float, float], ...],
    margin: float,
    offset: tuple[int, int],
    shape: tuple[int, ...],
) -> np.ndarray:
    """bool of `shape` at `offset`: the box and positive clicks' extent widened by `margin` of it and 2 px."""
    xs = [box[0], box[2], *(point[0] for point in positive_clicks)]
    ys = [box[1], box[3], *(point[1] for point in positive_clicks)]
    pad_x, pad_y = margin * (max(xs) - min(xs) + 1) + BOX_MARGIN_PX, margin * (max(ys) - min(ys) + 1) + BOX_MARGIN_PX
    columns = np.arange(shape[1]) + offset[0]
    rows = np.arange(shape[0]) + offset[1]
    inside_x = (columns >= min(xs) - pad_x) & (columns <= max(xs) + pad_x)
    inside_y = (rows >= min(ys) - pad_y) & (rows <= max(ys) + pad_y)
    return np.asarray(inside_y[:, None] & inside_x[None, :])


def torch_runner(net: InteractiveNet, device: torch.device | None = None) -> Runner:
    """A Runner on the PyTorch network (eval mode, no gradients)."""
    device = device or torch.device("cpu")

    def run(grey: np.ndarray, channels: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            grey_tensor = torch.from_numpy(np.ascontiguousarray(grey, dtype=np.float32))[None, None].to(device)
            logits = net.eval()(grey_tensor, torch.from_numpy(channels)[None].to(device))
            return np.asarray(torch.sigmoid(logits)[0, 0].float().cpu().numpy())

    return run
