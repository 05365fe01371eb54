"""Train the interactive (click-and-box) model on a folder in the magnetic-tile layout and score it as an assist
engine beside the filled box and the classical engine, on images it was not trained on.

The folder is split 70/15/15 (train/val/test) as bench/train_recipe.py splits it (stratified by defect class, a
seeded hash of the file names, `--split-seed` fixed). The model trains on train and keeps its best validation
checkpoint (val: box IoU and NoC@85 capped at 10 clicks); the exported ONNX model is then scored on
`--eval-split` with bench/assist_quality.py's protocol (assist.engines.quality.engine_score: box-prompt IoU per
class, NoC@85/90 from clicks alone, NoC after the box, up to 20 clicks): val while choosing variants, test once.

    python bench/train_interactive.py --data ../shared/data/magnetic-tile --minutes 15 [--clock cpu|wall]
        [--seed 0] [--eval-split val|test] [--set crop_size_px=160 --set loss=bce-dice] [--steps N] [--loosen 0.1]

Per-click latency: wall time of each engine call with at least one click (crop, onnxruntime on one thread,
paste back), p50 over the scoring; and its CPU time (what it costs on an idle machine: this one is shared).
Progress goes to stderr; the last line of stdout is one JSON object {"box": {...}, "classical": {...},
"interactive": {..., "click_p50_ms", "click_p50_cpu_ms", "box_p50_ms", "model_bytes", "parity"},
"training": {...}}. `--checkpoint best.pt --recalibrate` scores a trained model without training again
(inference variants: `--flip`, `--box-margin F`).
"""

import argparse
import ast
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assist.engines.base import Engine  # noqa: E402 - pure modules: no Django set-up
from assist.engines.classical import ClassicalEngine  # noqa: E402
from assist.engines.quality import FilledBox, TimedEngine, box_loosen, engine_score  # noqa: E402
from assist.interactive.engine import InteractiveEngine  # noqa: E402
from assist.interactive.examples import ExampleSampler  # noqa: E402
from assist.interactive.export import onnx_export, parity_check  # noqa: E402
from assist.interactive.inference import CropGeometry  # noqa: E402
from assist.interactive.recipe import InteractiveRecipe  # noqa: E402
from assist.interactive.train import (  # noqa: E402
    Progress,
    batch_prompts,
    bn_recalibrate,
    interactive_train,
    network_from_checkpoint,
    regions_for_validation,
)
from assist.training.samples import samples_read_folder, samples_split  # noqa: E402

PROGRESS_EVERY_STEPS = 25
PARITY_BATCHES = 2


def _parse_change(text: str) -> tuple[str, object]:
    key, _, value = text.partition("=")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _report(progress: Progress) -> None:
    if progress.val_metrics is not None:
        print(f"step {progress.step}: val {json.dumps(progress.val_metrics)}", file=sys.stderr, flush=True)
    elif progress.step % PROGRESS_EVERY_STEPS == 0:
        print(
            f"step {progress.step}/{progress.total_steps} loss {progress.loss:.4f} "
            f"elapsed {progress.elapsed_seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--minutes", type=float, required=True, help="training budget")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu", help="cpu: this process's CPU time")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--eval-split", choices=("val", "test"), default="val")
    parser.add_argument("--steps", type=int, default=None, help="also stop after this many steps")
    parser.add_argument("--set", dest="changes", action="append", default=[], help="recipe field=value")
    parser.add_argument("--loosen", type=float, default=0.0, help="widen each scored box by this share per side")
    parser.add_argument("--validation-regions", type=int, default=None, help="validate on the first N val regions")
    parser.add_argument("--out", type=Path, default=None, help="checkpoints and ONNX file (default: a temp folder)")
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="score this trained checkpoint (best.pt) instead of training"
    )
    parser.add_argument(
        "--recalibrate", action="store_true", help="with --checkpoint: recompute its BatchNorm statistics first"
    )
    parser.add_argument("--max-regions", type=int, default=None, help="score only the first N regions (a quick look)")
    parser.add_argument("--engines", default="box,classical,interactive", help="which engines to score")
    parser.add_argument("--flip", action="store_true", help="interactive: average with the mirrored crop")
    parser.add_argument("--box-margin", type=float, default=None, help="interactive: clip the mask to the box")
    arguments = parser.parse_args()

    started, started_cpu = time.monotonic(), time.process_time()
    samples, defect_classes = samples_read_folder(arguments.data)
    splits = samples_split(samples, defect_classes, seed=arguments.split_seed)
    recipe = InteractiveRecipe().with_changes(
        seed=arguments.seed,
        budget_seconds=arguments.minutes * 60,
        budget_clock=arguments.clock,
        steps=arguments.steps,
        **dict(_parse_change(text) for text in arguments.changes),
    )
    out = arguments.out or Path(tempfile.mkdtemp(prefix="train_interactive_"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"{ {name: len(split) for name, split in splits.items()} } recipe {recipe} out {out}", file=sys.stderr)
    if arguments.checkpoint is None:
        result = interactive_train(
            splits["train"], splits["val"], recipe, checkpoint_dir=out, on_progress=_report, resume=False,
            validation_regions=arguments.validation_regions, defect_classes=defect_classes,
        )  # fmt: skip
        if result.best_checkpoint is None:
            raise SystemExit("no validated checkpoint: the budget ended before the first validation")
        training = {
            "steps": result.steps_done,
            "best_val": result.best_metrics,
            "history": [
                {key: row[key] for key in ("step", "box_mean_iou", "noc85", "box_noc85")} for row in result.history
            ],
        }
        checkpoint: Path = result.best_checkpoint
    else:
        checkpoint, training = arguments.checkpoint, {"checkpoint": str(arguments.checkpoint)}
    training_seconds, training_cpu_seconds = time.monotonic() - started, time.process_time() - started_cpu
    net, recipe, _ = network_from_checkpoint(checkpoint)
    if arguments.recalibrate:
        bn_recalibrate(net, ExampleSampler(splits["train"], recipe), recipe, torch.device("cpu"))
        net.eval()
    onnx_path = onnx_export(net, out / "interactive.onnx", geometry=CropGeometry.of(recipe))
    sampler = ExampleSampler(splits[arguments.eval_split], recipe)
    parity_inputs = []
    for step in range(PARITY_BATCHES):
        examples = sampler.batch(step)
        prompts = batch_prompts(examples, recipe, [e.positive for e in examples], [e.negative for e in examples], None)
        parity_inputs += [(example.grey, prompts[index].numpy()) for index, example in enumerate(examples)]
    parity = parity_check(net, onnx_path, parity_inputs)

    regions = regions_for_validation(splits[arguments.eval_split], defect_classes=defect_classes)
    regions = regions[: arguments.max_regions]
    if arguments.loosen:
        regions = [
            type(region)(
                region.defect_class, region.name, region.image, region.mask,
                box_loosen(region.box, fraction=arguments.loosen, image_shape=region.image.shape),
            )
            for region in regions
        ]  # fmt: skip
    print(f"scoring {len(regions)} regions of the {arguments.eval_split} split", file=sys.stderr)
    results: dict[str, dict] = {}
    engines: dict[str, Engine] = {
        "box": FilledBox(),
        "classical": ClassicalEngine(),
        "interactive": InteractiveEngine(onnx_path, flip=arguments.flip, box_margin=arguments.box_margin),
    }
    for name in arguments.engines.split(","):
        engine = engines[name]
        timed = TimedEngine(engine)
        scoring_started = time.perf_counter()
        results[name] = engine_score(name, timed, regions) | timed.timings()
        print(f"{name}: {results[name]} in {time.perf_counter() - scoring_started:.1f} s", file=sys.stderr)
    results["interactive"] |= {"model_bytes": onnx_path.stat().st_size, "parity": parity, "onnx": str(onnx_path)}
    results["training"] = {
        "eval_split": arguments.eval_split,
        "recipe": recipe.to_dict(),
        "training_seconds": round(training_seconds, 1),
        "training_cpu_seconds": round(training_cpu_seconds, 1),
        **training,
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
