"""Does label-error review find wrong labels, and does label next point at the images the model gets wrong?

On a held-out split of a folder in the magnetic-tile layout (the same seeded split as bench/train_recipe.py, so a
model trained there has never seen these images: cleanlab's scores need out-of-sample probabilities), a share of
the labels is corrupted, cycling through four mistakes an inspector makes:

- erased: a defective image's defects are left unlabelled (judged clean);
- shifted: its defects are labelled a quarter of the image away from where they are;
- relabelled: its defects get the next defect class;
- invented: a defect-free image gets a square defect of the median labelled size.

Every image is then scored as the label-error job scores it (assist/label_review.py `label_quality_of` on the
exported model's probabilities) and ranked, lowest label quality first. Printed: the ROC AUC of that ranking
for "this label was corrupted", precision in the top k (k = the number corrupted), recall of each mistake in
the top k; for label next, the Spearman correlation, over the uncorrupted images, between the model's
uncertainty (`uncertainty_of`) and its pixel error against the true labels, and the share of all wrongly
predicted pixels found in the most uncertain quarter of the images; and the time per image of each score.

    python bench/label_review.py --data ../shared/data/magnetic-tile --model MODEL.onnx [--corrupt 0.3] [--seed 0]

Progress goes to stderr; the last line of stdout is the result as one JSON object.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.label_review import label_quality_of, uncertainty_of  # noqa: E402 - pure modules: no Django set-up
from assist.training.export import Predictor  # noqa: E402
from assist.training.samples import Sample, samples_read_folder, samples_split  # noqa: E402

MISTAKES = ("erased", "shifted", "relabelled", "invented")


def _corrupt(sample: Sample, mistake: str, *, class_count: int, square_side_px: int) -> np.ndarray:
    mask = sample.mask
    if mistake == "erased":
        return np.zeros_like(mask)
    if mistake == "shifted":
        return np.roll(mask, (mask.shape[0] // 4, mask.shape[1] // 4), axis=(0, 1))
    if mistake == "relabelled":
        return np.where(mask > 0, mask % class_count + 1, 0).astype(np.uint8)
    invented = np.zeros_like(mask)
    top, left = (mask.shape[0] - square_side_px) // 2, (mask.shape[1] - square_side_px) // 2
    invented[top : top + square_side_px, left : left + square_side_px] = 1
    return invented


def _annotation_masks(mask: np.ndarray) -> list[tuple[np.ndarray, int]]:
    return [(mask == index, int(index)) for index in np.unique(mask) if index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True, help="an exported model (ONNX, with its metadata)")
    parser.add_argument("--split", choices=("val", "test"), default="test")
    parser.add_argument("--split-seed", type=int, default=0, help="as bench/train_recipe.py's")
    parser.add_argument("--corrupt", type=float, default=0.3, help="share of the images whose labels are corrupted")
    parser.add_argument("--seed", type=int, default=0, help="which images are corrupted")
    arguments = parser.parse_args()

    samples, defect_classes = samples_read_folder(arguments.data)
    held_out = samples_split(samples, defect_classes, seed=arguments.split_seed)[arguments.split]
    predictor = Predictor(arguments.model)
    if predictor.defect_classes != defect_classes:
        raise SystemExit(f"the model's classes {predictor.defect_classes} are not the folder's {defect_classes}")
    areas = [int((sample.mask > 0).sum()) for sample in held_out if not sample.is_defect_free]
    square_side_px = max(int(round(statistics.median(areas) ** 0.5)), 2)
    rng = np.random.default_rng(arguments.seed)
    chosen = set(rng.choice(len(held_out), size=round(arguments.corrupt * len(held_out)), replace=False).tolist())
    defective = [index for index in sorted(chosen) if not held_out[index].is_defect_free]
    clean = [index for index in sorted(chosen) if held_out[index].is_defect_free]
    mistake_of = {index: MISTAKES[position % 3] for position, index in enumerate(defective)}
    mistake_of |= dict.fromkeys(clean, "invented")
    print(f"{len(held_out)} {arguments.split} images, {len(mistake_of)} corrupted", file=sys.stderr)

    rows = []
    for index, sample in enumerate(held_out):
        started = time.perf_counter()
        probabilities, _ = predictor.probabilities(sample.image)
        network_ms = (time.perf_counter() - started) * 1000
        mistake = mistake_of.get(index)
        labels = (
            _corrupt(sample, mistake, class_count=len(defect_classes), square_side_px=square_side_px)
            if mistake
            else sample.mask
        )
        started = time.perf_counter()
        quality = label_quality_of(probabilities, _annotation_masks(labels))
        quality_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        uncertainty = uncertainty_of(probabilities)
        uncertainty_ms = (time.perf_counter() - started) * 1000
        wrong_px = int((probabilities.argmax(axis=0) != sample.mask).sum())
        rows.append((mistake, quality.score, uncertainty.score, wrong_px, network_ms, quality_ms, uncertainty_ms))
        print(f"{index + 1}/{len(held_out)} {sample.name} {mistake} {quality.score:.3f}", file=sys.stderr)

    is_corrupted = np.array([row[0] is not None for row in rows])
    quality_scores = np.array([row[1] for row in rows])
    order = np.argsort(quality_scores, kind="stable")
    top = set(order[: int(is_corrupted.sum())].tolist())
    recall = {
        mistake: sum(1 for index in top if rows[index][0] == mistake)
        / max(sum(1 for row in rows if row[0] == mistake), 1)
        for mistake in MISTAKES
        if any(row[0] == mistake for row in rows)
    }
    uncorrupted = [row for row in rows if row[0] is None]
    by_uncertainty = sorted(uncorrupted, key=lambda row: -row[2])
    quarter = by_uncertainty[: max(len(by_uncertainty) // 4, 1)]
    result = {
        "images": len(rows),
        "corrupted": int(is_corrupted.sum()),
        "corrupted_by_mistake": {mistake: sum(1 for row in rows if row[0] == mistake) for mistake in MISTAKES},
        "label_errors_roc_auc": round(float(roc_auc_score(is_corrupted, -quality_scores)), 3),
        "label_errors_precision_at_k": round(sum(1 for index in top if is_corrupted[index]) / max(len(top), 1), 3),
        "label_errors_recall_at_k": {mistake: round(value, 3) for mistake, value in recall.items()},
        "label_next_spearman_uncertainty_vs_wrong_px": round(
            float(spearmanr([row[2] for row in uncorrupted], [row[3] for row in uncorrupted]).statistic), 3
        ),
        "label_next_wrong_px_share_in_most_uncertain_quarter": round(
            sum(row[3] for row in quarter) / max(sum(row[3] for row in uncorrupted), 1), 3
        ),
        "network_ms": round(statistics.median(row[4] for row in rows), 1),
        "label_quality_ms": round(statistics.median(row[5] for row in rows), 1),
        "uncertainty_ms": round(statistics.median(row[6] for row in rows), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
