"""How well an engine draws real defects from a box or from clicks: the scoring of bench/assist_quality.py (its
docstring and docs/assist-quality.md give the protocol), as a pure module so training can validate with it too.

    regions = regions_from_mask(image, defect_mask, defect_class="crack", name="crack/exp1_num_4")
    engine_score("classical", engine_get("classical"), regions)
    -> {"box_mean_iou", "per_class_iou", "noc85", "noc90", "box_noc85", "box_noc90", "regions"}
"""

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from assist.engines.base import Engine, EngineResult, GeometryKind, Point, Prompt

MAX_CLICKS = 20  # NoC's cap, as in the papers
BOX_AS_CLICKS = 2  # a box is dragged from one corner to the other: two clicks' worth of effort
IOU_THRESHOLDS = (0.85, 0.90)
LINEAR_CLASSES = {"crack"}  # drawn with geometry kind "linear"; every other class is an area
Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) image px, inclusive


@dataclass(frozen=True)
class Region:
    """One defect: one 8-connected region of a mask, and the box an inspector would drag around it."""

    defect_class: str
    name: str  # CLASS/NAME#index
    image: np.ndarray  # uint8 (H, W), shared by the regions of one image
    mask: np.ndarray  # bool (H, W): this region only
    box: Box  # the prompt (tight unless loosened)

    @property
    def geometry_kind(self) -> GeometryKind:
        return "linear" if self.defect_class in LINEAR_CLASSES else "area"


def box_loosen(box: Box, *, fraction: float, image_shape: tuple[int, int]) -> Box:
    """`box` widened by `fraction` of its width and height on each side, clipped to the image."""
    x0, y0, x1, y1 = box
    margin_x, margin_y = round(fraction * (x1 - x0 + 1)), round(fraction * (y1 - y0 + 1))
    height, width = image_shape
    return (max(x0 - margin_x, 0), max(y0 - margin_y, 0), min(x1 + margin_x, width - 1), min(y1 + margin_y, height - 1))


def regions_from_mask(
    image: np.ndarray,
    defect_mask: np.ndarray,
    *,
    defect_class: str,
    name: str,
    loosen: float = 0.0,
    max_regions: int | None = None,
) -> list[Region]:
    """The 8-connected regions of the bool `defect_mask`, in label order, each with its (loosened) bounding box."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(defect_mask.astype(np.uint8), connectivity=8)
    regions = []
    for label in range(1, count if max_regions is None else min(count, max_regions + 1)):
        x, y, width, height, _ = stats[label]
        tight = (int(x), int(y), int(x + width - 1), int(y + height - 1))
        regions.append(
            Region(
                defect_class=defect_class,
                name=f"{name}#{label}",
                image=image,
                mask=labels == label,
                box=box_loosen(tight, fraction=loosen, image_shape=image.shape),
            )
        )
    return regions


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    union = np.logical_or(first, second).sum()
    return 1.0 if union == 0 else float(np.logical_and(first, second).sum() / union)


def next_click(
    defect: np.ndarray, predicted: np.ndarray, *, rng: np.random.Generator | None = None
) -> tuple[Point, bool]:
    """The point deepest inside the larger error region, and whether it is a positive click (RITM's rule).
    Padding with background makes the image edge count as the error region's edge. Computed on the errors'
    bounding box widened by a pixel: the same distances as on the whole image, at a fraction of the cost.

    With `rng` (training, as RITM's trainer does), the point is drawn among the pixels at least half as deep as
    the deepest one, so a model does not learn to expect its corrections at one exact spot."""
    rows, columns = np.nonzero(defect ^ predicted)
    if len(rows) == 0:
        raise ValueError("no error left to click on")
    y0, x0 = max(rows.min() - 1, 0), max(columns.min() - 1, 0)
    window = np.s_[y0 : rows.max() + 2, x0 : columns.max() + 2]
    depths = []
    for error in (defect[window] & ~predicted[window], predicted[window] & ~defect[window]):
        padded = np.pad(error.astype(np.uint8), 1)
        depths.append(cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1])
    is_positive = depths[0].max() >= depths[1].max()
    depth = depths[0] if is_positive else depths[1]
    if rng is None:
        row, column = np.unravel_index(np.argmax(depth), depth.shape)
    else:
        candidates = np.argwhere(depth >= depth.max() / 2)
        row, column = candidates[rng.integers(len(candidates))]
    return (float(column + x0), float(row + y0)), bool(is_positive)


class FilledBox:
    """The baseline: the box, filled. Clicks change nothing."""

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        if prompt.box is None:
            return EngineResult(np.zeros((1, 1), bool), (0, 0), image.shape, 0.0, "box")
        x0, y0, x1, y1 = (int(value) for value in prompt.box)
        return EngineResult(np.ones((y1 - y0 + 1, x1 - x0 + 1), bool), (x0, y0), image.shape, 1.0, "box")


def clicks_to_reach(
    engine: Engine, region: Region, *, box: Box | None, max_clicks: int = MAX_CLICKS
) -> dict[float, int]:
    """Clicks needed for each IoU threshold (`max_clicks` when never reached); 0 when the box alone reaches it."""
    base = Prompt(box=box, defect_class=region.defect_class, geometry_kind=region.geometry_kind)
    predicted = engine.predict(region.image, base).full_mask() if box is not None else np.zeros_like(region.mask)
    needed = dict.fromkeys(IOU_THRESHOLDS, max_clicks)
    positive: list[Point] = []
    negative: list[Point] = []
    for clicks in range(max_clicks + 1):
        iou = mask_iou(predicted, region.mask) if clicks or box is not None else 0.0
        for threshold in IOU_THRESHOLDS:
            if iou >= threshold and needed[threshold] == max_clicks:
                needed[threshold] = clicks
        if all(value < max_clicks for value in needed.values()) or clicks == max_clicks:
            break
        point, is_positive = next_click(region.mask, predicted)
        (positive if is_positive else negative).append(point)
        prompt = Prompt(
            box=box,
            positive_clicks=tuple(positive),
            negative_clicks=tuple(negative),
            previous_mask=predicted,
            defect_class=region.defect_class,
            geometry_kind=region.geometry_kind,
        )
        if prompt.is_empty:  # a first negative click without a box: nothing to draw yet
            predicted = np.zeros_like(region.mask)
            continue
        predicted = engine.predict(region.image, prompt).full_mask()
    return needed


def engine_score(name: str, engine: Engine, regions: list[Region], *, max_clicks: int = MAX_CLICKS) -> dict[str, Any]:
    """Box IoU per class and NoC (clicks alone, and after the box) averaged over `regions`. `name` "box" is the
    filled-box baseline, whose clicks alone count the box as two clicks."""
    ious: dict[str, list[float]] = defaultdict(list)
    clicks: dict[str, list[int]] = defaultdict(list)
    for region in regions:
        prompt = Prompt(box=region.box, defect_class=region.defect_class, geometry_kind=region.geometry_kind)
        iou = mask_iou(engine.predict(region.image, prompt).full_mask(), region.mask)
        ious[region.defect_class].append(iou)
        after_box = clicks_to_reach(engine, region, box=region.box, max_clicks=max_clicks)
        if name == "box":
            alone = {threshold: BOX_AS_CLICKS if needed == 0 else max_clicks for threshold, needed in after_box.items()}
        else:
            alone = clicks_to_reach(engine, region, box=None, max_clicks=max_clicks)
        for threshold in IOU_THRESHOLDS:
            percent = round(threshold * 100)
            clicks[f"noc{percent}"].append(alone[threshold])
            clicks[f"box_noc{percent}"].append(after_box[threshold])
    every_iou = [iou for values in ious.values() for iou in values]
    return {
        "box_mean_iou": round(float(np.mean(every_iou)), 4),
        "per_class_iou": {defect_class: round(float(np.mean(values)), 4) for defect_class, values in ious.items()},
        **{key: round(float(np.mean(values)), 2) for key, values in clicks.items()},
        "regions": len(every_iou),
    }


class TimedEngine:
    """An engine that records each call's wall and CPU time, calls with clicks apart from box-only calls: the
    per-click latency the issue's targets name (crop, network, paste back)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.click_ms: list[float] = []
        self.click_cpu_ms: list[float] = []
        self.box_ms: list[float] = []

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        started, started_cpu = time.perf_counter(), time.process_time()
        result = self.engine.predict(image, prompt)
        elapsed_ms, cpu_ms = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
        if prompt.positive_clicks or prompt.negative_clicks:
            self.click_ms.append(elapsed_ms)
            self.click_cpu_ms.append(cpu_ms)
        else:
            self.box_ms.append(elapsed_ms)
        return result

    def timings(self) -> dict[str, float | None]:
        """p50s in ms: wall clock (what the inspector waits on this machine, shared) and CPU time (an idle machine);
        None where no call of that kind was made."""
        return {
            name: round(float(np.median(values)), 1) if values else None
            for name, values in (
                ("click_p50_ms", self.click_ms),
                ("click_p50_cpu_ms", self.click_cpu_ms),
                ("box_p50_ms", self.box_ms),
            )
        }
