"""Train a recipe on a folder in the magnetic-tile layout and evaluate it on a held-out split.

The folder is split 70/15/15 (train/val/test), stratified by defect class, by a seeded hash of the file names
(`--split-seed`, fixed so that changing the training `--seed` keeps the split). The recipe is trained on train,
its best epoch and image-level threshold are chosen on val, and the result is evaluated on `--eval-split`:
val while choosing recipes, test once at the end. Evaluation runs the exported ONNX model through the
onnxruntime Predictor (what is deployed); `--int8` also evaluates the int8 model.

    python bench/train_recipe.py --data ../shared/data/magnetic-tile --minutes 15 [--recipe unet-lite0] [--seed 0]
        [--clock wall|cpu] [--eval-split val|test] [--set crop_size_px=256 --set augmentation.copy_paste_probability=0]
        [--int8]

Progress goes to stderr; the last line of stdout is the evaluation dict as one JSON object.
"""

import argparse
import ast
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.training.checkpoints import network_from_checkpoint  # noqa: E402 - pure modules: no Django set-up
from assist.training.evaluate import Truth, evaluate  # noqa: E402
from assist.training.export import Predictor, onnx_export, onnx_quantize_int8, parity_check  # noqa: E402
from assist.training.recipe import RECIPES, recipe_get  # noqa: E402
from assist.training.samples import samples_read_folder, samples_split  # noqa: E402
from assist.training.train import Progress, train  # noqa: E402

PROGRESS_EVERY_STEPS = 20
PARITY_IMAGES = 4
INT8_CALIBRATION_IMAGES = 32


def _parse_change(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _report(progress: Progress) -> None:
    if progress.val_metrics is not None:
        metrics = progress.val_metrics
        print(
            f"epoch {progress.epoch + 1} step {progress.step}: val mean defect IoU {metrics['mean_defect_iou']:.3f} "
            f"detection {metrics['detection_rate']:.2f} false alarms {metrics['false_alarm_rate']:.2f} "
            f"threshold {metrics['score_threshold']:.3f} per class {json.dumps(metrics['per_class_iou'])}",
            file=sys.stderr,
            flush=True,
        )
    elif progress.step % PROGRESS_EVERY_STEPS == 0:
        print(
            f"step {progress.step}/{progress.total_steps} loss {progress.loss:.4f} "
            f"elapsed {progress.elapsed_seconds:.0f} s eta {progress.eta_seconds or 0:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def _evaluate_onnx(path: Path, samples: list, defect_classes: list[str], *, flip: bool) -> dict:
    predictor = Predictor(path)
    masks, timings, cpu_timings = [], [], []
    for sample in samples:
        output = predictor.predict(sample.image, flip=flip)
        masks.append(output.mask)
        timings.append(output.inference_ms)
        cpu_timings.append(output.inference_cpu_ms)
    truths = [
        Truth(image_id=sample.image_id, mask=sample.mask, is_defect_free=sample.is_defect_free) for sample in samples
    ]
    metrics = evaluate(
        truths,
        masks,
        defect_classes,
        min_area_px=predictor.decision.min_area_px,
        inference_ms=timings,
        inference_cpu_ms=cpu_timings,
    )
    metrics["score_threshold"] = predictor.decision.score_threshold
    metrics["model_bytes"] = path.stat().st_size
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--minutes", type=float, required=True, help="training budget")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="cpu: count this process's CPU time (shared machines)"
    )
    parser.add_argument("--recipe", default=next(iter(RECIPES)), choices=sorted(RECIPES))
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--eval-split", choices=("val", "test"), default="test")
    parser.add_argument("--epochs", type=int, default=None, help="also stop after this many epochs")
    parser.add_argument("--set", dest="changes", action="append", default=[], help="recipe field=value")
    parser.add_argument("--int8", action="store_true", help="also evaluate the int8 (static QDQ) model")
    parser.add_argument("--out", type=Path, default=None, help="checkpoints and ONNX files (default: a temp folder)")
    arguments = parser.parse_args()

    started, started_cpu = time.monotonic(), time.process_time()
    samples, defect_classes = samples_read_folder(arguments.data)
    splits = samples_split(samples, defect_classes, seed=arguments.split_seed)
    changes = dict(_parse_change(text) for text in arguments.changes)
    recipe = recipe_get(arguments.recipe).with_changes(
        seed=arguments.seed,
        budget_seconds=arguments.minutes * 60,
        budget_clock=arguments.clock,
        epochs=arguments.epochs,
        **changes,
    )
    out = arguments.out or Path(tempfile.mkdtemp(prefix="train_recipe_"))
    print(f"{ {name: len(split) for name, split in splits.items()} } recipe {recipe} out {out}", file=sys.stderr)
    result = train(
        splits["train"], splits["val"], recipe, defect_classes=defect_classes, checkpoint_dir=out,
        on_progress=_report, resume=False,
    )  # fmt: skip
    training_seconds, training_cpu_seconds = time.monotonic() - started, time.process_time() - started_cpu
    if result.best_checkpoint is None:
        raise SystemExit("no validated checkpoint: the budget ended before the first validation")
    net, _, _, decision, _ = network_from_checkpoint(result.best_checkpoint)
    onnx_path = onnx_export(net, out / "model.onnx", defect_classes=defect_classes, decision=decision)
    evaluated = splits[arguments.eval_split]
    metrics = _evaluate_onnx(onnx_path, evaluated, defect_classes, flip=recipe.flip_test_time)
    metrics["parity"] = parity_check(net, onnx_path, [sample.image for sample in evaluated[:PARITY_IMAGES]])
    if arguments.int8:
        calibration = [
            sample.image for sample in splits["train"][:: max(len(splits["train"]) // INT8_CALIBRATION_IMAGES, 1)]
        ]
        int8_path = onnx_quantize_int8(onnx_path, out / "model.int8.onnx", calibration_images=calibration)
        int8 = _evaluate_onnx(int8_path, evaluated, defect_classes, flip=recipe.flip_test_time)
        metrics["int8"] = {
            key: int8[key]
            for key in (
                "mean_defect_iou",
                "per_class_iou",
                "detection_rate",
                "false_alarm_rate",
                "boundary_f1",
                "inference_ms",
                "inference_cpu_ms",
                "model_bytes",
            )
        }
    metrics |= {
        "eval_split": arguments.eval_split,
        "recipe": recipe.to_dict(),
        "steps": result.steps_done,
        "epochs": result.epochs_done,
        "training_seconds": round(training_seconds, 1),
        "training_cpu_seconds": round(training_cpu_seconds, 1),
        "best_val": {
            key: result.best_metrics.get(key) for key in ("mean_defect_iou", "detection_rate", "false_alarm_rate")
        },
        "history": [
            {key: row[key] for key in ("epoch", "step", "mean_defect_iou", "detection_rate", "false_alarm_rate")}
            for row in result.history
        ],
    }
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
