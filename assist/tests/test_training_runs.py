"""Training runs in this process (the job's own function, as a worker runs it): train, evaluate on the version's
test split, export ONNX with parity, record the model; promotion; cancel; resume. The real worker's run is
tests/test_training_worker.py."""

import json

import pytest

from assist.models import TrainedModel, TrainingRun
from assist.selectors import model_promoted_for_project
from assist.services.models import MODEL_FILES, model_predictor, run_folder, trained_model_promote
from assist.services.training import training_run_start
from assist.tests.training_data import TINY_RECIPE, tile_version
from assist.training.recipe import Recipe
from defectlab.errors import PermissionDenied
from defectlab.jobs.models import JobStatus
from defectlab.jobs.services import job_run

pytestmark = [pytest.mark.slow, pytest.mark.training, pytest.mark.django_db]
METRIC_KEYS = {
    "mean_defect_iou",
    "per_class_iou",
    "pixel_accuracy",
    "boundary_f1",
    "detection_rate",
    "false_alarm_rate",
    "inference_ms",
    "confusion_matrix",
    "worst_cases",
}


@pytest.fixture
def version(team, magnetic_tile, tmp_path):
    return tile_version(team.project, magnetic_tile, tmp_path / "data", per_folder=3)


def test_a_run_trains_evaluates_exports_and_records_its_model(team, version):
    # given
    run = training_run_start(
        user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=TINY_RECIPE, to_worker=False
    )
    # when
    job = job_run(job_id=run.job_id)
    # then
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, "")
    run.refresh_from_db()
    model = TrainedModel.objects.get(run=run)
    assert job.result == {
        "run_id": run.pk,
        "model_id": model.pk,
        "steps": 2,
        "epochs": 1,
        "mean_defect_iou": model.metrics["mean_defect_iou"],
    }
    assert (run.step, run.epoch, run.total_steps, run.device) == (2, 1, 2, "cpu")
    assert (run.content_hash, run.seed, Recipe.from_dict(run.recipe)) == (version.content_hash, 0, TINY_RECIPE)
    assert [row["step"] for row in run.history] == [2]
    assert set(run.history[0]["per_class_iou"]) == set(model.defect_classes)
    assert [point[0] for point in run.loss_curve] == [1, 2]
    assert METRIC_KEYS <= set(model.metrics)
    assert model.metrics["split"] == "test"
    assert model.parity["fp32"]["max_abs_probability_difference"] < 1e-3
    assert model.parity["int8"]["mask_agreement"] > 0.5
    folder = run_folder(run)
    assert all((folder / file).is_file() for file in MODEL_FILES.values())
    assert json.loads((folder / "decision.json").read_text()) == model.decision
    assert len(list((folder / "worst").glob("*.png"))) == len(model.metrics["worst_cases"]) > 0
    # and the model is deployable: its Predictor reads its classes and rule from the ONNX file
    predictor = model_predictor(model)
    assert predictor.defect_classes == model.defect_classes
    assert predictor.decision.score_threshold == pytest.approx(model.decision["score_threshold"])


def test_only_admins_start_runs_and_promote(team, version):
    with pytest.raises(PermissionDenied):
        training_run_start(user=team.ml_engineer, project_id=team.project.pk, version_id=version.pk, recipe=TINY_RECIPE)
    assert TrainingRun.objects.count() == 0


def test_promoting_a_model_demotes_the_previous_one(team, version):
    # given: two finished runs
    models = []
    for _ in range(2):
        run = training_run_start(
            user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=TINY_RECIPE, to_worker=False
        )
        assert job_run(job_id=run.job_id).status == JobStatus.SUCCEEDED
        models.append(TrainedModel.objects.get(run=run))
    # when
    trained_model_promote(user=team.admin, model_id=models[0].pk)
    trained_model_promote(user=team.admin, model_id=models[1].pk)
    # then
    assert model_promoted_for_project(team.project) == models[1]
    assert list(TrainedModel.objects.filter(is_promoted=True).values_list("pk", flat=True)) == [models[1].pk]
    with pytest.raises(PermissionDenied):
        trained_model_promote(user=team.ml_engineer, model_id=models[0].pk)
