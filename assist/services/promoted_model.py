"""The project's promoted trained model, as label next and label-error review use it: its id and a Predictor.
While a project has no promoted model, the answer is NoPromotedModel (409) with what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from annotation.models import Project
from assist.errors import NoPromotedModel
from assist.selectors import model_promoted_for_project
from assist.services.models import model_predictor

if TYPE_CHECKING:  # torch and onnxruntime load with the predictor, in the job that scores, not in web processes
    from assist.training.export import Predictor

NO_PROMOTED_MODEL = "This project has no promoted model: train one and promote it on its model page."


@dataclass(frozen=True)
class PromotedModel:
    model_id: int
    predictor: Predictor


def promoted_model_id(*, project: Project) -> int:
    """The id of the project's promoted model; NoPromotedModel without one."""
    model = model_promoted_for_project(project)
    if model is None:
        raise NoPromotedModel(NO_PROMOTED_MODEL)
    return int(model.pk)


def promoted_model_load(*, project: Project, model_id: int) -> PromotedModel:
    """The model a job was started with, if it is still the promoted one (NoPromotedModel otherwise: a job
    does not score with a model the project has since replaced)."""
    model = model_promoted_for_project(project)
    if model is None:
        raise NoPromotedModel(NO_PROMOTED_MODEL)
    if model.pk != model_id:
        raise NoPromotedModel(f"Model {model_id} is no longer this project's promoted model; start the job again.")
    return PromotedModel(model_id=model_id, predictor=model_predictor(model))
