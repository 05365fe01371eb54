"""Retraining in one click: a model's recipe trained again on its project's newest dataset version (admins, the
model page's button). The run is an ordinary training run (assist/services/training.py); the new model is promoted
by hand, after its evaluation, like any other."""

from django.contrib.auth.models import User
from django.db import transaction

from assist.models import ModelKind, TrainingRun
from assist.permissions import AssistAction
from assist.selectors import trained_model_get_for_user
from assist.services.training import training_run_start
from datasets.models import DatasetVersion
from defectlab.errors import ValidationFailed


@transaction.atomic
def trained_model_retrain(*, user: User, model_id: int) -> TrainingRun:
    """Start a run of `model_id`'s recipe (same kind, budget and seed) on the newest dataset version of its project.
    Admins only (403; 404 across projects); 400 when the project has no version with training images."""
    from assist.interactive.recipe import InteractiveRecipe
    from assist.training.recipe import Recipe

    model = trained_model_get_for_user(user=user, model_id=model_id, action=AssistAction.TRAIN)
    newest = DatasetVersion.objects.filter(project_id=model.project_id).order_by("-created_at", "-id").first()
    if newest is None:
        raise ValidationFailed("This project has no dataset version: freeze one first.")
    recipe_values = model.run.recipe
    recipe = (
        InteractiveRecipe.from_dict(recipe_values)
        if model.kind == ModelKind.INTERACTIVE
        else Recipe.from_dict(recipe_values)
    )
    return training_run_start(user=user, project_id=model.project_id, version_id=newest.pk, recipe=recipe)
