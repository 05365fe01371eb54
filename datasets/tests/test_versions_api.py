"""Dataset versions through the API and the pages: who may, what comes back, exports queued and downloaded."""

import hashlib
import io
import zipfile
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotation.models import Role
from datasets.models import DatasetExport, JobStatus
from datasets.services.exports import dataset_export_run
from datasets.tests.version_data import labelled_image, square, stored_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(team):
    for index in range(4):
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/{index}.png", shapes=[square(4, 4, 6)])
    stored_image(team.project, seed=9, name="free/ok.png", is_defect_free=True)
    return team


def create(api, user, project, **fields):
    return api(user).post(reverse("dataset-version-list", args=[project.pk]), {"name": "v1", **fields}, format="json")


@pytest.mark.parametrize(
    ("role", "status"),
    [("inspector", 403), ("senior", 403), ("ml_engineer", 201), ("admin", 201), ("outsider", 404)],
)
def test_only_ml_engineers_and_admins_create_versions(labelled, api, role, status):
    response = create(api, labelled.member(role), labelled.project)
    assert response.status_code == status, response.content
    assert labelled.project.dataset_versions.count() == (1 if status == 201 else 0)


def test_version_detail_contract(labelled, api):
    # given
    response = create(api, labelled.ml_engineer, labelled.project, seed=3, line_kind="cosmetic")
    version_id = response.json()["id"]
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
    version_id = create(api, labelled.ml_engineer, labelled.project).json()["id"]
    client = api(labelled.ml_engineer)
    url = reverse("dataset-export-list", args=[version_id])
    # when: requested, the export waits for a worker (the task goes out on commit)
    with django_capture_on_commit_callbacks() as callbacks:
        queued = client.post(url, {"format": "yolo"}, format="json")
    # then
    assert queued.status_code == 202
    assert (queued.json()["status"], queued.json()["download_url"], len(callbacks)) == ("queued", None, 1)
    forbidden = client.get(reverse("dataset-export-file", args=[queued.json()["id"]]))
    assert (forbidden.status_code, forbidden.json()["code"]) == (409, "export_not_ready")
    # when: the worker's job runs; a second request is answered from the cache
    dataset_export_run(export_id=queued.json()["id"])
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
    version_id = create(api, labelled.ml_engineer, labelled.project).json()["id"]
    client = api(labelled.ml_engineer)
    export_id = client.post(reverse("dataset-export-list", args=[version_id]), {"format": "coco"}, format="json")
    export_id = export_id.json()["id"]

    def broken(source, out):
        out.write(b"PK half a zip")
        raise OSError("disk full")

    from datasets.exporters import registry

    monkeypatch.setitem(
        registry.EXPORTERS, "coco", registry.Exporter(name="coco", version="1.1", extension="zip", function=broken)
    )
    # when
    with pytest.raises(OSError, match="disk full"):
        dataset_export_run(export_id=export_id)
    # then: nothing is served, and asking again queues a new build
    export = DatasetExport.objects.get(pk=export_id)
    assert (export.status, export.error, export.file_key, export.sha256) == (
        JobStatus.FAILED,
        "OSError: disk full",
        "",
        "",
    )
    assert client.get(reverse("dataset-export-file", args=[export_id])).status_code == 409
    monkeypatch.undo()
    again = client.post(reverse("dataset-export-list", args=[version_id]), {"format": "coco"}, format="json")
    assert (again.status_code, again.json()["id"], again.json()["status"], again.json()["error"]) == (
        202,
        export_id,
        "queued",
        "",
    )


def test_an_export_queued_long_ago_is_queued_again(labelled, api, django_capture_on_commit_callbacks):
    # given: a build asked for an hour ago that no worker ever started (its message was lost)
    version_id = create(api, labelled.ml_engineer, labelled.project).json()["id"]
    url = reverse("dataset-export-list", args=[version_id])
    export_id = api(labelled.ml_engineer).post(url, {"format": "masks"}, format="json").json()["id"]
    DatasetExport.objects.filter(pk=export_id).update(queued_at=timezone.now() - timedelta(hours=1))
    # when / then
    with django_capture_on_commit_callbacks() as callbacks:
        again = api(labelled.ml_engineer).post(url, {"format": "masks"}, format="json")
    assert (again.status_code, again.json()["id"], len(callbacks)) == (202, export_id, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        api(labelled.ml_engineer).post(url, {"format": "masks"}, format="json")
    assert len(callbacks) == 0  # just queued: left to the worker


def test_exports_are_hidden_across_projects_and_from_other_roles(labelled, api):
    version_id = create(api, labelled.admin, labelled.project).json()["id"]
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
    version_id = create(api, labelled.admin, labelled.project).json()["id"]
    response = api(labelled.admin).post(
        reverse("dataset-export-list", args=[version_id]), {"format": "tfrecord"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


# Pages ---------------------------------------------------------------------------------------------------------


def test_version_pages_show_counts_balance_diff_and_export_buttons(labelled, client):
    # given
    client.force_login(labelled.ml_engineer)
    list_url = reverse("version-list-page", args=[labelled.project.pk])
    # when: the form freezes two versions
    first = client.post(
        list_url,
        {
            "name": "v1",
            "defect_classes": ["crack"],
            "image_statuses": ["final"],
            "include_defect_free": "on",
            "split_train": "70",
            "split_val": "15",
            "split_test": "15",
            "seed": "0",
            "line_kind": "safety_critical",
        },
    )
    labelled_image(labelled.project, labelled.defect_class, seed=20, name="crack/new.png", shapes=[square(1, 1, 3)])
    second = client.post(
        list_url,
        {
            "name": "v2",
            "defect_classes": ["crack"],
            "image_statuses": ["final"],
            "include_defect_free": "on",
            "split_train": "70",
            "split_val": "15",
            "split_test": "15",
            "seed": "0",
            "line_kind": "safety_critical",
        },
    )
    # then
    assert first.status_code == second.status_code == 302
    page = client.get(second.url).content.decode()
    assert "version v2" in page
    assert "Defect-free : defective images = 1 : 5" in page
    assert "not met" in page
    assert "below 200 images" in page
    assert "<td>1</td><td>0</td><td>0</td>" in page  # one image added, none removed or changed
    assert page.count('class="export"') == 8  # four formats, with and without images
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
