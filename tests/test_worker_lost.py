"""A worker killed in the middle of an import: the job is found stale, queued again, and finishes whole."""

import os
import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from annotation.models import Image
from conftest import worker_start
from datasets.services.jobs import import_job_create
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import jobs_recover
from tests.factories import png_bytes

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
DOOMED_QUEUE = "doomed"  # only the worker we kill listens here, so it is the one that takes the job
IMAGES = 40
IMAGE_SIDE_PX = 2600  # above the pyramid threshold: each image takes a noticeable moment


def status_of(job_id: int) -> str:
    return Job.objects.values_list("status", flat=True).get(pk=job_id)


def wait_until(predicate, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        time.sleep(0.1)


def test_import_survives_its_worker_being_killed(celery_worker_process, team):
    # given: an upload job taken by a worker that listens only on its own queue
    files = [
        SimpleUploadedFile(f"scan-{index:03d}.png", png_bytes(IMAGE_SIDE_PX, IMAGE_SIDE_PX // 4, seed=index))
        for index in range(IMAGES)
    ]
    doomed = worker_start(queues=DOOMED_QUEUE, log_name="doomed-worker.log")
    try:
        upload = import_job_create(project=team.project, files=files, created_by=team.admin, queue=DOOMED_QUEUE)
        wait_until(lambda: status_of(upload.job_id) == JobStatus.RUNNING, seconds=60)
        # when: the worker dies mid-job, with no chance to clean up
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    assert status_of(upload.job_id) == JobStatus.RUNNING
    time.sleep(1.1)
    recovered = jobs_recover(stale_after_seconds=1, max_attempts=3)
    # then: the sweep queued it again, the live worker finished it, and every image is there exactly once
    assert (recovered.requeued, recovered.failed) == ([upload.job_id], [])
    wait_until(lambda: status_of(upload.job_id) == JobStatus.SUCCEEDED, seconds=120)
    upload.refresh_from_db()
    assert (upload.imported_count, upload.duplicate_count, upload.rejected) == (IMAGES, 0, [])
    assert Job.objects.get(pk=upload.job_id).attempts == 2
    assert Image.objects.filter(project=team.project).count() == IMAGES
    assert sorted(Image.objects.values_list("original_filename", flat=True)) == [f.name for f in files]


def test_a_fresh_running_job_is_left_alone(team):
    upload = import_job_create(
        project=team.project,
        files=[SimpleUploadedFile("a.png", png_bytes(8, 8))],
        created_by=team.admin,
        queue=DOOMED_QUEUE,  # nobody listens there in this test
    )
    Job.objects.filter(pk=upload.job_id).update(status=JobStatus.RUNNING, heartbeat_at=timezone.now())
    assert jobs_recover(stale_after_seconds=600, max_attempts=3).requeued == []
