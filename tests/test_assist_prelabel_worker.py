"""Pre-labels through the API and a real Celery worker process on Redis and PostgreSQL: suggestions are written,
no annotation is, and an inspector's acceptance makes one of them their own annotation.

The worker is this test's own, on its own queue, started with the test engine in DEFECTLAB_ASSIST_ENGINE_MODULES:
a process only knows the engines it imported, and the session's shared worker must keep knowing none that can
pre-label (other tests expect 409 there)."""

import time

import pytest

from annotation.models import Annotation, AnnotationSource
from annotation.services.images import assignments_create
from assist.models import Suggestion, SuggestionOrigin
from assist.tests import prelabel_engine
from assist.tests.factories import spotted_image_create
from conftest import worker_start
from defectlab.jobs.models import Job, JobStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
QUEUE = "assist-prelabel-test"
JOB_TIMEOUT_SECONDS = 60
SPOTS = [(20, 20, 8), (70, 50, 10)]


@pytest.fixture
def prelabel_worker(transactional_db, monkeypatch, settings):
    monkeypatch.setenv("DEFECTLAB_ASSIST_ENGINE_MODULES", prelabel_engine.__name__)
    settings.DEFECTLAB_ASSIST_PRELABEL_QUEUE = QUEUE
    worker = worker_start(queues=QUEUE, log_name="assist-prelabel-worker.log")
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


def wait_for_job(job_id: int) -> Job:
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {JOB_TIMEOUT_SECONDS}s")


def test_prelabels_are_made_by_the_worker_and_accepted_by_the_inspector(prelabel_worker, team, api):
    # given: two images with two dark spots each, one assigned to the inspector
    images = [
        spotted_image_create(project=team.project, spots=SPOTS, seed=seed, name=f"tile-{seed}.png") for seed in (1, 2)
    ]
    assignments_create(
        project=team.project, image_ids=[images[0].pk], annotator=team.inspector, assigned_by=team.senior
    )
    # when: a senior pre-labels every unlabelled image
    with prelabel_engine.registered():  # the web side checks the engine too
        response = api(team.senior).post(
            f"/api/v1/projects/{team.project.pk}/prelabels/", {"all_unlabelled": True}, format="json"
        )
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["id"])
    # then
    assert (job.status, job.error) == (JobStatus.SUCCEEDED, "")
    assert job.result == {"engine": prelabel_engine.NAME, "images": 2, "suggestions": 4}
    assert (job.progress_done, job.progress_total) == (2, 2)
    suggestions = Suggestion.objects.filter(origin=SuggestionOrigin.PRELABEL, job=job)
    assert sorted(suggestions.values_list("image_id", flat=True)) == sorted([images[0].pk] * 2 + [images[1].pk] * 2)
    assert Annotation.objects.count() == 0
    # and the inspector sees their image's suggestions and keeps one
    listed = api(team.inspector).get(f"/api/v1/images/{images[0].pk}/suggestions/").json()
    assert len(listed) == 2
    accepted = api(team.inspector).post(f"/api/v1/suggestions/{listed[0]['id']}/accept/", {}, format="json")
    assert accepted.status_code == 201, accepted.json()
    annotation = Annotation.objects.get()
    assert (annotation.author, annotation.source) == (team.inspector, AnnotationSource.MODEL)
    assert annotation.provenance["engine"] == prelabel_engine.NAME
    assert annotation.provenance["job_id"] == job.pk
