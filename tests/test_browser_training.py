"""A training run's page in Chromium follows the run live: it is opened while the run trains (the training job's
own function, in a thread of this process: the command line's way), and its loss and validation curves grow as
the run records steps and validations, until the model's link appears."""

import threading

import pytest
from django.db import connection

from assist.models import TrainingRun
from assist.services.training import training_run_start
from assist.tests.training_data import TINY_RECIPE, tile_version
from conftest import ARTIFACTS
from defectlab.jobs.models import JobStatus
from defectlab.jobs.services import job_run

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.training, pytest.mark.django_db(transaction=True)]
EPOCHS = 4
STEPS_PER_EPOCH = 6
RUN_TIMEOUT_MS = 240_000


def run_model_id(run_id: int) -> int:
    return TrainingRun.objects.get(pk=run_id).trained_model.pk


def _train(job_id: int) -> None:
    try:
        job_run(job_id=job_id)
    finally:
        connection.close()  # this thread's own connection: the test database is dropped at the end


def test_the_run_page_shows_the_curves_growing_while_the_run_trains(
    team, magnetic_tile, tmp_path, logged_in_page, live_server
):
    # given: a run of 4 epochs, trained in a thread while the page is open
    version = tile_version(team.project, magnetic_tile, tmp_path / "data", per_folder=3)
    recipe = TINY_RECIPE.with_changes(epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH)
    run = training_run_start(
        user=team.admin, project_id=team.project.pk, version_id=version.pk, recipe=recipe, to_worker=False
    )
    page = logged_in_page("ml_engineer")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/training-runs/{run.pk}/")
    page.locator("#run-plots svg").first.wait_for()
    trainer = threading.Thread(target=_train, args=(run.job_id,))
    trainer.start()
    try:
        # when: the run trains, the page is seen at several steps
        seen_steps: list[int] = []
        loss_points = None  # the loss curve's length at the first look
        while len(seen_steps) < 3:
            page.wait_for_function(
                "(previous) => Number(document.getElementById('training-run').dataset.step) > previous",
                arg=seen_steps[-1] if seen_steps else 0,
                timeout=RUN_TIMEOUT_MS,
            )
            seen_steps.append(int(page.locator("#training-run").get_attribute("data-step") or 0))
            if loss_points is None:
                loss_points = int(page.locator("path.series-loss").get_attribute("data-points") or 0)
        # then: a later look has more of the loss curve and every validation, then the model's link
        page.wait_for_function(
            f"() => document.getElementById('training-run').dataset.validations === '{EPOCHS}'",
            timeout=RUN_TIMEOUT_MS,
        )
        page.locator("#run-model").wait_for(timeout=RUN_TIMEOUT_MS)
    finally:
        trainer.join(timeout=RUN_TIMEOUT_MS / 1000)
    assert seen_steps == sorted(set(seen_steps))
    assert loss_points is not None
    assert int(page.locator("path.series-loss").get_attribute("data-points") or 0) > loss_points
    assert page.locator("path.series-iou").get_attribute("data-points") == str(EPOCHS)
    assert page.locator("#run-validations tr").count() == EPOCHS
    page.locator(".job-message", has_text=f"Model {run_model_id(run.pk)} recorded").wait_for()
    page.screenshot(path=str(ARTIFACTS / "training-run-page.png"), full_page=True)
    run = TrainingRun.objects.select_related("job").get(pk=run.pk)
    assert (run.job.status, run.step) == (JobStatus.SUCCEEDED, EPOCHS * STEPS_PER_EPOCH)
    assert page.locator("#run-model").get_attribute("href") == (
        f"/projects/{team.project.pk}/models/{run.trained_model.pk}/"
    )
    # and the model's page shows its evaluation and its worst cases
    page.locator("#run-model").click()
    page.locator("#model-metrics table").wait_for()
    page.locator(".worst-case img").first.wait_for()
    assert page.locator(".worst-case").count() == len(run.trained_model.metrics["worst_cases"])
    page.screenshot(path=str(ARTIFACTS / "trained-model-page.png"), full_page=True)
