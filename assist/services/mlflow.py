"""MLflow logging of training runs, for plants that run an MLflow server: with MLFLOW_TRACKING_URI set and the
`mlflow` package installed, each finished run logs its recipe, dataset version, validation history, test metrics
and ONNX files there. MLflow is optional: it is not a dependency, and without it nothing is logged.

The registry in DefectLab's own tables stays the record: a logging failure (the MLflow server down) is logged as
a warning and does not fail a run that trained and evaluated well."""

import importlib.util
import logging
import os

from assist.models import TrainedModel, TrainingRun
from assist.services.models import model_files, run_folder

logger = logging.getLogger(__name__)
EXPERIMENT_PREFIX = "defectlab"  # one MLflow experiment per project: "defectlab/<project slug>"


def mlflow_is_configured() -> bool:
    return bool(os.environ.get("MLFLOW_TRACKING_URI")) and importlib.util.find_spec("mlflow") is not None


def mlflow_run_log(*, run: TrainingRun, model: TrainedModel) -> str | None:
    """Log the run and its model to MLflow; returns the MLflow run id, or None when MLflow is not configured."""
    if not mlflow_is_configured():
        return None
    import mlflow  # type: ignore[import-not-found]  # optional: present only where the plant installed it

    try:
        mlflow.set_experiment(f"{EXPERIMENT_PREFIX}/{run.project.slug}")
        with mlflow.start_run(run_name=f"run-{run.pk}") as logged:
            mlflow.log_params(
                {
                    "recipe": run.recipe["name"],
                    "seed": run.seed,
                    "dataset_version": run.dataset_version.name,
                    "content_hash": run.content_hash,
                    "code_version": run.code_version,
                    "device": run.device,
                }
            )
            for row in run.history:
                for key in ("loss", "mean_defect_iou", "detection_rate", "false_alarm_rate"):
                    if isinstance(row.get(key), int | float):
                        mlflow.log_metric(f"val_{key}", row[key], step=row["step"])
            for key, value in model.metrics.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    mlflow.log_metric(f"test_{key}", value)
            folder = run_folder(run)
            for name, file in model_files(model.kind).items():
                if name != "checkpoint":  # the deployable files; the checkpoint stays on the plant's disk
                    mlflow.log_artifact(str(folder / file))
            return str(logged.info.run_id)
    except Exception as error:  # noqa: BLE001 - MLflow is a copy of the record: its failure must not lose the model
        logger.warning("MLflow logging of training run %s failed: %s", run.pk, error)
        return None
