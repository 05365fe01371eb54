"""Training runs in this process (the job's own function, as a worker runs it): train, evaluate on the version's
test split, export ONNX with parity, record the model; promotion; cancel; resume. The real worker's run is
tests/test_training_worker.py."""

import io
import json
import shutil
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection

from annotation.models import Image
from assist.engines.base import Prompt, engine_get
from assist.engines.trained import model_engine_name
from assist.job_kinds import TRAINING_JOB_KIND
from assist.models import TrainedModel, TrainingRun
from assist.selectors import engines_for_project, model_promoted_for_project
from assist.services.evaluation import model_evaluation_start
from assist.services.models import MODEL_FILES, model_predictor, run_folder, trained_model_promote
from assist.services.pixels import image_pixels
from assist.services.training import training_run_start
from assist.tests.training_data import TINY_RECIPE, tile_version
from assist.training.checkpoints import LAST_NAME, checkpoint_load
from assist.training.recipe import Recipe
from defectlab.errors import PermissionDenied
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_cancel, job_create, job_run
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.slow, pytest.mark.training, pytest.mark.django_db(transaction=True)]
TINY_FIELDS = ("steps_per_epoch", "batch_size", "crop_size_px", "decoder_channels", "validate_every_epochs")
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
def data_folder(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def version(team, magnetic_tile, data_folder):
    return tile_version(team.project, magnetic_tile, data_folder, per_folder=3)


def test_a_run_trains_evaluates_exports_and_records_its_model(team, version, data_folder):
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
    # int8 is recorded beside fp32; after 2 steps the class probabilities are near even, so argmax agreement
    # says nothing yet (bench/train_recipe.py --int8 measures it on a trained model)
    assert 0.0 <= model.parity["int8"]["mask_agreement"] <= 1.0
    folder = run_folder(run)
    assert all((folder / file).is_file() for file in MODEL_FILES.values())
    assert json.loads((folder / "decision.json").read_text()) == model.decision
    assert len(list((folder / "worst").glob("*.png"))) == len(model.metrics["worst_cases"]) > 0
    # and the model is deployable: its Predictor reads its classes and rule from the ONNX file
    predictor = model_predictor(model)
    assert predictor.defect_classes == model.defect_classes
    assert predictor.decision.score_threshold == pytest.approx(model.decision["score_threshold"])
    # and an ML engineer's evaluation job on the version's test split gives the same figures
    evaluation = job_run(job_id=model_evaluation_start(user=team.ml_engineer, model_id=model.pk).pk)
    assert (evaluation.status, evaluation.result["version_id"]) == (JobStatus.SUCCEEDED, version.pk)
    for key in ("mean_defect_iou", "per_class_iou", "detection_rate", "false_alarm_rate", "confusion_matrix"):
        assert evaluation.result["metrics"][key] == model.metrics[key]
    # and `evaluate_model latest --data DIR` prints the metrics of a folder as one JSON object on its last line
    out = io.StringIO()
    call_command("evaluate_model", "latest", "--data", str(data_folder), stdout=out, stderr=io.StringIO())
    printed = json.loads(out.getvalue().strip().splitlines()[-1])
    assert METRIC_KEYS - {"confusion_matrix", "worst_cases"} <= set(printed)
    assert (printed["model_id"], printed["images"]) == (model.pk, 18)  # 3 images in each of the 6 folders
    assert set(printed["per_class_iou"]) == set(model.defect_classes)


def test_only_admins_start_runs_and_promote(team, version):
    with pytest.raises(PermissionDenied):
        training_run_start(user=team.ml_engineer, project_id=team.project.pk, version_id=version.pk, recipe=TINY_RECIPE)
    assert TrainingRun.objects.count() == 0


def _copy_of(model: TrainedModel) -> TrainedModel:
    """Another finished run of the same version with the same files (its own rows and run folder)."""
    run = model.run
    job = job_create(kind=TRAINING_JOB_KIND, project=run.project, created_by=run.created_by)
    copy = TrainingRun.objects.create(
        **{field: getattr(run, field) for field in ("project", "dataset_version", "content_hash", "recipe", "seed")},
        code_version=run.code_version,
        job=job,
    )
    shutil.copytree(run_folder(run), run_folder(copy))
    return TrainedModel.objects.create(
        run=copy,
        **{
            field: getattr(model, field)
            for field in ("project", "defect_classes", "metrics", "validation_metrics", "decision", "parity", "files")
        },
    )


def test_the_promoted_model_is_the_projects_engine(team, version):
    # given: a run by `manage.py train --here`, and a second finished run
    out = io.StringIO()
    tiny = [f"--set={field}={getattr(TINY_RECIPE, field)!r}" for field in TINY_FIELDS]
    call_command("train", team.project.slug, version.name, "--epochs", "1", "--here", *tiny, stdout=out)
    assert "succeeded: epoch 1, step 2 of 2" in out.getvalue()
    second = TrainedModel.objects.get()
    assert Recipe.from_dict(second.run.recipe) == TINY_RECIPE
    first = _copy_of(second)
    assert engines_for_project(project=team.project).prelabel_engine is None  # nothing promoted yet
    # when
    trained_model_promote(user=team.admin, model_id=first.pk)
    trained_model_promote(user=team.admin, model_id=second.pk)
    # then: one promoted model, which pre-labels for this project and no other
    assert model_promoted_for_project(team.project) == second
    assert list(TrainedModel.objects.filter(is_promoted=True).values_list("pk", flat=True)) == [second.pk]
    engines = engines_for_project(project=team.project)
    assert engines.prelabel_engine == model_engine_name(second.pk)
    assert model_engine_name(first.pk) not in [engine.name for engine in engines.engines]
    other = ProjectFactory.create()
    assert engines_for_project(project=other).prelabel_engine is None
    with pytest.raises(PermissionDenied):
        trained_model_promote(user=team.ml_engineer, model_id=first.pk)
    # and its engine answers an inspector's box on a training image
    image = Image.objects.filter(project=team.project, is_defect_free=False).order_by("id").first()
    result = engine_get(model_engine_name(second.pk)).predict(
        image_pixels(image), Prompt(box=(0, 0, image.width - 1, image.height - 1))
    )
    assert (result.engine, result.image_shape) == (model_engine_name(second.pk), (image.height, image.width))


def test_a_run_cancelled_while_it_trains_stops_with_its_checkpoint(team, version):
    # given: a long run, trained in a thread
    recipe = TINY_RECIPE.with_changes(epochs=50, steps_per_epoch=4)
    run = training_run_start(
        user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=recipe, to_worker=False
    )
    outcome: dict = {}

    def train_here() -> None:
        try:
            outcome["job"] = job_run(job_id=run.job_id)
        finally:
            connection.close()

    trainer = threading.Thread(target=train_here)
    trainer.start()
    # when: the admin cancels once it has trained a step
    deadline = time.monotonic() + 120
    while TrainingRun.objects.get(pk=run.pk).step < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    job_cancel(job=Job.objects.get(pk=run.job_id), user=team.admin)
    trainer.join(timeout=120)
    # then: cancelled at a step, its checkpoint there, no model
    job = outcome["job"]
    assert job.status == JobStatus.CANCELLED
    saved = checkpoint_load(run_folder(run) / LAST_NAME)["state"]["global_step"]
    assert 1 <= saved < 50 * 4
    assert not TrainedModel.objects.filter(run=run).exists()
