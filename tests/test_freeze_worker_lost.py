"""A worker killed in the middle of a freeze: no half-written version is left, the sweep queues the job again,
and the live worker makes the one version, with the content hash an uninterrupted freeze gives."""

import hashlib
import os
import signal
import time

import psycopg
import pytest
from django.core.files.storage import default_storage
from django.db import connection

from annotation.models import Annotation, Image, ImageStatus
from conftest import worker_start
from datasets.models import DatasetVersion
from datasets.services.versions import dataset_version_freeze, dataset_version_freeze_start
from datasets.tests.version_data import labelled_image, square
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import jobs_recover
from tests.test_worker_lost import DOOMED_QUEUE, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
IMAGES = 6000
ANNOTATIONS_PER_IMAGE = 2


def project_of_many_images(team) -> None:
    """One real labelled image, repeated as IMAGES rows with their own sha256 and annotations (as bench/export.py
    does): the freeze reads rows, not pixels, so copies cost it what distinct images would."""
    original = labelled_image(team.project, team.defect_class, seed=1, name="crack/0.png", shapes=[square(4, 4, 6)])
    annotation = Annotation.objects.get(image=original)
    copies = []
    for number in range(IMAGES - 1):
        copy = Image(
            **{
                field.attname: getattr(original, field.attname)
                for field in Image._meta.concrete_fields
                if field.attname not in ("id", "created_at")
            }
        )
        copy.sha256 = hashlib.sha256(f"{original.sha256}:copy{number}".encode()).hexdigest()
        copy.original_filename = f"crack/copy{number:05d}.png"
        copies.append(copy)
    created = Image.objects.bulk_create(copies, batch_size=2000)
    Annotation.objects.bulk_create(
        [
            Annotation(
                **{
                    field.attname: getattr(annotation, field.attname)
                    for field in Annotation._meta.concrete_fields
                    if field.attname not in ("id", "image_id", "created_at", "updated_at")
                },
                image_id=copy.pk,
            )
            for copy in created
            for _ in range(ANNOTATIONS_PER_IMAGE)
        ],
        batch_size=2000,
    )
    assert Image.objects.filter(project=team.project, status=ImageStatus.FINAL).count() == IMAGES


def test_a_freeze_survives_its_worker_being_killed(celery_worker_process, team):
    # given: a large project, and a freeze taken by a worker that listens only on its own queue
    project_of_many_images(team)
    doomed = worker_start(queues=DOOMED_QUEUE, log_name="doomed-freeze-worker.log")
    # A freeze of a few thousand images is quicker than any sleep: hold the version table so the worker has
    # written the manifest and stands at the version row's insert when it dies, whatever the machine's speed.
    version_table = psycopg.connect(**connection.get_connection_params())
    try:
        version_table.execute(f"LOCK TABLE {DatasetVersion._meta.db_table} IN EXCLUSIVE MODE")
        job = dataset_version_freeze_start(
            project=team.project, name="v1", created_by=team.ml_engineer, queue=DOOMED_QUEUE
        )
        # when: the worker dies while it records the version, with no chance to clean up
        wait_until(lambda: Job.objects.get(pk=job.pk).message == "Recording the version", seconds=120)
        time.sleep(0.5)  # into the blocked insert
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        version_table.close()  # its transaction ends and the lock with it
        if doomed.poll() is None:
            doomed.kill()
    # then: nothing half-written: the manifest was written, but there is no version row
    killed = Job.objects.get(pk=job.pk)
    assert (killed.status, killed.progress_done, killed.progress_total) == (JobStatus.RUNNING, IMAGES, IMAGES)
    assert DatasetVersion.objects.count() == 0
    # when: the sweep finds it (no sign of life for a second) and the live worker runs it again
    time.sleep(1.1)
    recovered = jobs_recover(stale_after_seconds=1, max_attempts=3)
    assert (recovered.requeued, recovered.failed) == ([job.pk], [])
    wait_until(lambda: Job.objects.get(pk=job.pk).status not in (JobStatus.QUEUED, JobStatus.RUNNING), seconds=180)
    # then: one version, made by this job, with its manifest stored under its hash
    job.refresh_from_db()
    version = DatasetVersion.objects.get()
    assert (job.status, job.attempts, job.result["version_id"], version.job_id) == (
        JobStatus.SUCCEEDED,
        2,
        version.pk,
        job.pk,
    )
    assert version.counts["images"]["total"] == IMAGES
    with default_storage.open(version.manifest_key, "rb") as manifest:
        assert hashlib.sha256(manifest.read()).hexdigest() == version.content_hash
    # and the same content hash as a freeze that nobody interrupted
    again = dataset_version_freeze(project=team.project, name="v1 again", created_by=None)
    assert again.content_hash == version.content_hash
