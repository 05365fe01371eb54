"""Training runs through real Celery worker processes on Redis and PostgreSQL.

- A run of 2 steps on a handful of shared magnetic-tile images: trained (its checkpoint written), evaluated on the
  version's test split, exported to ONNX fp32 and int8 with a parity check, recorded; promoted, the model then
  pre-labels one image through the pre-label job, on the worker.
- A worker killed (SIGKILL) in the middle of a run, right after an epoch's checkpoint: the job is found stale,
  queued again, and the live worker resumes it from that checkpoint; one run, one model, every step once.

Each test's workers listen on queues of their own, so the session's shared worker never takes a training job."""

import os
import signal
import time
from pathlib import Path

import pytest

from annotation.models import Image
from assist.engines.trained import TrainedModelEngine, model_engine_name
from assist.models import Suggestion, SuggestionOrigin, TrainedModel, TrainingRun
from assist.services.models import model_predictor, run_folder, trained_model_promote
from assist.services.pixels import image_pixels
from assist.services.prelabels import PRELABEL_MAX_PER_IMAGE, prelabels_start
from assist.services.training import training_run_start
from assist.tests.training_data import TINY_RECIPE, tile_version
from assist.training.checkpoints import LAST_NAME, checkpoint_load
from conftest import worker_start
from datasets.ingest import sha256_of
from datasets.services.imports import images_import
from datasets.sources import Source
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import jobs_recover
from tests.test_worker_lost import DOOMED_QUEUE, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.training,
    pytest.mark.django_db(transaction=True),
]
QUEUE = "training-test"
RUN_SECONDS = 240  # a tiny run, its export and evaluation on a loaded 2-core machine
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@pytest.fixture
def training_worker(transactional_db, settings):
    settings.DEFECTLAB_ASSIST_PRELABEL_QUEUE = QUEUE
    worker = worker_start(queues=QUEUE, log_name="training-worker.log")
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


def job_of(run: TrainingRun) -> Job:
    return Job.objects.get(pk=run.job_id)


def unlabelled_tile(project, data: Path) -> Image:
    """A real tile outside the version, imported without its mask: what pre-labels are for."""
    path = sorted((data / "blowhole").glob("*.jpg"))[-1]
    content = path.read_bytes()
    images_import(project=project, sources=[Source(filename=path.name, read=lambda: content)])
    return Image.objects.get(project=project, sha256=sha256_of(content))


def test_a_run_on_the_worker_trains_evaluates_exports_and_its_model_prelabels(
    training_worker, team, magnetic_tile, tmp_path
):
    # given: a version of a few real tiles per class
    version = tile_version(team.project, magnetic_tile, tmp_path / "data", per_folder=3)
    # when: an admin starts a run of 2 steps, taken by the worker
    run = training_run_start(
        user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=TINY_RECIPE, queue=QUEUE
    )
    wait_until(lambda: job_of(run).status in FINISHED, seconds=RUN_SECONDS)
    # then: trained, checkpointed, evaluated, exported with parity, recorded
    job = job_of(run)
    assert (job.status, job.error, job.attempts) == (JobStatus.SUCCEEDED, "", 1)
    run.refresh_from_db()
    model = TrainedModel.objects.get(run=run)
    assert (run.step, run.total_steps, job.result["model_id"]) == (2, 2, model.pk)
    assert checkpoint_load(run_folder(run) / LAST_NAME)["state"]["global_step"] == 2
    assert model.metrics["split"] == "test"
    assert set(model.metrics["per_class_iou"]) == set(model.defect_classes)
    assert model.parity["fp32"]["max_abs_probability_difference"] < 1e-3
    # when: the model is promoted and a senior pre-labels an unlabelled tile
    image = unlabelled_tile(team.project, magnetic_tile)
    trained_model_promote(user=team.admin, model_id=model.pk)
    prelabel = prelabels_start(user=team.senior, project_id=team.project.pk, image_ids=[image.pk])
    wait_until(lambda: Job.objects.get(pk=prelabel.pk).status in FINISHED, seconds=60)
    # then: the model's engine made the suggestions, one per region its decision rule keeps on the image
    prelabel.refresh_from_db()
    name = model_engine_name(model.pk)
    assert (prelabel.status, prelabel.error, prelabel.params["engine"]) == (JobStatus.SUCCEEDED, "", name)
    suggestions = Suggestion.objects.filter(job=prelabel, origin=SuggestionOrigin.PRELABEL)
    assert prelabel.result == {"engine": name, "images": 1, "suggestions": suggestions.count()}
    assert set(suggestions.values_list("engine", flat=True)) <= {name}
    # and they are what the same engine finds on the same pixels in this process
    found = TrainedModelEngine(model_predictor(model), name).prelabel(image_pixels(image))
    kept = sorted(found, key=lambda result: -result.score)[:PRELABEL_MAX_PER_IMAGE]  # the job keeps the best
    assert sorted(suggestions.values_list("defect_class__name", flat=True)) == sorted(
        result.defect_class for result in kept
    )


def test_a_run_resumes_from_its_last_checkpoint_after_its_worker_is_killed(team, magnetic_tile, tmp_path, settings):
    # given: a run of 3 epochs of 4 steps, taken by a worker that listens only on its own queue
    version = tile_version(team.project, magnetic_tile, tmp_path / "data", per_folder=3)
    recipe = TINY_RECIPE.with_changes(epochs=3, steps_per_epoch=4)
    live = worker_start(queues=settings.DEFECTLAB_TRAINING_QUEUE, log_name="training-live-worker.log")
    doomed = worker_start(queues=DOOMED_QUEUE, log_name="training-doomed-worker.log")
    try:
        run = training_run_start(
            user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=recipe, queue=DOOMED_QUEUE
        )
        last = run_folder(run) / LAST_NAME
        # when: the worker dies right after the first epoch's checkpoint, with no chance to clean up
        wait_until(last.exists, seconds=RUN_SECONDS)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        killed = job_of(run)
        assert (killed.status, killed.attempts) == (JobStatus.RUNNING, 1)
        saved_step = checkpoint_load(last)["state"]["global_step"]
        assert saved_step == 4  # the end of epoch 1: the kill came before epoch 2's checkpoint
        # then: the sweep finds it (no sign of life for a second) and the live worker carries on from there
        time.sleep(1.1)
        recovered = jobs_recover(stale_after_seconds=1, max_attempts=3)
        assert (recovered.requeued, recovered.failed) == ([run.job_id], [])
        wait_until(lambda: job_of(run).status in FINISHED, seconds=RUN_SECONDS)
    finally:
        for worker in (doomed, live):
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    job = job_of(run)
    assert (job.status, job.error, job.attempts) == (JobStatus.SUCCEEDED, "", 2)
    run.refresh_from_db()
    assert run.resumed_at_steps == [saved_step]
    assert (run.step, job.result["steps"], job.result["epochs"]) == (12, 12, 3)
    assert [row["epoch"] for row in run.history] == [1, 2, 3]  # each epoch validated once, none twice
    assert TrainedModel.objects.filter(run=run).count() == 1
    assert checkpoint_load(run_folder(run) / LAST_NAME)["state"]["global_step"] == 12
