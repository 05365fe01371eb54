"""The interactive (click-and-box) recipe as a training run, through a real Celery worker on the training queue,
Redis and PostgreSQL (issue 13): a run of 2 steps on a handful of shared magnetic-tile images is trained from the
version's train split, checkpointed, exported to ONNX with a parity check, scored on the test split beside the
classical engine, and recorded as an interactive model; promoted, it becomes the project's interactive engine and
answers a click with the previous answer as input, as the exported file does in this process."""

import numpy as np
import pytest

from assist.engines.base import Prompt, engine_get
from assist.engines.interactive_model import interactive_engine_name
from assist.engines.quality import engine_score
from assist.interactive.engine import InteractiveEngine
from assist.interactive.train import regions_for_validation
from assist.models import ModelKind, TrainedModel, TrainingRun
from assist.selectors import engine_names_for_project, model_promoted_for_project
from assist.services.evaluation import model_evaluation_start, version_samples
from assist.services.models import model_file_path, run_folder, trained_model_promote
from assist.services.training import training_run_start
from assist.tests.training_data import TINY_INTERACTIVE_RECIPE, tile_version
from assist.training.checkpoints import LAST_NAME, checkpoint_load
from conftest import worker_start
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_run
from tests.test_worker_lost import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.training,
    pytest.mark.django_db(transaction=True),
]
QUEUE = "interactive-training-test"
RUN_SECONDS = 240  # a tiny run, its export and its scoring on a loaded 2-core machine
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@pytest.fixture
def training_worker(transactional_db):
    worker = worker_start(queues=QUEUE, log_name="interactive-training-worker.log")
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


def test_an_interactive_run_on_the_worker_trains_exports_scores_and_answers_clicks(
    training_worker, team, magnetic_tile, tmp_path
):
    # given: a version of a few real tiles per class
    version = tile_version(team.project, magnetic_tile, tmp_path / "data", per_folder=3)
    # when: an admin starts an interactive run of 2 steps, taken by the worker
    run = training_run_start(
        user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=TINY_INTERACTIVE_RECIPE, queue=QUEUE
    )
    wait_until(lambda: Job.objects.get(pk=run.job_id).status in FINISHED, seconds=RUN_SECONDS)
    # then: trained, checkpointed, validated once, exported with parity, scored on the test split, recorded
    job = Job.objects.get(pk=run.job_id)
    assert (job.status, job.error, job.attempts) == (JobStatus.SUCCEEDED, "", 1)
    run = TrainingRun.objects.get(pk=run.pk)
    model = TrainedModel.objects.get(run=run)
    assert (run.kind, model.kind, run.step, job.result["model_id"]) == ("interactive", "interactive", 2, model.pk)
    assert checkpoint_load(run_folder(run) / LAST_NAME)["state"]["step"] == 2
    assert [row["step"] for row in run.history] == [2]
    assert model.parity["fp32"]["max_abs_probability_difference"] < 1e-3
    assert model.parity["fp32"]["mask_agreement"] > 0.999
    splits, classes = version_samples(version, splits=["test"])
    regions = regions_for_validation(splits["test"], defect_classes=classes)
    metrics = model.metrics
    assert (metrics["split"], metrics["regions"]) == ("test", len(regions))
    assert set(metrics["per_class_iou"]) == {region.defect_class for region in regions}
    # the worker's scores are the benchmark's on the exported file, and the classical engine's on the same regions
    path = model_file_path(model, "onnx_fp32")
    scored = engine_score("interactive", InteractiveEngine(path), regions)
    assert {key: metrics[key] for key in scored} == scored
    assert metrics["baselines"]["classical"] == engine_score("classical", engine_get("classical"), regions)
    assert metrics["click_p50_ms"] > 0
    assert sorted(model.files) == ["checkpoint", "onnx_fp32"]
    # and an ML engineer's evaluation job on the version's test split scores it the same way
    # (run here, unless the session's worker on the default queue took its message first)
    evaluation_id = model_evaluation_start(user=team.ml_engineer, model_id=model.pk).pk
    job_run(job_id=evaluation_id)
    wait_until(lambda: Job.objects.get(pk=evaluation_id).status in FINISHED, seconds=RUN_SECONDS)
    evaluation = Job.objects.get(pk=evaluation_id)
    assert (evaluation.status, evaluation.error) == (JobStatus.SUCCEEDED, "")
    assert {key: evaluation.result["metrics"][key] for key in scored} == scored
    # when: the admin promotes it
    trained_model_promote(user=team.admin, model_id=model.pk)
    # then: it is the project's interactive model, not its segmentation model, and an engine the editor may ask
    name = interactive_engine_name(model.pk)
    assert model_promoted_for_project(team.project) is None
    assert model_promoted_for_project(team.project, kind=ModelKind.INTERACTIVE) == model
    assert name in engine_names_for_project(project=team.project)
    # and its engine answers a box, then a click with that answer as the previous mask, as the file does here
    region = regions[0]
    engine, reference = engine_get(name), InteractiveEngine(path)
    first = engine.predict(region.image, Prompt(box=region.box))
    rows, columns = np.nonzero(region.mask)
    click = Prompt(
        box=region.box, positive_clicks=((float(columns[0]), float(rows[0])),), previous_mask=first.full_mask()
    )
    answer, expected = engine.predict(region.image, click), reference.predict(region.image, click)
    assert (answer.engine, answer.offset) == (name, expected.offset)
    assert np.array_equal(answer.mask, expected.mask)
