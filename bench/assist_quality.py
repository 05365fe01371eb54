"""Assist quality: how well each assist engine draws real defects from a box or from clicks, against the filled box.

    python bench/assist_quality.py --data ../shared/data/magnetic-tile [--split tune|holdout|all] [--max-regions N]
                                   [--loosen FRACTION]

Data: CLASS/NAME.jpg with NAME.png beside it (mask, defect where >= 128); free/ (no defect) is skipped. Each
8-connected region of a mask is one defect and one trial; its prompt carries the folder's name as the defect class
(`crack` is drawn as a linear defect, the rest as areas). Regions are taken in a fixed order (class, file, region)
and --max-regions keeps the first N of each class, so a capped run is a stable subset.

Split: an image belongs to the tuning split when the first 8 hex digits of sha256("CLASS/NAME") modulo 100 are
below 60, else to the held-out split. Engines are tuned on `tune` only; `holdout` is read once, for the report.

Scores, as interactive segmentation papers compute them (Xu et al. 2016; RITM, Sofiiuk et al. 2022):
- box IoU: the prompt is the region's bounding box alone. IoU of the engine's mask against that region's own mask
  over the whole image (another defect inside the box that the engine also marks counts as a false positive).
- NoC@85 / NoC@90: clicks alone, no box. Each click goes to the point deepest inside the larger error region
  (distance transform, the image edge counting as background), positive on missed defect, negative on a false
  one; the first click is the same rule on an empty mask. NoC = number of clicks when IoU first reaches the
  threshold, 20 when it never does within 20 clicks. Every click is sent with all earlier ones and the last mask.
- NoC after box (`box_noc85`, `box_noc90`): the same clicks, added after the box prompt: 0 when the box alone
  reaches the threshold. This is how the editor is used: drag a box, then correct.
- --loosen F widens every prompt box by F of its width and height on each side (clipped to the image), as a
  hand-dragged box is looser than the tight one: 0.1 is a typical drag. Box IoU and NoC after box use it.
- The `box` row is the filled box itself. Clicks cannot change a filled box: its NoC is 20 wherever the box IoU
  stays below the threshold; where the box reaches it, NoC counts the box as 2 clicks (its two corners) and NoC
  after box is 0.

Last line: one JSON object {"ENGINE": {"box_mean_iou", "per_class_iou": {CLASS: mean}, "noc85", "noc90",
"box_noc85", "box_noc90", "regions"}, ...} with a "box" entry; every figure is a mean over regions.
"""

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.engines.base import Engine, EngineResult, GeometryKind, Prompt, engine_get, engine_names  # noqa: E402 - pure

MASK_THRESHOLD = 128  # the shared data's masks are JPEG-like: defect near 255, background near 0
TUNE_PERCENT = 60  # share of images in the tuning split
MAX_CLICKS = 20  # NoC's cap, as in the papers
BOX_AS_CLICKS = 2  # a box is dragged from one corner to the other: two clicks' worth of effort
IOU_THRESHOLDS = (0.85, 0.90)
LINEAR_CLASSES = {"crack"}  # drawn with geometry kind "linear"; every other class is an area
NO_DEFECT_FOLDER = "free"


@dataclass(frozen=True)
class Region:
    defect_class: str
    name: str  # CLASS/NAME#index
    image: np.ndarray  # uint8 (H, W), shared by the regions of one image
    mask: np.ndarray  # bool (H, W): this region only
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) inclusive: the prompt (tight unless --loosen)

    @property
    def geometry_kind(self) -> GeometryKind:
        return "linear" if self.defect_class in LINEAR_CLASSES else "area"


def split_of(defect_class: str, name: str) -> str:
    digest = hashlib.sha256(f"{defect_class}/{name}".encode()).hexdigest()
    return "tune" if int(digest[:8], 16) % 100 < TUNE_PERCENT else "holdout"


def box_loosen(box: tuple[int, int, int, int], *, fraction: float, image_shape: tuple[int, int]) -> tuple:
    x0, y0, x1, y1 = box
    margin_x, margin_y = round(fraction * (x1 - x0 + 1)), round(fraction * (y1 - y0 + 1))
    height, width = image_shape
    return (max(x0 - margin_x, 0), max(y0 - margin_y, 0), min(x1 + margin_x, width - 1), min(y1 + margin_y, height - 1))


def regions_load(data: Path, *, split: str, max_regions: int | None, loosen: float = 0.0) -> list[Region]:
    regions = []
    for class_folder in sorted(path for path in data.iterdir() if path.is_dir() and path.name != NO_DEFECT_FOLDER):
        taken = 0
        for image_path in sorted(class_folder.glob("*.jpg")):
            if split != "all" and split_of(class_folder.name, image_path.stem) != split:
                continue
            image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
            labels_mask = cv2.imread(str(image_path.with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
            if image is None or labels_mask is None:
                raise SystemExit(f"cannot read {image_path} or its mask")
            count, labels, stats, _ = cv2.connectedComponentsWithStats(
                (labels_mask >= MASK_THRESHOLD).astype(np.uint8), connectivity=8
            )
            for label in range(1, count):
                if max_regions is not None and taken >= max_regions:
                    break
                x, y, width, height, _ = stats[label]
                regions.append(
                    Region(
                        defect_class=class_folder.name,
                        name=f"{class_folder.name}/{image_path.stem}#{label}",
                        image=image,
                        mask=labels == label,
                        box=box_loosen(
                            (int(x), int(y), int(x + width - 1), int(y + height - 1)),
                            fraction=loosen,
                            image_shape=image.shape,
                        ),
                    )
                )
                taken += 1
    return regions


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    union = np.logical_or(first, second).sum()
    return 1.0 if union == 0 else float(np.logical_and(first, second).sum() / union)


def next_click(defect: np.ndarray, predicted: np.ndarray) -> tuple[tuple[float, float], bool]:
    """The point deepest inside the larger error region, and whether it is a positive click (RITM's rule).
    Padding with background makes the image edge count as the error region's edge. Computed on the errors'
    bounding box widened by a pixel: the same distances as on the whole image, at a fraction of the cost."""
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
    row, column = np.unravel_index(np.argmax(depths[0] if is_positive else depths[1]), depths[0].shape)
    return (float(column + x0), float(row + y0)), bool(is_positive)


class FilledBox:
    """The baseline: the box, filled. Clicks change nothing."""

    def predict(self, image: np.ndarray, prompt: Prompt) -> EngineResult:
        if prompt.box is None:
            return EngineResult(np.zeros((1, 1), bool), (0, 0), image.shape, 0.0, "box")
        x0, y0, x1, y1 = (int(value) for value in prompt.box)
        return EngineResult(np.ones((y1 - y0 + 1, x1 - x0 + 1), bool), (x0, y0), image.shape, 1.0, "box")


def clicks_to_reach(engine: Engine, region: Region, *, box: tuple | None) -> dict[float, int]:
    """Clicks needed for each IoU threshold (MAX_CLICKS when never reached); 0 when the box alone reaches it."""
    base = Prompt(box=box, defect_class=region.defect_class, geometry_kind=region.geometry_kind)
    predicted = engine.predict(region.image, base).full_mask() if box is not None else np.zeros_like(region.mask)
    needed = dict.fromkeys(IOU_THRESHOLDS, MAX_CLICKS)
    positive: list[tuple[float, float]] = []
    negative: list[tuple[float, float]] = []
    for clicks in range(MAX_CLICKS + 1):
        iou = mask_iou(predicted, region.mask) if clicks or box is not None else 0.0
        for threshold in IOU_THRESHOLDS:
            if iou >= threshold and needed[threshold] == MAX_CLICKS:
                needed[threshold] = clicks
        if all(value < MAX_CLICKS for value in needed.values()) or clicks == MAX_CLICKS:
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


def engine_score(name: str, engine: Engine, regions: list[Region]) -> dict:
    ious: dict[str, list[float]] = defaultdict(list)
    clicks: dict[str, list[int]] = defaultdict(list)
    for region in regions:
        prompt = Prompt(box=region.box, defect_class=region.defect_class, geometry_kind=region.geometry_kind)
        iou = mask_iou(engine.predict(region.image, prompt).full_mask(), region.mask)
        ious[region.defect_class].append(iou)
        after_box = clicks_to_reach(engine, region, box=region.box)
        if name == "box":
            alone = {threshold: BOX_AS_CLICKS if needed == 0 else MAX_CLICKS for threshold, needed in after_box.items()}
        else:
            alone = clicks_to_reach(engine, region, box=None)
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


def engines_all() -> Iterator[tuple[str, Engine]]:
    yield "box", FilledBox()
    for name in engine_names():
        yield name, engine_get(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of CLASS/NAME.jpg + NAME.png")
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="tune")
    parser.add_argument("--max-regions", type=int, default=None, help="keep the first N regions of each class")
    parser.add_argument("--loosen", type=float, default=0.0, help="widen each box by this share per side")
    arguments = parser.parse_args()
    cv2.setNumThreads(1)  # a benchmark, not a race: comparable on a shared machine
    regions = regions_load(
        arguments.data, split=arguments.split, max_regions=arguments.max_regions, loosen=arguments.loosen
    )
    counts: dict[str, int] = defaultdict(int)
    for region in regions:
        counts[region.defect_class] += 1
    print(f"{len(regions)} regions ({arguments.split} split, boxes loosened by {arguments.loosen}): {dict(counts)}")
    results = {}
    for name, engine in engines_all():
        started = time.perf_counter()
        results[name] = engine_score(name, engine, regions)
        print(f"{name}: {results[name]} in {time.perf_counter() - started:.1f} s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
