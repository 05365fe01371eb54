"""Agreement throughput: 1,000 image pairs with 5 defects each on 2048 x 2048 images, compared as the QA task does
(COCO RLEs as stored in Annotation.rle, IoU by pycocotools, Hungarian matching by scipy).

B's defects are A's moved by a few pixels, resized, sometimes given another class or severity, sometimes missed,
so every branch of the comparison runs. Building the RLEs is not timed; comparing them is.

    python bench/agreement.py [--pairs 1000] [--defects 5] [--size 2048]

Last line: {"pairs": N, "seconds": S}
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from annotation import geometry  # noqa: E402 - pure modules: no Django set-up needed
from qa.agreement import AgreementRules, Defect, images_agreement  # noqa: E402

VERTICES = 16  # per defect outline
CLASSES = 4


def _blob(*, centre: np.ndarray, radii: np.ndarray, size: int) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, VERTICES, endpoint=False)
    ring = centre + np.stack([np.cos(angles) * radii, np.sin(angles) * radii], axis=1)
    return np.clip(ring, 0, size - 1)


def _defect(key: int, ring: np.ndarray, *, defect_class_id: int, severity_rank: int, size: int) -> Defect:
    polygons = [geometry.Polygon(exterior=ring)]
    box = geometry.polygons_bbox(polygons)
    crop = geometry.rasterize_crop(polygons, box)
    rle = geometry.rle_from_crop(crop, x=int(box.x), y=int(box.y), width=size, height=size)
    return Defect(
        key=key,
        defect_class_id=defect_class_id,
        rle=rle,
        bbox=(box.x, box.y, box.width, box.height),
        severity_rank=severity_rank,
    )


def build_pairs(*, pairs: int, defects: int, size: int, seed: int = 7) -> list[tuple[list[Defect], list[Defect]]]:
    rng = np.random.default_rng(seed)
    built, key = [], 0
    for _ in range(pairs):
        first, second = [], []
        for _ in range(defects):
            centre = rng.uniform(80, size - 80, 2)
            radii = rng.uniform(10, 60) * rng.uniform(0.6, 1.0, VERTICES)
            defect_class_id, severity_rank = int(rng.integers(1, CLASSES + 1)), int(rng.integers(1, 4))
            key += 1
            first.append(
                _defect(
                    key,
                    _blob(centre=centre, radii=radii, size=size),
                    defect_class_id=defect_class_id,
                    severity_rank=severity_rank,
                    size=size,
                )
            )
            if rng.random() < 0.05:
                continue  # B missed it
            key += 1
            second.append(
                _defect(
                    key,
                    _blob(
                        centre=centre + rng.normal(0, 2, 2), radii=radii * rng.uniform(0.9, 1.1, VERTICES), size=size
                    ),
                    defect_class_id=defect_class_id if rng.random() > 0.05 else int(rng.integers(1, CLASSES + 1)),
                    severity_rank=severity_rank if rng.random() > 0.1 else severity_rank + 1,
                    size=size,
                )
            )
        built.append((first, second))
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--defects", type=int, default=5)
    parser.add_argument("--size", type=int, default=2048, help="image side, px")
    arguments = parser.parse_args()
    built = build_pairs(pairs=arguments.pairs, defects=arguments.defects, size=arguments.size)
    started = time.perf_counter()
    results = images_agreement(built, AgreementRules())
    seconds = time.perf_counter() - started
    agreed = sum(result.is_agreed for result in results)
    matched = sum(match.is_matched for result in results for match in result.matches)
    print(f"{len(results)} pairs, {agreed} agreed, {matched} matched defect pairs")
    print(json.dumps({"pairs": len(results), "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
