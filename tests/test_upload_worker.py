"""Uploads through the API, imported by a real Celery worker process on Redis and PostgreSQL."""

import io
import time
import zipfile

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image as PILImage

from annotation.models import Annotation, Image
from datasets.models import ImportJob
from defectlab.jobs.models import JobStatus
from tests.factories import png_bytes

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
JOB_TIMEOUT_SECONDS = 60


def wait_for_job(upload_id: int) -> ImportJob:
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        upload = ImportJob.objects.select_related("job").get(pk=upload_id)
        if upload.job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return upload
        time.sleep(0.2)
    raise AssertionError(f"upload {upload_id} did not finish in {JOB_TIMEOUT_SECONDS}s")


def zip_with(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    buffer.name = "upload.zip"
    return buffer


def mask_png(width: int, height: int, box: tuple[int, int, int, int]) -> bytes:
    mask = np.zeros((height, width), dtype=np.uint8)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 255
    buffer = io.BytesIO()
    PILImage.fromarray(mask).save(buffer, format="PNG")
    return buffer.getvalue()


def test_zip_with_masks_is_imported_by_the_worker(celery_worker_process, team, api):
    # given: a zip in the class-folder layout, with a defect-free image and an entry escaping the upload
    archive = zip_with(
        {
            "crack/part1.jpg": png_bytes(64, 48, seed=1),
            "crack/part1.png": mask_png(64, 48, (10, 10, 30, 14)),
            "free/part2.jpg": png_bytes(64, 48, seed=2),
            "../../etc/evil.jpg": png_bytes(8, 8, seed=3),
        }
    )
    # when
    response = api(team.admin).post(
        reverse("upload-create", args=[team.project.pk]),
        {"files": [archive], "with_masks": "true"},
        format="multipart",
    )
    # then
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["id"])
    assert (job.job.status, job.imported_count, job.duplicate_count, job.annotation_count) == (
        JobStatus.SUCCEEDED,
        2,
        0,
        1,
    )
    assert job.rejected == [
        {
            "filename": "upload.zip:../../etc/evil.jpg",
            "reason": "path with '..' inside the zip (refused: it could write outside the upload)",
        }
    ]
    crack = Annotation.objects.get(image__project=team.project)
    assert (crack.defect_class, crack.source, crack.is_final, crack.area_px) == (
        team.defect_class,
        "imported",
        True,
        80,
    )
    assert Image.objects.get(project=team.project, is_defect_free=True).original_filename == "upload.zip:free/part2.jpg"


def test_job_status_is_visible_to_the_uploader_only_within_the_project(celery_worker_process, team, api):
    upload = io.BytesIO(png_bytes(32, 32, seed=9))
    upload.name = "single.png"
    response = api(team.admin).post(
        reverse("upload-create", args=[team.project.pk]), {"files": [upload]}, format="multipart"
    )
    job = wait_for_job(response.json()["id"])
    assert (job.job.status, job.imported_count) == (JobStatus.SUCCEEDED, 1)
    assert api(team.outsider).get(reverse("upload-detail", args=[job.pk])).status_code == 404
    assert api(team.admin).get(reverse("upload-detail", args=[job.pk])).json()["imported_count"] == 1
    followed = api(team.admin).get(reverse("job-detail", args=[job.job_id])).json()
    assert (followed["kind"], followed["status"], followed["progress_done"], followed["progress_total"]) == (
        "images_import",
        "succeeded",
        1,
        1,
    )
    assert api(team.outsider).get(reverse("job-detail", args=[job.job_id])).status_code == 404


def test_healthz_reports_every_part_with_a_live_worker(celery_worker_process, client):
    deadline = time.monotonic() + 20
    while True:
        body = client.get("/healthz").json()
        if body["worker"]["ok"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert body["ok"] is True, body
    assert {name: part["ok"] for name, part in body.items() if name != "ok"} == {
        "database": True,
        "broker": True,
        "worker": True,
        "disk": True,
    }
    assert body["database"]["vendor"] == "postgresql"
