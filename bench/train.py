"""A training run as DefectLab runs it, end to end: the shared magnetic-tile folder ingested into a throw-away
database (real ingestion: masks traced to polygons), frozen as a dataset version (a seeded 70/15/15 split,
stratified by defect class), trained by the `training_run` job's own function in this process (the same code a
training worker runs: resume, checkpoints, ONNX fp32/int8 export with parity, evaluation), and evaluated on the
version's test split by the fp32 ONNX model as deployed.

    python bench/train.py --minutes 15 [--recipe unet-lite0|interactive] [--data ../shared/data/magnetic-tile]
        [--seed 0] [--split-seed 0] [--assist-split tune|holdout] [--out DIR]

Progress goes to stderr; the last line of stdout is the test split's evaluation as one JSON object (the keys of
assist/training/evaluate.py, with the run's steps, epochs, training time, best validation and parity). The model
is promoted in the throw-away database, as an admin would; `--out DIR` keeps its files (model.onnx, best.pt) and
that JSON (metrics.json) after the database is gone.

`--recipe interactive` trains the click-and-box model (budget: CPU minutes, the recipe's clock); its JSON is the
assist benchmark's scores of the exported file on the version's test split (box IoU per class, NoC@85/90, NoC
after the box, per-click p50) with the classical engine's on the same regions under "baselines".
`--assist-split tune` ingests only the images bench/assist_quality.py puts in its tuning split (a hash of
CLASS/NAME), so `bench/assist_quality.py --split holdout --interactive-model DIR/model.onnx` scores the model on
images no version of this run held.
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SUMMARY_KEYS = ("mean_defect_iou", "per_class_iou", "detection_rate", "false_alarm_rate", "boundary_f1", "inference_ms")
INTERACTIVE_SUMMARY_KEYS = ("box_mean_iou", "per_class_iou", "noc85", "noc90", "box_noc85", "click_p50_ms")


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    from bench._setup import SHARED_DATA

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, required=True, help="wall-clock training budget")
    parser.add_argument("--recipe", default=None, help="a named recipe of assist/training/recipe.py (default: first)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="a folder in the magnetic-tile layout")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--split-seed", type=int, default=0, help="the version's split seed")
    parser.add_argument(
        "--assist-split", choices=("tune", "holdout"), default=None, help="ingest only this split of assist_quality.py"
    )
    parser.add_argument("--out", type=Path, default=None, help="copy the promoted model's files and JSON here")
    arguments = parser.parse_args()

    from bench._setup import django_for_benchmark

    vendor = django_for_benchmark()
    from django.contrib.auth import get_user_model

    from annotation.models import DefectClass, GeometryKind
    from assist.models import TrainedModel, TrainingRun
    from assist.services.models import model_files, run_folder, trained_model_promote
    from assist.services.training import training_recipe, training_run_start
    from bench.assist_quality import split_of
    from datasets.demo import demo_project_seed
    from datasets.services.imports import images_import
    from datasets.services.versions import FreezeOptions, dataset_version_freeze
    from datasets.sources import folder_entries, plan_sources
    from defectlab.jobs.models import JobStatus
    from defectlab.jobs.services import job_run

    started = time.monotonic()
    project, _ = demo_project_seed()
    for folder in sorted(path for path in arguments.data.iterdir() if path.is_dir()):
        if folder.name not in ("free", "ok", "good", "defect-free", "defect_free"):
            kind = GeometryKind.LINEAR if folder.name == "crack" else GeometryKind.AREA
            DefectClass.objects.get_or_create(project=project, name=folder.name, defaults={"geometry_kind": kind})
    entries = folder_entries(arguments.data)
    if arguments.assist_split is not None:  # the folder's CLASS/NAME as bench/assist_quality.py splits it
        parts = {entry.path: Path(entry.path).with_suffix("").parts for entry in entries}
        entries = [
            entry
            for entry in entries
            if len(parts[entry.path]) == 2 and split_of(*parts[entry.path]) == arguments.assist_split
        ]
    sources, _ = plan_sources(entries, with_masks=True)
    summary = images_import(project=project, sources=sources)
    _log(f"database={vendor} imported {summary.imported} images ({len(summary.rejected)} rejected)")
    version = dataset_version_freeze(
        project=project, name="bench", created_by=None, options=FreezeOptions(seed=arguments.split_seed)
    )
    _log(f"version {version.name} {version.content_hash[:12]}: {version.counts['images']}")
    recipe = training_recipe(
        recipe_name=arguments.recipe, minutes=arguments.minutes, epochs=None, seed=arguments.seed, changes={}
    )
    run = training_run_start(user=None, project_id=project.pk, version_id=version.pk, recipe=recipe, to_worker=False)
    prepared = time.monotonic()
    _log(f"training run {run.pk}: recipe {recipe.name}, {arguments.minutes} min, seed {recipe.seed}")
    job = job_run(job_id=run.job_id)
    finished = time.monotonic()
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"the training job ended {job.status}: {job.error}")
    run = TrainingRun.objects.get(pk=run.pk)
    model = TrainedModel.objects.get(run=run)
    admin = get_user_model().objects.get(username="admin")  # the demo project's admin (datasets/demo.py)
    trained_model_promote(user=admin, model_id=model.pk)
    metrics = dict(model.metrics)
    metrics.pop("worst_cases", None)
    is_interactive = model.kind == "interactive"
    metrics |= {
        "model_id": model.pk,
        "recipe": recipe.name,
        "steps": run.step,
        "epochs": run.epoch,
        "device": run.device,
        "training_seconds": round(run.elapsed_seconds, 1),
        "job_seconds": round(finished - prepared, 1),
        "setup_seconds": round(prepared - started, 1),
        "parity": model.parity,
        "best_val": {
            key: model.validation_metrics.get(key)
            for key in (INTERACTIVE_SUMMARY_KEYS[:5] if is_interactive else SUMMARY_KEYS[:4])
        },
        "history": [
            {
                key: row.get(key)
                for key in ("epoch", "step", "mean_defect_iou", "detection_rate", "false_alarm_rate", "box_mean_iou")
                + ("noc85", "box_noc85")
                if key in row
            }
            for row in run.history
        ],
        "version_images": version.counts["images"],
    }
    _log(json.dumps({key: metrics[key] for key in (INTERACTIVE_SUMMARY_KEYS if is_interactive else SUMMARY_KEYS)}))
    if arguments.out is not None:
        arguments.out.mkdir(parents=True, exist_ok=True)
        for file in model_files(model.kind).values():
            shutil.copyfile(run_folder(run) / file, arguments.out / file)
        (arguments.out / "metrics.json").write_text(json.dumps(metrics, indent=1))
        _log(f"model {model.pk} promoted; its files are in {arguments.out}")
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
