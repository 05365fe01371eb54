"""SAM from install to click, through the real worker: `manage.py sam_install` with a random-weight MobileSAM
checkpoint, images ingested -> IMAGES_INGESTED -> an `assist_embeddings` job on the worker caches the embedding,
then a click through POST /images/{id}/assist/ is answered by SAM from that cached embedding."""

import io
import shutil
import time
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.core.management import call_command

from annotation.services.images import assignments_create
from assist.models import SamInstallation
from assist.services.sam import EMBEDDINGS_JOB_KIND
from assist.tests.factories import spotted_image_create
from defectlab.jobs.models import Job, JobStatus

JOB_TIMEOUT_SECONDS = 120


@pytest.fixture
def installed_sam(tmp_path):
    """SAM installed where this session's web process and worker both look (DEFECTLAB_VAR_DIR), removed after."""
    from mobile_sam import sam_model_registry  # type: ignore[import-untyped]

    torch.set_num_threads(2)
    torch.manual_seed(0)
    checkpoint = tmp_path / "mobile_sam_random.pt"
    torch.save(sam_model_registry["vit_t"](checkpoint=None).state_dict(), checkpoint)
    call_command("sam_install", str(checkpoint), "--model-type", "vit_t", stdout=io.StringIO(), stderr=io.StringIO())
    try:
        yield SamInstallation.objects.get(is_active=True)
    finally:
        shutil.rmtree(settings.DEFECTLAB_SAM_DIR, ignore_errors=True)
        shutil.rmtree(settings.DEFECTLAB_SAM_EMBEDDING_CACHE_DIR, ignore_errors=True)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_installed_sam_embeds_ingested_images_on_the_worker_and_answers_a_click(
    celery_worker_process, team, api, installed_sam
):
    # when: an image is ingested (the real path emits IMAGES_INGESTED after commit)
    image = spotted_image_create(project=team.project, spots=[(40, 30, 12)])
    assignments_create(project=team.project, image_ids=[image.pk], annotator=team.inspector, assigned_by=team.senior)
    # then: the worker ran an assist_embeddings job that embedded it
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    job = None
    while time.monotonic() < deadline:
        job = Job.objects.filter(kind=EMBEDDINGS_JOB_KIND, project=team.project).first()
        if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            break
        time.sleep(0.5)
    assert job is not None, "no assist_embeddings job was started"
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["embedded"], job.result["cached"]) == (1, 0)
    cached = Path(settings.DEFECTLAB_SAM_EMBEDDING_CACHE_DIR) / installed_sam.model_id / image.sha256[:2]
    assert (cached / f"{image.sha256}.npy").is_file()
    # and: a click is answered by SAM through the server endpoint, inside the image
    started = time.perf_counter()
    response = api(team.inspector).post(
        f"/api/v1/images/{image.pk}/assist/",
        {"prompt": {"defect_class_id": team.defect_class.pk, "positive_clicks": [[45, 35]]}},
        format="json",
    )
    click_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["engine"] == "sam"
    if answer["bbox"] is not None:
        x, y, width, height = answer["bbox"]
        assert x >= 0
        assert y >= 0
        assert x + width <= image.width
        assert y + height <= image.height
    assert click_ms < 10_000, f"a click on a cached embedding took {click_ms:.0f} ms"  # ~0.1 s on 2 idle cores
