"""Training runs as jobs: an admin starts one from a dataset version; a worker on the training queue trains it
(assist/training/train.py), evaluates the best weights on the version's test split, exports ONNX fp32 and int8
with a parity check against PyTorch, and records the model in the registry.

The job (kind `training_run`) is idempotent: it resumes from the run folder's `last.pt` (written each epoch,
atomically), so after a lost worker the recovery sweep queues it again and it carries on from its last epoch;
what follows training (evaluation, export, the model's row) is redone whole and the model is recorded once
(its row is unique per run). Cancelling stops it at the next step, with a checkpoint where it stopped."""

import json
import logging
import math
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from assist.job_kinds import TRAINING_JOB_KIND
from assist.models import ModelKind, TrainedModel, TrainingRun
from assist.permissions import AssistAction, project_get_for_assist
from assist.services.evaluation import predictor_evaluate, version_samples, worst_cases_draw
from assist.services.mlflow import mlflow_run_log
from assist.services.models import MODEL_FILES, WORST_FOLDER, run_folder
from datasets.models import DatasetVersion
from defectlab.errors import NotFound, ValidationFailed
from defectlab.jobs.context import JobCancelled, JobContext
from defectlab.jobs.models import Job
from defectlab.jobs.services import job_create, job_start

if TYPE_CHECKING:
    from assist.interactive.recipe import InteractiveRecipe
    from assist.training.decision import DefectDecision
    from assist.training.model import SegmentationNet
    from assist.training.recipe import Recipe
    from assist.training.samples import Sample
    from assist.training.train import Progress

logger = logging.getLogger(__name__)
INTERACTIVE_RECIPE = "interactive"  # the recipe name of the click-and-box model (assist/interactive/recipe.py)
RECORD_EVERY_SECONDS = 1.0  # the run's row (step, ETA, loss curve) is written at most this often
LOSS_CURVE_MAX_POINTS = 1000  # past this the curve keeps every other point and records half as often
PARITY_IMAGES = 4  # test images the ONNX files are compared with PyTorch on
INT8_CALIBRATION_IMAGES = 32  # training images that set the int8 activation ranges
REPOSITORY = Path(settings.BASE_DIR)


def code_version() -> str:
    """The commit this code is (DEFECTLAB_CODE_VERSION when set, as in an installed package), else "unknown"."""
    if settings.DEFECTLAB_CODE_VERSION:
        return str(settings.DEFECTLAB_CODE_VERSION)
    try:
        found = subprocess.run(  # noqa: S603 - a fixed argv, no shell
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH: absent on a plant's host, then "unknown"
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip() or "unknown"


def recipe_names() -> list[str]:
    """Every recipe a run may name: the segmentation recipes (the first is the default), then "interactive"."""
    from assist.training.recipe import RECIPES

    return [*RECIPES, INTERACTIVE_RECIPE]


def training_recipe(
    *, recipe_name: str | None, minutes: float | None, epochs: int | None, seed: int | None, changes: dict[str, Any]
) -> "Recipe | InteractiveRecipe":
    """The named recipe (default: the first segmentation recipe; "interactive": the click-and-box model) with the
    run's budget, seed and field changes; ValidationFailed for an unknown name, a bad field, epochs for the
    interactive recipe (it counts steps) or a budget over DEFECTLAB_TRAINING_MAX_MINUTES."""
    from assist.interactive.recipe import InteractiveRecipe
    from assist.training.recipe import RECIPES, recipe_get

    name = recipe_name or next(iter(RECIPES))
    recipe: Recipe | InteractiveRecipe
    try:
        recipe = InteractiveRecipe() if name == INTERACTIVE_RECIPE else recipe_get(name)
    except KeyError:
        raise ValidationFailed(f"No recipe {name!r}; recipes: {', '.join(recipe_names())}.") from None
    if minutes is not None and not (0 < minutes <= settings.DEFECTLAB_TRAINING_MAX_MINUTES):
        raise ValidationFailed(
            f"A run trains for more than 0 and at most {settings.DEFECTLAB_TRAINING_MAX_MINUTES} minutes.",
            limit="DEFECTLAB_TRAINING_MAX_MINUTES",
        )
    budget: dict[str, Any] = {}
    if isinstance(recipe, InteractiveRecipe):
        if epochs is not None:
            raise ValidationFailed("The interactive recipe's budget is minutes (of CPU time) or steps, not epochs.")
        if minutes is not None:
            budget = {"budget_seconds": minutes * 60}
    elif minutes is not None or epochs is not None:
        budget = {"budget_seconds": minutes * 60 if minutes is not None else None, "epochs": epochs}
    if seed is not None:
        budget["seed"] = seed
    try:
        return recipe.with_changes(**budget, **changes)
    except (TypeError, ValueError) as error:
        raise ValidationFailed(f"Recipe refused: {error}.") from None


@transaction.atomic
def training_run_start(
    *,
    user: User | None,
    project_id: int,
    version_id: int,
    recipe: "Recipe | InteractiveRecipe",
    queue: str | None = None,
    to_worker: bool = True,
) -> TrainingRun:
    """Start a training run of `recipe` on a version of the project, as a `training_run` job on the training queue
    (or `queue`). Admins only (403; 404 outside one's projects or for another project's version); `user` None is
    the operator at the command line. `to_worker=False` sends no message: the caller runs the job in its own
    process with `job_run(job_id=run.job_id)` (the same function as a worker; bench/train.py)."""
    if user is not None:
        project, _ = project_get_for_assist(user=user, project_id=project_id, action=AssistAction.TRAIN)
    else:
        from annotation.models import Project

        project = Project.objects.get(pk=project_id)
    version = DatasetVersion.objects.filter(pk=version_id, project=project).first()
    if version is None:
        raise NotFound("No such dataset version in this project.")
    if not version.counts.get("images", {}).get("train"):
        raise ValidationFailed(f"The version {version.name!r} has no training images.")
    if not to_worker:
        job = job_create(kind=TRAINING_JOB_KIND, project=project, created_by=user)
    else:
        job = job_start(
            kind=TRAINING_JOB_KIND, project=project, created_by=user, queue=queue or settings.DEFECTLAB_TRAINING_QUEUE
        )
    return TrainingRun.objects.create(
        project=project,
        kind=ModelKind.INTERACTIVE if recipe.name == INTERACTIVE_RECIPE else ModelKind.SEGMENTATION,
        dataset_version=version,
        content_hash=version.content_hash,
        recipe=recipe.to_dict(),
        seed=recipe.seed,
        code_version=code_version(),
        job=job,
        created_by=user,
    )


class RunRecorder:
    """on_progress of train(): the job's progress (its heartbeat) and the run's live figures (step, ETA, the loss
    curve, one history row per validation), written at most every RECORD_EVERY_SECONDS and at each validation.
    `validation_keys`: what a history row keeps of the validation metrics (the interactive recipe's differ)."""

    def __init__(
        self, run: TrainingRun, job: JobContext, validation_keys: tuple[str, ...] | None = None, unit: str = "epoch"
    ) -> None:
        self.run, self.job = run, job
        self.validation_keys = validation_keys or VALIDATION_KEYS
        self.unit = unit
        self.last_write = 0.0
        self.stride = 1
        self.is_first = True

    def __call__(self, progress: "Progress") -> None:
        run = self.run
        if self.is_first:  # a resumed run repeats the steps after its last checkpoint: drop what they drew
            run.loss_curve = [point for point in run.loss_curve if point[0] < progress.step]
            run.history = [row for row in run.history if row["step"] < progress.step]
            if progress.step > 1:  # this attempt carries on from a checkpoint an earlier one wrote
                run.resumed_at_steps = [*run.resumed_at_steps, progress.step - 1]
            # keep the spacing the curve had: it was thinned as it grew
            self.stride = run.loss_curve[-1][0] - run.loss_curve[-2][0] if len(run.loss_curve) > 1 else 1
            self.is_first = False
        run.step, run.epoch, run.total_steps = progress.step, progress.epoch + 1, progress.total_steps
        run.eta_seconds, run.elapsed_seconds = progress.eta_seconds, progress.elapsed_seconds
        if progress.val_metrics is not None:
            metrics = progress.val_metrics
            run.history.append(
                {
                    "epoch": progress.epoch + 1,
                    "step": progress.step,
                    "loss": _finite(progress.loss),
                    "elapsed_seconds": round(progress.elapsed_seconds, 1),
                    **{key: metrics.get(key) for key in self.validation_keys},
                }
            )
        elif progress.step % self.stride == 0 and math.isfinite(progress.loss):
            run.loss_curve.append([progress.step, round(progress.loss, 5)])
            if len(run.loss_curve) > LOSS_CURVE_MAX_POINTS:
                run.loss_curve, self.stride = run.loss_curve[::2], self.stride * 2
        total = f" of {progress.total_steps}" if progress.total_steps else ""
        # The message changes once an epoch: a changed message is written at once (the heartbeat), so it must not
        # change every step. Runs counted in steps say only that they train; the step is the progress itself.
        message = f"Training: epoch {progress.epoch + 1}" if self.unit == "epoch" else "Training"
        self.job.progress(progress.step, progress.total_steps, message)
        now = time.monotonic()
        if progress.val_metrics is not None or now - self.last_write >= RECORD_EVERY_SECONDS:
            self.flush()
            self.last_write = now
        logger.debug("run %s step %s%s loss %.4f", run.pk, progress.step, total, progress.loss)

    def flush(self) -> None:
        fields = ["step", "epoch", "total_steps", "eta_seconds", "elapsed_seconds", "loss_curve", "history"]
        fields.append("resumed_at_steps")
        TrainingRun.objects.filter(pk=self.run.pk).update(**{name: getattr(self.run, name) for name in fields})


VALIDATION_KEYS = (
    "mean_defect_iou",
    "per_class_iou",
    "detection_rate",
    "false_alarm_rate",
    "boundary_f1",
    "pixel_accuracy",
    "score_threshold",
)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def job_should_stop(job: JobContext) -> bool:
    try:
        job.check_cancelled()
    except JobCancelled:
        return True
    return False


def _min_area_px(version: DatasetVersion, classes: list[str], samples: list["Sample"]) -> tuple[float, ...]:
    """Per class: the project's minimum area in px when it declares one, else derived from the training masks."""
    from assist.training.decision import min_area_px_from_samples

    derived = min_area_px_from_samples(samples, len(classes))
    declared = {
        defect_class["name"]: (defect_class.get("min_sizes") or {}).get("min_area_px")
        for defect_class in version.taxonomy.get("defect_classes", [])
    }
    return tuple(float(declared.get(name) or derived[index]) for index, name in enumerate(classes))


def training_run_run(*, job: JobContext) -> dict[str, Any]:
    """The job: train (resuming from the run folder's last checkpoint), then evaluate, export and record."""
    import torch

    from assist.training.recipe import Recipe
    from assist.training.train import train

    run = TrainingRun.objects.select_related("dataset_version").get(job_id=job.job_id)
    if run.kind == ModelKind.INTERACTIVE:
        from assist.services.interactive_training import interactive_run_run

        return interactive_run_run(job=job, run=run)
    version, folder = run.dataset_version, run_folder(run)
    recipe = Recipe.from_dict(run.recipe)
    job.progress(0, None, f"Reading {version.name}")
    splits, classes = version_samples(
        version, on_image=lambda count: job.progress(count, None, f"Reading {version.name}")
    )
    device = "cuda" if torch.cuda.is_available() else "cpu"
    TrainingRun.objects.filter(pk=run.pk).update(device=device)
    recorder = RunRecorder(run, job)
    result = train(
        splits["train"],
        splits["val"] or splits["train"],  # a version without a val split validates on its training images
        recipe,
        defect_classes=classes,
        checkpoint_dir=folder,
        device=device,
        min_area_px=_min_area_px(version, classes, splits["train"]),
        on_progress=recorder,
        should_stop=lambda: job_should_stop(job),
        resume=True,
    )
    recorder.flush()
    if result.is_cancelled:
        raise JobCancelled(f"training run {run.pk} was cancelled at step {result.steps_done}")
    if result.best_checkpoint is None:
        raise ValidationFailed("The run ended before its first validation: give it more time or epochs.")
    model = _model_record(run=run, job=job, splits=splits, classes=classes, best=result.best_checkpoint)
    mlflow_run_log(run=run, model=model)
    iou = model.metrics.get("mean_defect_iou")
    job.progress(result.steps_done, result.steps_done, f"Model {model.pk} recorded: mean defect IoU {iou or 0:.3f}.")
    return {
        "run_id": run.pk,
        "model_id": model.pk,
        "steps": result.steps_done,
        "epochs": result.epochs_done,
        "mean_defect_iou": model.metrics.get("mean_defect_iou"),
    }


def _model_record(
    *, run: TrainingRun, job: JobContext, splits: dict[str, list["Sample"]], classes: list[str], best: Path
) -> TrainedModel:
    """Export the best weights (ONNX fp32 and int8, parity against PyTorch), evaluate the fp32 model on the test
    split (val when the version has no test images), draw the worst cases, and record the model once."""
    import torch

    from assist.training.checkpoints import network_from_checkpoint
    from assist.training.train import training_threads_now

    net, recipe, _, decision, validation_metrics = network_from_checkpoint(best)
    # PyTorch runs here on the CPU (tracing, parity): as many threads as the recipe trains with, since on a shared
    # machine OpenMP threads spin against each other (assist/training/recipe.py `torch_threads`).
    previous_threads, threads = torch.get_num_threads(), training_threads_now(recipe)
    torch.set_num_threads(threads)
    try:
        return _model_export_evaluate(
            run=run, job=job, splits=splits, classes=classes, net=net, recipe=recipe, decision=decision,
            validation_metrics=validation_metrics, threads=threads,
        )  # fmt: skip
    finally:
        torch.set_num_threads(previous_threads)


def _model_export_evaluate(
    *,
    run: TrainingRun,
    job: JobContext,
    splits: dict[str, list["Sample"]],
    classes: list[str],
    net: "SegmentationNet",
    recipe: "Recipe",
    decision: "DefectDecision | None",
    validation_metrics: dict[str, Any],
    threads: int,
) -> TrainedModel:
    """`threads`: the run's own (training_threads): its inference_ms is timed as the run would infer."""
    from assist.training.export import Predictor, onnx_export, onnx_quantize_int8, parity_check

    folder = run_folder(run)
    job.progress(0, None, "Exporting ONNX (fp32)")
    fp32 = onnx_export(net, folder / MODEL_FILES["onnx_fp32"], defect_classes=classes, decision=decision)
    job.progress(0, None, "Exporting ONNX (int8)")
    calibration = splits["train"][:: max(len(splits["train"]) // INT8_CALIBRATION_IMAGES, 1)][:INT8_CALIBRATION_IMAGES]
    int8 = onnx_quantize_int8(
        fp32, folder / MODEL_FILES["onnx_int8"], calibration_images=[sample.image for sample in calibration]
    )
    (folder / MODEL_FILES["decision"]).write_text(decision.to_json() if decision else "null")
    evaluated = splits["test"] or splits["val"]
    job.progress(0, len(evaluated), "Checking ONNX against PyTorch")
    parity_images = [sample.image for sample in evaluated[:PARITY_IMAGES]]
    parity = {"fp32": parity_check(net, fp32, parity_images), "int8": parity_check(net, int8, parity_images)}

    def progress(done: int) -> None:
        job.progress(done, len(evaluated), "Evaluating on the test split")
        job.check_cancelled()  # a cancel during the evaluation records no model

    predictor = Predictor(fp32, threads=threads)
    metrics, masks = predictor_evaluate(predictor, evaluated, flip=recipe.flip_test_time, on_image=progress)
    metrics["inference_threads"] = threads
    metrics["split"] = "test" if splits["test"] else "val"
    worst_cases_draw(metrics, evaluated, masks, folder / WORST_FOLDER)
    model, _ = TrainedModel.objects.update_or_create(
        run=run,
        defaults={
            "project_id": run.project_id,
            "defect_classes": classes,
            "metrics": metrics,
            "validation_metrics": _json_ready(validation_metrics),
            "decision": json.loads(decision.to_json()) if decision is not None else {},
            "parity": parity,
            "files": {name: f"runs/{run.pk}/{file}" for name, file in MODEL_FILES.items()},
        },
    )
    return model


def _json_ready(metrics: dict[str, Any]) -> dict[str, Any]:
    """Validation metrics without the worst-case rows (their images are the val split's, not drawn)."""
    return {key: value for key, value in metrics.items() if key != "worst_cases"}


def training_run_progress_text(run: TrainingRun) -> str:
    """One line for the command line: the job's status and the run's step, epoch and ETA."""
    job: Job = run.job
    eta = f", about {run.eta_seconds / 60:.1f} min left" if run.eta_seconds else ""
    total = f" of {run.total_steps}" if run.total_steps else ""
    return f"{job.status}: epoch {run.epoch}, step {run.step}{total}{eta}. {job.message}"
