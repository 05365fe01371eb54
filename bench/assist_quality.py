"""Assist quality: how well each assist engine draws real defects from a box or from clicks, against the filled box.

    python bench/assist_quality.py --data ../shared/data/magnetic-tile [--split tune|holdout|all] [--max-regions N]
                                   [--loosen FRACTION] [--interactive-model MODEL.onnx]

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

--interactive-model: a project's promoted interactive model (the ONNX file bench/train.py --recipe interactive
--out DIR keeps, or a run folder's model.onnx) is scored beside the registered engines as "interactive". Train it
with `--assist-split tune` and score `--split holdout`: no image scored was in its version. Each engine's row also
has its per-call p50 (wall and CPU ms, calls with clicks apart from box-only calls).

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
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.engines.base import Engine, engine_get, engine_names  # noqa: E402 - pure
from assist.engines.quality import FilledBox, Region, TimedEngine, engine_score, regions_from_mask  # noqa: E402
from bench._setup import django_for_benchmark  # noqa: E402

MASK_THRESHOLD = 128  # the shared data's masks are JPEG-like: defect near 255, background near 0
TUNE_PERCENT = 60  # share of images in the tuning split
NO_DEFECT_FOLDER = "free"


def split_of(defect_class: str, name: str) -> str:
    digest = hashlib.sha256(f"{defect_class}/{name}".encode()).hexdigest()
    return "tune" if int(digest[:8], 16) % 100 < TUNE_PERCENT else "holdout"


def regions_load(data: Path, *, split: str, max_regions: int | None, loosen: float = 0.0) -> list[Region]:
    regions: list[Region] = []
    for class_folder in sorted(path for path in data.iterdir() if path.is_dir() and path.name != NO_DEFECT_FOLDER):
        taken = 0
        for image_path in sorted(class_folder.glob("*.jpg")):
            if split != "all" and split_of(class_folder.name, image_path.stem) != split:
                continue
            image = cv2.imread(str(image_path), cv2.IMREAD_GRAYSCALE)
            labels_mask = cv2.imread(str(image_path.with_suffix(".png")), cv2.IMREAD_GRAYSCALE)
            if image is None or labels_mask is None:
                raise SystemExit(f"cannot read {image_path} or its mask")
            found = regions_from_mask(
                image,
                labels_mask >= MASK_THRESHOLD,
                defect_class=class_folder.name,
                name=f"{class_folder.name}/{image_path.stem}",
                loosen=loosen,
                max_regions=None if max_regions is None else max_regions - taken,
            )
            regions += found
            taken += len(found)
    return regions


def engines_all(interactive_model: Path | None = None) -> Iterator[tuple[str, Engine]]:
    yield "box", FilledBox()
    for name in engine_names():
        yield name, engine_get(name)
    if interactive_model is not None:
        from assist.interactive.engine import InteractiveEngine

        yield "interactive", InteractiveEngine(interactive_model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of CLASS/NAME.jpg + NAME.png")
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="tune")
    parser.add_argument("--max-regions", type=int, default=None, help="keep the first N regions of each class")
    parser.add_argument("--loosen", type=float, default=0.0, help="widen each box by this share per side")
    parser.add_argument("--interactive-model", type=Path, default=None, help="an interactive model's ONNX file")
    arguments = parser.parse_args()
    cv2.setNumThreads(1)  # a benchmark, not a race: comparable on a shared machine
    # Which engines this server has is the registry's answer, and SAM's comes from the database (an installed
    # checkpoint): a throw-away one here, so SAM reads as not installed rather than failing.
    django_for_benchmark(database="sqlite")
    regions = regions_load(
        arguments.data, split=arguments.split, max_regions=arguments.max_regions, loosen=arguments.loosen
    )
    counts: dict[str, int] = defaultdict(int)
    for region in regions:
        counts[region.defect_class] += 1
    print(f"{len(regions)} regions ({arguments.split} split, boxes loosened by {arguments.loosen}): {dict(counts)}")
    results = {}
    for name, engine in engines_all(arguments.interactive_model):
        started = time.perf_counter()
        timed = TimedEngine(engine)
        results[name] = engine_score(name, timed, regions) | timed.timings()
        print(f"{name}: {results[name]} in {time.perf_counter() - started:.1f} s")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
