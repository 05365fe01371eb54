"""Retraining in one click (admins) and the assist statistics per trained model (issue 13)."""

import pytest

from annotation.models import Image, ImageStatus
from assist.interactive.recipe import InteractiveRecipe
from assist.models import ModelKind, TrainingRun
from assist.services.retraining import trained_model_retrain
from assist.statistics import Comparison, ModelStatistics, OutcomeRow, model_statistics
from assist.tests.factories import spotted_image_create
from assist.tests.interactive_model import interactive_model_create, quality
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from defectlab.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def test_retraining_runs_the_models_recipe_on_the_newest_version(team, api):
    # given: an interactive model, and a newer version of the project
    model = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.7, 9.0))
    image = spotted_image_create(project=team.project, spots=[(30, 30, 8)], name="newer.png", seed=3)
    Image.objects.filter(pk=image.pk).update(status=ImageStatus.FINAL, is_defect_free=True)
    newest = dataset_version_freeze(
        project=team.project,
        name="v-newest",
        created_by=None,
        options=FreezeOptions(split_ratios=(("train", 1.0), ("val", 0.0), ("test", 0.0))),
    )
    # when: the admin presses the model page's button
    response = api(team.admin).post(f"/api/v1/models/{model.pk}/retrain/")
    # then: a new interactive run of the same recipe on the newest version, queued for a training worker
    assert response.status_code == 202, response.json()
    run = TrainingRun.objects.get(pk=response.json()["id"])
    assert (run.kind, run.dataset_version) == (ModelKind.INTERACTIVE, newest)
    assert InteractiveRecipe.from_dict(run.recipe) == InteractiveRecipe.from_dict(model.run.recipe)
    assert (response.json()["kind"], response.json()["dataset_version_name"]) == ("interactive", "v-newest")
    assert run.job.kind == "training_run"


@pytest.mark.parametrize("role", ["inspector", "senior", "ml_engineer"])
def test_only_admins_retrain(team, role):
    model = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.7, 9.0))
    runs_before = TrainingRun.objects.count()
    with pytest.raises(PermissionDenied):
        trained_model_retrain(user=team.member(role), model_id=model.pk)
    assert TrainingRun.objects.count() == runs_before


def test_retraining_another_projects_or_a_missing_model_is_404(team, api):
    model = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.7, 9.0))
    runs_before = TrainingRun.objects.count()
    for model_id in (model.pk, model.pk + 1000):
        response = api(team.outsider).post(f"/api/v1/models/{model_id}/retrain/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert TrainingRun.objects.count() == runs_before


def _row(engine: str, outcome: str, clicks: int | None) -> OutcomeRow:
    iou = None if outcome == "deleted" else 1.0
    return OutcomeRow(engine, "crack", "assist", Comparison(outcome, iou, 0), clicks)  # type: ignore[arg-type]


def test_each_model_has_its_acceptance_and_clicks_per_kept_defect():
    rows = [
        _row("interactive-7", "unchanged", 3),
        _row("interactive-7", "edited", 5),
        _row("interactive-7", "deleted", 9),  # not kept: its clicks do not count
        _row("interactive-12", "unchanged", 1),
        _row("model-4", "deleted", None),
        _row("classical", "unchanged", 2),  # not a trained model
    ]
    assert model_statistics(rows) == [
        ModelStatistics("model-4", 4, "segmentation", 1, 0.0, None),
        ModelStatistics("interactive-7", 7, "interactive", 3, 2 / 3, 4.0),
        ModelStatistics("interactive-12", 12, "interactive", 1, 1.0, 1.0),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"recipe": "interactive", "epochs": 2}, "The interactive recipe's budget is minutes (of CPU time) or steps"),
        ({"recipe": "interactiv"}, "No recipe 'interactiv'; recipes: unet-lite0, unet-scratch, interactive."),
        ({"recipe": "interactive", "minutes": 10_000}, "at most 600 minutes"),
    ],
)
def test_an_interactive_run_with_a_budget_it_cannot_keep_is_refused(team, api, body, message):
    model = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.7, 9.0))
    runs_before = TrainingRun.objects.count()
    response = api(team.admin).post(
        f"/api/v1/projects/{team.project.pk}/training-runs/",
        {"version_id": model.run.dataset_version_id, **body},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert message in response.json()["message"]
    assert TrainingRun.objects.count() == runs_before


def test_an_admin_starts_an_interactive_run_from_the_api(team, api):
    model = interactive_model_create(project=team.project, admin=team.admin, metrics=quality(0.7, 9.0))
    response = api(team.admin).post(
        f"/api/v1/projects/{team.project.pk}/training-runs/",
        {"version_id": model.run.dataset_version_id, "recipe": "interactive", "minutes": 2},
        format="json",
    )
    assert response.status_code == 202, response.json()
    run = TrainingRun.objects.get(pk=response.json()["id"])
    recipe = InteractiveRecipe.from_dict(run.recipe)
    assert (run.kind, recipe.budget_seconds, recipe.budget_clock) == ("interactive", 120.0, "cpu")
