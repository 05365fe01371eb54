"""Dataset versions through the API and the pages: who may, what comes back, exports queued and downloaded."""

import hashlib
import io
import zipfile
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation.models import Role
from datasets.models import DatasetExport, DatasetVersion
from datasets.tests.version_data import labelled_image, square, stored_image
from defectlab.jobs.models import Job, JobStatus
from defectlab.jobs.services import job_run, jobs_recover

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(team):
    for index in range(4):
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/{index}.png", shapes=[square(4, 4, 6)])
    stored_image(team.project, seed=9, name="free/ok.png", is_defect_free=True)
    return team


def create(api, user, project, **fields):
    return api(user).post(reverse("dataset-version-list", args=[project.pk]), {"name": "v1", **fields}, format="json")


def freeze(api, user, project, **fields) -> int:
    """Ask for a version and run its freeze job here, as a worker would; the new version's id."""
    response = create(api, user, project, **fields)
    assert response.status_code == 202, response.content
    job = job_run(job_id=response.json()["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job.result["version_id"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("inspector", 403), ("senior", 403), ("ml_engineer", 202), ("admin", 202), ("outsider", 404)],
)
def test_only_ml_engineers_and_admins_freeze_versions(labelled, api, role, status):
    response = create(api, labelled.member(role), labelled.project)
    assert response.status_code == status, response.content
    assert Job.objects.filter(kind="dataset_version_freeze").count() == (1 if status == 202 else 0)


def test_a_freeze_is_answered_at_once_with_its_job_and_the_version_appears_when_it_succeeds(
    labelled, api, django_capture_on_commit_callbacks
):
    # when: asked, the freeze waits for a worker (its task goes out on commit); nothing is frozen yet
    with django_capture_on_commit_callbacks() as callbacks:
        response = create(api, labelled.ml_engineer, labelled.project, seed=3)
    # then
    assert (response.status_code, len(callbacks)) == (202, 1)
    body = response.json()
    datetime.fromisoformat(body.pop("created_at"))
    assert body == {
        "id": body["id"],
        "kind": "dataset_version_freeze",
        "status": "queued",
        "progress_done": 0,
        "progress_total": None,
        "message": "",
        "error": "",
        "created_by": "ml_engineer",
        "started_at": None,
        "finished_at": None,
        "result": {},
        "can_cancel": True,
    }
    assert labelled.project.dataset_versions.count() == 0
    # when: the worker runs it
    job = job_run(job_id=body["id"])
    # then
    version = DatasetVersion.objects.get(project=labelled.project)
    assert (job.status, job.result, version.job_id, version.name, version.seed) == (
        JobStatus.SUCCEEDED,
        {"version_id": version.pk, "content_hash": version.content_hash},
        job.pk,
        "v1",
        3,
    )
    assert (job.progress_done, job.progress_total) == (5, 5)
    followed = api(labelled.ml_engineer).get(reverse("job-detail", args=[job.pk])).json()
    assert (followed["status"], followed["result"]["version_id"], followed["can_cancel"]) == (
        "succeeded",
        version.pk,
        False,
    )


def test_a_freeze_job_run_again_finds_its_version_instead_of_making_a_twin(labelled, api):
    # given: a freeze whose worker was lost after the version was recorded, so the sweep queued it again
    job_id = create(api, labelled.ml_engineer, labelled.project).json()["id"]
    first = job_run(job_id=job_id)
    Job.objects.filter(pk=job_id).update(status=JobStatus.QUEUED)
    # when
    again = job_run(job_id=job_id)
    # then
    assert (again.status, again.attempts, again.result) == (JobStatus.SUCCEEDED, 2, first.result)
    assert labelled.project.dataset_versions.count() == 1


def test_a_name_being_frozen_is_refused(labelled, api):
    create(api, labelled.ml_engineer, labelled.project)
    response = create(api, labelled.admin, labelled.project)
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": "A version named 'v1' is being frozen already."},
    )


def test_a_taken_name_is_refused_before_a_job_starts(labelled, api):
    freeze(api, labelled.ml_engineer, labelled.project)
    response = create(api, labelled.admin, labelled.project)
    assert (response.status_code, response.json()["message"]) == (400, "This project already has a version named 'v1'.")
    assert Job.objects.filter(kind="dataset_version_freeze").count() == 1


def test_version_detail_contract(labelled, api):
    # given
    version_id = freeze(api, labelled.ml_engineer, labelled.project, seed=3, line_kind="cosmetic")
    # when
    body = api(labelled.ml_engineer).get(reverse("dataset-version-detail", args=[version_id])).json()
    # then
    datetime.fromisoformat(body.pop("created_at"))
    content_hash = body.pop("content_hash")
    assert len(content_hash) == 64
    assert body.pop("manifest_size_bytes") > 0
    taxonomy = body.pop("taxonomy")
    assert [defect_class["name"] for defect_class in taxonomy["defect_classes"]] == ["crack"]
    per_split = {"train": 3, "val": 1, "test": 1, "total": 5}
    assert body == {
        "id": version_id,
        "project_id": labelled.project.pk,
        "number": 1,
        "name": "v1",
        "seed": 3,
        "split_ratios": {"train": 0.7, "val": 0.15, "test": 0.15},
        "filter": {
            "defect_classes": None,
            "image_statuses": ["final"],
            "final_annotations_only": True,
            "include_defect_free": True,
        },
        "line_kind": "cosmetic",
        "counts": {
            "images": per_split,
            "defect_free_images": body["counts"]["defect_free_images"],
            "annotations": body["counts"]["annotations"],
            "classes": {
                "crack": {
                    "images": body["counts"]["classes"]["crack"]["images"],
                    "annotations": body["counts"]["classes"]["crack"]["annotations"],
                }
            },
            "skipped_images": 0,
        },
        "previous": None,
        "created_by": "ml_engineer",
        "diff": None,
        "balance": {
            "defect_free_images": 1,
            "defective_images": 4,
            "defect_free_per_defective": 0.25,
            "guidance_defect_free_per_defective": 10.0,
            "meets_guidance": False,
            "line_kind": "cosmetic",
            "min_images_per_class": 200,
            "classes": [{"name": "crack", "instances": 4, "images": 4, "is_below_minimum": True}],
            "classes_below_minimum": ["crack"],
        },
        "exports": [],
    }
    assert body["counts"]["annotations"]["total"] == body["counts"]["classes"]["crack"]["annotations"]["total"] == 4


def test_invalid_version_request_is_400_with_the_reason(labelled, api):
    response = create(api, labelled.admin, labelled.project, defect_classes=["scratch"])
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "No such defect classes in this project: scratch."}


def test_export_is_queued_built_and_downloaded(labelled, api, django_capture_on_commit_callbacks):
    # given
    version_id = freeze(api, labelled.ml_engineer, labelled.project)
    client = api(labelled.ml_engineer)
    url = reverse("dataset-export-list", args=[version_id])
    # when: requested, the export waits for a worker (the task goes out on commit)
    with django_capture_on_commit_callbacks() as callbacks:
        queued = client.post(url, {"format": "yolo"}, format="json")
    # then
    assert queued.status_code == 202
    assert (queued.json()["status"], queued.json()["download_url"], len(callbacks)) == ("queued", None, 1)
    assert Job.objects.get(pk=queued.json()["job_id"]).kind == "dataset_export"
    forbidden = client.get(reverse("dataset-export-file", args=[queued.json()["id"]]))
    assert (forbidden.status_code, forbidden.json()["code"]) == (409, "export_not_ready")
    # when: the worker's job runs; a second request is answered from the cache
    job_run(job_id=queued.json()["job_id"])
    with django_capture_on_commit_callbacks() as callbacks:
        cached = client.post(url, {"format": "yolo"}, format="json")
    assert (cached.status_code, cached.json()["status"], len(callbacks)) == (200, "succeeded", 0)
    download = client.get(cached.json()["download_url"])
    # then
    data = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="tile-line-v1-yolo.zip"'
    assert hashlib.sha256(data).hexdigest() == cached.json()["sha256"] == download["ETag"].strip('"')
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names[0] == "data.yaml"
    assert len([name for name in names if name.startswith("labels/")]) == 5


def test_failed_export_is_marked_failed_with_its_reason_and_can_be_requested_again(labelled, api, monkeypatch):
    # given: an exporter that breaks half-way
    version_id = freeze(api, labelled.ml_engineer, labelled.project)
    client = api(labelled.ml_engineer)
    queued = client.post(reverse("dataset-export-list", args=[version_id]), {"format": "coco"}, format="json").json()
    export_id = queued["id"]

    def broken(source, out):
        out.write(b"PK half a zip")
        raise OSError("disk full")

    from datasets.exporters import registry

    monkeypatch.setitem(
        registry.EXPORTERS, "coco", registry.Exporter(name="coco", version="1.1", extension="zip", function=broken)
    )
    # when
    job = job_run(job_id=queued["job_id"])
    # then: nothing is served, and asking again starts a new build
    export = DatasetExport.objects.get(pk=export_id)
    assert (job.status, job.error, export.file_key, export.sha256) == (JobStatus.FAILED, "OSError: disk full", "", "")
    shown = client.get(reverse("dataset-export-detail", args=[export_id])).json()
    assert (shown["status"], shown["error"], shown["download_url"]) == ("failed", "OSError: disk full", None)
    assert client.get(reverse("dataset-export-file", args=[export_id])).status_code == 409
    monkeypatch.undo()
    again = client.post(reverse("dataset-export-list", args=[version_id]), {"format": "coco"}, format="json").json()
    assert (again["id"], again["status"], again["error"]) == (export_id, "queued", "")
    assert again["job_id"] != queued["job_id"]


def test_an_export_whose_worker_was_lost_is_sent_again_by_the_sweep(labelled, api, django_capture_on_commit_callbacks):
    # given: a build a worker started and then gave no sign of life for longer than the stale time
    version_id = freeze(api, labelled.ml_engineer, labelled.project)
    url = reverse("dataset-export-list", args=[version_id])
    queued = api(labelled.ml_engineer).post(url, {"format": "masks"}, format="json").json()
    Job.objects.filter(pk=queued["job_id"]).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    # when: asked again meanwhile, it is left to its worker; then the sweep runs
    with django_capture_on_commit_callbacks() as callbacks:
        again = api(labelled.ml_engineer).post(url, {"format": "masks"}, format="json")
    assert (again.status_code, again.json()["job_id"], len(callbacks)) == (202, queued["job_id"], 0)
    with django_capture_on_commit_callbacks() as callbacks:
        recovered = jobs_recover(stale_after_seconds=600, max_attempts=3)
    # then: queued again (an export is idempotent: only a complete file is ever stored), and it builds
    assert (recovered.requeued, len(callbacks)) == ([queued["job_id"]], 1)
    assert job_run(job_id=queued["job_id"]).status == JobStatus.SUCCEEDED
    detail = api(labelled.ml_engineer).get(reverse("dataset-export-detail", args=[queued["id"]])).json()
    assert detail["status"] == "succeeded"


def test_exports_are_hidden_across_projects_and_from_other_roles(labelled, api):
    version_id = freeze(api, labelled.admin, labelled.project)
    export_id = (
        api(labelled.admin)
        .post(reverse("dataset-export-list", args=[version_id]), {"format": "coco"}, format="json")
        .json()["id"]
    )
    for url in (
        reverse("dataset-version-detail", args=[version_id]),
        reverse("dataset-export-detail", args=[export_id]),
        reverse("dataset-export-file", args=[export_id]),
    ):
        assert api(labelled.outsider).get(url).status_code == 404
        assert api(labelled.inspector).get(url).status_code == 403
    assert api(labelled.senior).get(reverse("dataset-version-list", args=[labelled.project.pk])).status_code == 403


def test_unknown_export_format_is_refused(labelled, api):
    version_id = freeze(api, labelled.admin, labelled.project)
    response = api(labelled.admin).post(
        reverse("dataset-export-list", args=[version_id]), {"format": "tfrecord"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


# Pages ---------------------------------------------------------------------------------------------------------


FREEZE_FORM = {
    "defect_classes": ["crack"],
    "image_statuses": ["final"],
    "include_defect_free": "on",
    "split_train": "70",
    "split_val": "15",
    "split_test": "15",
    "seed": "0",
    "line_kind": "safety_critical",
}


def test_version_form_starts_a_freeze_and_the_list_follows_it(labelled, client):
    # given
    client.force_login(labelled.ml_engineer)
    list_url = reverse("version-list-page", args=[labelled.project.pk])
    # when: the form is sent
    response = client.post(list_url, {"name": "v1", **FREEZE_FORM})
    # then: back to the list, which shows the freeze under way for the page's script to follow
    job = Job.objects.get(kind="dataset_version_freeze")
    assert (response.status_code, response.url) == (302, f"{list_url}?freeze={job.pk}#freezes")
    listing = client.get(response.url).content.decode()
    assert f'<tr class="freeze" data-job-id="{job.pk}" data-is-followed="true">' in listing
    assert "<td>v1</td>" in listing
    assert "frontend/build/versions.js" in listing
    # when: the worker has frozen it, the list shows the version and no freeze under way (unless followed)
    job_run(job_id=job.pk)
    listing = client.get(list_url).content.decode()
    assert ">v1</a>" in listing
    assert 'class="freeze"' not in listing


def test_a_failed_freeze_followed_by_the_list_shows_its_reason(labelled, client):
    client.force_login(labelled.ml_engineer)
    list_url = reverse("version-list-page", args=[labelled.project.pk])
    followed = client.post(list_url, {"name": "v1", **FREEZE_FORM}).url
    job = Job.objects.get(kind="dataset_version_freeze")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="The worker running this job stopped (lost).")
    listing = client.get(followed).content.decode()
    assert "Failed: The worker running this job stopped (lost)." in listing


def test_version_pages_show_counts_balance_diff_and_export_buttons(labelled, client):
    # given
    client.force_login(labelled.ml_engineer)
    list_url = reverse("version-list-page", args=[labelled.project.pk])
    # when: the form freezes two versions (each run here as the worker would)
    first = client.post(list_url, {"name": "v1", **FREEZE_FORM})
    job_run(job_id=Job.objects.get(params__name="v1").pk)
    labelled_image(labelled.project, labelled.defect_class, seed=20, name="crack/new.png", shapes=[square(1, 1, 3)])
    second = client.post(list_url, {"name": "v2", **FREEZE_FORM})
    v2 = job_run(job_id=Job.objects.get(params__name="v2").pk).result["version_id"]
    # then
    assert first.status_code == second.status_code == 302
    page = client.get(reverse("version-page", args=[v2])).content.decode()
    assert "version v2" in page
    assert "Defect-free : defective images = 1 : 5" in page
    assert "not met" in page
    assert "below 200 images" in page
    assert "<td>1</td><td>0</td><td>0</td>" in page  # one image added, none removed or changed
    assert page.count('class="export"') == 8  # four formats, with and without images
    assert "<script>" not in page  # the page's script comes from the bundle
    listing = client.get(list_url).content.decode()
    assert [name for name in ("v1", "v2") if f">{name}</a>" in listing] == ["v1", "v2"]


def test_version_form_errors_are_shown(labelled, client):
    client.force_login(labelled.admin)
    response = client.post(
        reverse("version-list-page", args=[labelled.project.pk]),
        {"name": "v1", "split_train": "80", "split_val": "30", "split_test": "0", "image_statuses": ["final"]},
    )
    assert response.status_code == 400
    assert "Choose at least one defect class." in response.content.decode()
    response = client.post(
        reverse("version-list-page", args=[labelled.project.pk]),
        {"name": "v1", "defect_classes": ["crack"], "split_train": "80", "split_val": "30", "split_test": "0"},
    )
    assert response.status_code == 400
    assert "must sum to 1" in response.content.decode()
    assert labelled.project.dataset_versions.count() == 0


@pytest.mark.parametrize(("role", "status"), [(Role.INSPECTOR, 403), (Role.SENIOR, 403), ("outsider", 404)])
def test_version_pages_are_for_ml_engineers_and_admins(labelled, client, role, status):
    client.force_login(labelled.member(role))
    assert client.get(reverse("version-list-page", args=[labelled.project.pk])).status_code == status


def test_project_page_links_versions_for_those_who_may(labelled, client):
    for user, shown in ((labelled.ml_engineer, True), (labelled.senior, False)):
        client.force_login(user)
        page = client.get(reverse("project-page", args=[labelled.project.pk])).content.decode()
        assert ("Dataset versions" in page) is shown


def test_deleting_a_project_deletes_its_versions_exports_and_jobs(team, api):
    # given: a version (of a defect-free image: annotated projects are protected by their defect classes) with a
    # built export, each made by a job
    stored_image(team.project, seed=9, name="free/ok.png", is_defect_free=True)
    version_id = freeze(api, team.ml_engineer, team.project)
    queued = api(team.ml_engineer).post(reverse("dataset-export-list", args=[version_id]), {"format": "coco"})
    job_run(job_id=queued.json()["job_id"])
    # when
    team.project.delete()
    # then
    assert (DatasetVersion.objects.count(), DatasetExport.objects.count(), Job.objects.count()) == (0, 0, 0)
