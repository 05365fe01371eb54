"""The interactive (click-and-box) recipe as a training run (issue 13): the `training_run` job of a run of kind
"interactive" trains assist/interactive/ on the version's train split (validating on val, resuming from the run
folder's last.pt like a segmentation run), exports the best weights to ONNX with a parity check against PyTorch,
scores the exported model on the version's test split as the assist benchmark does, and records the model.

The score (`interactive_model_score`) is the benchmark's protocol (assist/engines/quality.py): box-prompt IoU per
class, NoC@85/90 from clicks alone and after the box, and the per-click latency, with the engines the editor would
otherwise use scored on the same regions beside it (`baselines`): the editor prefers the model only where it beats
them on this record (assist/selectors.py `interactive_model_is_better`)."""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assist.engines.base import engine_get, engine_is_available
from assist.engines.classical import NAME as CLASSICAL_ENGINE_NAME
from assist.engines.quality import TimedEngine, engine_score
from assist.engines.sam import ENGINE_NAME as SAM_ENGINE_NAME
from assist.models import ModelKind, TrainedModel, TrainingRun
from assist.services.evaluation import version_samples
from assist.services.mlflow import mlflow_run_log
from assist.services.models import INTERACTIVE_MODEL_FILES, run_folder
from assist.services.training import RunRecorder, job_should_stop
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobCancelled, JobContext

if TYPE_CHECKING:
    from assist.interactive.train import Progress as InteractiveProgress
    from assist.training.samples import Sample

VALIDATION_KEYS = ("box_mean_iou", "per_class_iou", "noc85", "noc90", "box_noc85", "box_noc90")
"What each validation row of an interactive run keeps (the benchmark's scores, NoC capped by the recipe)."
PARITY_BATCHES = 2  # batches of real crops (with their prompt maps) the ONNX file is compared with PyTorch on
BASELINE_ENGINES = (CLASSICAL_ENGINE_NAME, SAM_ENGINE_NAME)  # scored beside the model where they run here


def interactive_model_score(onnx_path: Path, samples: Sequence["Sample"], classes: Sequence[str]) -> dict[str, Any]:
    """The exported model as an engine on every defect region of `samples`: the benchmark's scores, the per-click
    latency (p50, wall and CPU) and, under `baselines`, the same scores of the classical engine (and SAM where it
    is installed) on the same regions."""
    from assist.interactive.engine import InteractiveEngine
    from assist.interactive.train import regions_for_validation

    regions = regions_for_validation(samples, defect_classes=classes)
    if not regions:
        raise ValidationFailed("The evaluated split has no defect regions to score the interactive model on.")
    timed = TimedEngine(InteractiveEngine(onnx_path))
    metrics: dict[str, Any] = engine_score("interactive", timed, regions) | timed.timings()
    metrics["baselines"] = {
        name: engine_score(name, engine_get(name), regions) for name in BASELINE_ENGINES if engine_is_available(name)
    }
    return metrics


def _has_regions(samples: Sequence["Sample"]) -> bool:
    return any(not sample.is_defect_free and sample.mask.any() for sample in samples)


def _progress_of(progress: "InteractiveProgress") -> Any:
    """The interactive trainer's progress as the run's recorder reads it (one "epoch"; ETA from the step rate)."""
    from assist.training.train import Progress

    remaining = (progress.total_steps or 0) - progress.step
    eta = progress.elapsed_seconds / progress.step * remaining if progress.step and remaining > 0 else None
    return Progress(
        epoch=0,
        step=progress.step,
        total_steps=progress.total_steps,
        loss=progress.loss,
        val_metrics=progress.val_metrics,
        eta_seconds=eta,
        elapsed_seconds=progress.elapsed_seconds,
    )


def interactive_run_run(*, job: JobContext, run: TrainingRun) -> dict[str, Any]:
    """The job for a run of kind interactive: train (resuming), export, score on the test split, record."""
    import torch

    from assist.interactive.recipe import InteractiveRecipe
    from assist.interactive.train import interactive_train

    version, folder = run.dataset_version, run_folder(run)
    recipe = InteractiveRecipe.from_dict(run.recipe)
    job.progress(0, None, f"Reading {version.name}")
    splits, classes = version_samples(
        version, on_image=lambda count: job.progress(count, None, f"Reading {version.name}")
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    TrainingRun.objects.filter(pk=run.pk).update(device=device)
    recorder = RunRecorder(run, job, validation_keys=VALIDATION_KEYS, unit="step")
    try:
        result = interactive_train(
            splits["train"],
            # a version without defects in its val split validates on its training images
            splits["val"] if _has_regions(splits["val"]) else splits["train"],
            recipe,
            checkpoint_dir=folder,
            device=device,
            on_progress=lambda progress: recorder(_progress_of(progress)),
            should_stop=lambda: job_should_stop(job),
            resume=True,
            defect_classes=classes,
        )
    except ValueError as error:  # no defect region to train on, a changed recipe on resume
        raise ValidationFailed(f"The interactive model cannot be trained on {version.name!r}: {error}.") from None
    recorder.flush()
    if result.is_cancelled:
        raise JobCancelled(f"training run {run.pk} was cancelled at step {result.steps_done}")
    if result.best_checkpoint is None:
        raise ValidationFailed("The run ended before its first validation: give it more time or steps.")
    model = _model_record(run=run, job=job, splits=splits, classes=classes, best=result.best_checkpoint)
    mlflow_run_log(run=run, model=model)
    job.progress(
        result.steps_done,
        result.steps_done,
        f"Model {model.pk} recorded: box IoU {model.metrics['box_mean_iou']:.3f}, NoC@85 {model.metrics['noc85']}.",
    )
    return {
        "run_id": run.pk,
        "model_id": model.pk,
        "steps": result.steps_done,
        "box_mean_iou": model.metrics["box_mean_iou"],
        "noc85": model.metrics["noc85"],
    }


def _model_record(
    *, run: TrainingRun, job: JobContext, splits: dict[str, list["Sample"]], classes: list[str], best: Path
) -> TrainedModel:
    """Export the best weights to ONNX (parity against PyTorch on real crops of the evaluated split), score the
    exported model on the test split (the first of test, val, train with defects in it), and record the model
    once."""
    import torch

    from assist.interactive.examples import ExampleSampler
    from assist.interactive.export import onnx_export, parity_check
    from assist.interactive.inference import CropGeometry
    from assist.interactive.train import batch_prompts, network_from_checkpoint

    net, recipe, validation_metrics = network_from_checkpoint(best)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(recipe.torch_threads)  # a shared machine: see InteractiveRecipe.torch_threads
    try:
        folder = run_folder(run)
        job.progress(0, None, "Exporting ONNX")
        onnx_path = onnx_export(net, folder / INTERACTIVE_MODEL_FILES["onnx_fp32"], geometry=CropGeometry.of(recipe))
        evaluated = next(
            (splits[name] for name in ("test", "val", "train") if _has_regions(splits[name])), splits["train"]
        )
        job.progress(0, None, "Checking ONNX against PyTorch")
        sampler = ExampleSampler(evaluated, recipe)
        inputs = []
        for step in range(PARITY_BATCHES):
            examples = sampler.batch(step)
            prompts = batch_prompts(
                examples, recipe, [e.positive for e in examples], [e.negative for e in examples], None
            )
            inputs += [(example.grey, prompts[index].numpy()) for index, example in enumerate(examples)]
        parity = {"fp32": parity_check(net, onnx_path, inputs)}
        job.check_cancelled()
        job.progress(0, None, "Scoring on the test split (box IoU, clicks to 85 and 90 %)")
        metrics = interactive_model_score(onnx_path, evaluated, classes)
    finally:
        torch.set_num_threads(previous_threads)
    metrics["split"] = next(name for name in ("test", "val", "train") if splits[name] is evaluated)
    model, _ = TrainedModel.objects.update_or_create(
        run=run,
        defaults={
            "project_id": run.project_id,
            "kind": ModelKind.INTERACTIVE,
            "defect_classes": classes,
            "metrics": metrics,
            "validation_metrics": validation_metrics,
            "decision": {},
            "parity": parity,
            "files": {name: f"runs/{run.pk}/{file}" for name, file in INTERACTIVE_MODEL_FILES.items()},
        },
    )
    return model
