"""The project's promoted trained model, as label next and label-error review use it: its id and a Predictor.

The model registry (TrainedModel, promotion, `assist.selectors.model_promoted_for_project` and
`assist.services.models.model_predictor`) is built beside this work; the two are looked up by name when a job
starts or runs, so this module imports neither. Until the registry is there, or while a project has no promoted
model, the answer is NoPromotedModel (409) with what to do."""

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from annotation.models import Project
from assist.errors import NoPromotedModel
from assist.training.export import Predictor

NO_PROMOTED_MODEL = "This project has no promoted model: train one and promote it on its model page."


@dataclass(frozen=True)
class PromotedModel:
    model_id: int
    predictor: Predictor


def _registry_function(module_name: str, name: str) -> Any:
    """The registry's function, or NoPromotedModel while this build has no registry (the module or the function
    missing). Any other import error is a bug in the registry and is raised as it is."""
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise NoPromotedModel(NO_PROMOTED_MODEL) from None
    function = getattr(module, name, None)
    if function is None:
        raise NoPromotedModel(NO_PROMOTED_MODEL)
    return function


def promoted_model_id(*, project: Project) -> int:
    """The id of the project's promoted model; NoPromotedModel without one."""
    model = _registry_function("assist.selectors", "model_promoted_for_project")(project=project)
    if model is None:
        raise NoPromotedModel(NO_PROMOTED_MODEL)
    return int(model.pk)


def promoted_model_load(*, project: Project, model_id: int) -> PromotedModel:
    """The model a job was started with, if it is still the promoted one (NoPromotedModel otherwise: a job
    does not score with a model the project has since replaced)."""
    model = _registry_function("assist.selectors", "model_promoted_for_project")(project=project)
    if model is None or model.pk != model_id:
        raise NoPromotedModel(f"Model {model_id} is no longer this project's promoted model; start the job again.")
    predictor: Predictor = _registry_function("assist.services.models", "model_predictor")(model=model)
    return PromotedModel(model_id=model_id, predictor=predictor)
