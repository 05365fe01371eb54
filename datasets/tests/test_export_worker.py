"""An export job through the API, built by a real Celery worker process on Redis and PostgreSQL."""

import hashlib
import time
import zipfile
from io import BytesIO

import pytest
from django.urls import reverse

from conftest import ARTIFACTS
from datasets.tests.version_data import labelled_image, square, stored_image

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
JOB_TIMEOUT_SECONDS = 60


def job_wait(client, job_id: int) -> dict:
    """The job, through the jobs API, once it has ended (or as it is after JOB_TIMEOUT_SECONDS)."""
    deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
    while True:
        job = client.get(reverse("job-detail", args=[job_id])).json()
        if job["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_export_job_is_built_by_the_worker_with_progress_and_downloaded(celery_worker_process, team, api):
    # given: a version of a small labelled project
    for index in range(3):
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/{index}.png", shapes=[square(3, 3, 6)])
    stored_image(team.project, seed=5, name="free/ok.png", is_defect_free=True)
    client = api(team.ml_engineer)
    freeze = client.post(reverse("dataset-version-list", args=[team.project.pk]), {"name": "v1"}, format="json")
    assert freeze.status_code == 202, freeze.content
    frozen = job_wait(client, freeze.json()["id"])
    assert frozen["status"] == "succeeded", frozen
    # when
    queued = client.post(
        reverse("dataset-export-list", args=[frozen["result"]["version_id"]]), {"format": "coco", "with_images": True}
    )
    assert queued.status_code == 202, queued.content
    built = job_wait(client, queued.json()["job_id"])
    job = client.get(reverse("dataset-export-detail", args=[queued.json()["id"]])).json()
    # then
    assert (built["kind"], built["status"], built["progress_done"], built["progress_total"]) == (
        "dataset_export",
        "succeeded",
        4,
        4,
    )
    assert (job["status"], job["error"], job["progress_done"], job["progress_total"]) == ("succeeded", "", 4, 4)
    download = client.get(job["download_url"])
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == job["sha256"]
    names = zipfile.ZipFile(BytesIO(data)).namelist()
    assert sum(name.startswith("images/") for name in names) == 4


@pytest.mark.browser
def test_version_page_exports_with_a_progress_bar_and_offers_the_file(
    celery_worker_process, team, logged_in_page, live_server
):
    # given: a labelled project, and the ML engineer on the versions page
    for index in range(3):
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/{index}.png", shapes=[square(3, 3, 6)])
    page = logged_in_page("ml_engineer")
    page.goto(f"{live_server.url}/projects/{team.project.pk}/")
    page.click("text=Dataset versions")
    # when: a version is frozen from the form (the list follows the worker's job, then opens the version), and
    # its YOLO export (with images) requested
    page.screenshot(path=str(ARTIFACTS / "version-list.png"), full_page=True)
    page.fill("input[name=name]", "v1")
    page.click("#version-form button[type=submit]")
    page.wait_for_selector("#content-hash", timeout=60_000)
    cell = page.locator('td.export[data-format="yolo"][data-with-images="true"]')
    cell.locator(".export-start").click()
    cell.locator(".export-download").wait_for(state="visible", timeout=60_000)
    # then
    page.screenshot(path=str(ARTIFACTS / "version-exported.png"), full_page=True)
    assert "sha256" in cell.locator(".export-state").text_content()
    download = page.request.get(live_server.url + cell.locator(".export-download").get_attribute("href"))
    assert download.status == 200
    assert sum(name.startswith("images/") for name in zipfile.ZipFile(BytesIO(download.body())).namelist()) == 3
