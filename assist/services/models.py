"""The model registry: where a run's files live, the onnxruntime Predictor of a model, promotion (one model per
project), and the files a model page offers for download.

A run's folder is DEFECTLAB_TRAINING_DIR/runs/<run id>/ on a disk the web processes and every worker share
(like DEFECTLAB_SAM_DIR): the checkpoints `last.pt` and `best.pt`, `model.onnx` (fp32), `model.int8.onnx`,
`decision.json` and the worst cases' pictures `worst/NN.png`. A model's files never change once it is recorded,
so a Predictor is built once per process and model."""

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assist.models import ModelKind, TrainedModel, TrainingRun
from assist.permissions import AssistAction
from assist.selectors import trained_model_get_for_user
from defectlab.errors import NotFound

if TYPE_CHECKING:  # the Predictor pulls in onnxruntime and torch: imported when first used, not at start-up
    from assist.training.export import Predictor

MODEL_FILES = {
    "checkpoint": "best.pt",
    "onnx_fp32": "model.onnx",
    "onnx_int8": "model.int8.onnx",
    "decision": "decision.json",
}
"What a segmentation model's page offers: name -> file in the run's folder."
INTERACTIVE_MODEL_FILES = {"checkpoint": "best.pt", "onnx_fp32": "model.onnx"}
"An interactive model's files: no int8 file (13.5 MB fp32 runs a 128 px crop in about 8 ms) and no decision rule."
WORST_FOLDER = "worst"
PREDICTOR_CACHE_SIZE = 4  # models whose ONNX session a process keeps (a Lite0 U-Net session is about 15 MB)


def run_folder(run: TrainingRun) -> Path:
    return Path(settings.DEFECTLAB_TRAINING_DIR) / "runs" / str(run.pk)


def model_files(kind: str) -> dict[str, str]:
    """The files a model of `kind` has: name -> file in its run's folder."""
    return INTERACTIVE_MODEL_FILES if kind == ModelKind.INTERACTIVE else MODEL_FILES


def model_file_path(model: TrainedModel, name: str) -> Path:
    """The file `name` (a key of model_files) of `model`; NotFound for another name or a file gone from disk."""
    files = model_files(model.kind)
    if name not in files:
        raise NotFound(f"No model file {name!r}; files: {', '.join(files)}.")
    path = run_folder(model.run) / files[name]
    if not path.is_file():
        raise NotFound(f"The file {files[name]} of model {model.pk} is not on this server any more.")
    return path


def model_worst_case_path(model: TrainedModel, index: int) -> Path:
    """The picture (image, truth, prediction side by side) of the `index`th worst test case."""
    path = run_folder(model.run) / WORST_FOLDER / f"{index:02d}.png"
    if not 0 <= index < len(model.metrics.get("worst_cases", [])) or not path.is_file():
        raise NotFound("No such worst case.")
    return path


def model_is_usable(model: TrainedModel) -> bool:
    """Whether its fp32 ONNX file is on this server's disk (what the engine and pre-labels load)."""
    return (run_folder(model.run) / MODEL_FILES["onnx_fp32"]).is_file()


def model_predictor(model: TrainedModel) -> "Predictor":
    """The onnxruntime Predictor of `model` (fp32 ONNX, with the decision rule stored in it), built once per process.
    NotFound when its file is not on this server."""
    return _predictor(str(model_file_path(model, "onnx_fp32")))


@functools.lru_cache(maxsize=PREDICTOR_CACHE_SIZE)
def _predictor(path: str) -> "Predictor":
    from assist.training.export import Predictor

    return Predictor(path)


@transaction.atomic
def trained_model_promote(*, user: User, model_id: int) -> TrainedModel:
    """Make `model_id` its project's promoted model of its kind (admins; 403 for other roles, 404 across projects):
    pre-labels (segmentation) or the editor's assist tools (interactive) use it from now on. The previous one of the
    same kind is demoted in the same transaction; the partial unique constraint keeps two promotions racing from
    both winning."""
    model = trained_model_get_for_user(user=user, model_id=model_id, action=AssistAction.PROMOTE)
    if not model_is_usable(model):
        raise NotFound(f"The files of model {model.pk} are not on this server; it cannot be promoted.")
    TrainedModel.objects.select_for_update().filter(
        project_id=model.project_id, kind=model.kind, is_promoted=True
    ).exclude(pk=model.pk).update(is_promoted=False)
    model.is_promoted, model.promoted_at, model.promoted_by = True, timezone.now(), user
    model.save(update_fields=["is_promoted", "promoted_at", "promoted_by"])
    return model


def _model_of_engine(name: str) -> TrainedModel | None:
    """The model an engine name means: "model-<id>" a segmentation model, "interactive-<id>" an interactive one."""
    from assist.engines.interactive_model import FAMILY as INTERACTIVE_FAMILY
    from assist.engines.trained import FAMILY

    prefix, _, key = name.partition("-")
    kind = {FAMILY: ModelKind.SEGMENTATION, INTERACTIVE_FAMILY: ModelKind.INTERACTIVE}.get(prefix)
    if kind is None or not key.isdigit() or len(key) > 18:  # 18 digits: always within a bigint
        return None
    return TrainedModel.objects.select_related("run").filter(pk=int(key), kind=kind).first()


def model_engine_is_available(name: str) -> bool:
    """Whether the engine `name` ("model-<id>", "interactive-<id>") is a model whose files are on this server."""
    model = _model_of_engine(name)
    return model is not None and model_is_usable(model)


def model_engine_predictor(name: str) -> "Predictor":
    model = _model_of_engine(name)
    if model is None:
        raise KeyError(f"no trained model for the engine {name!r}")
    return model_predictor(model)


def model_engine_onnx_path(name: str) -> Path:
    """The fp32 ONNX file of the interactive model an engine "interactive-<id>" means (KeyError: none)."""
    model = _model_of_engine(name)
    if model is None:
        raise KeyError(f"no trained model for the engine {name!r}")
    return model_file_path(model, "onnx_fp32")
