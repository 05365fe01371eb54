"""Dataset versions' rows of the API role matrix (tests/test_role_matrix.py adds them to its own): who gets what
from every version, export and COCO import operation. Builders receive that module's World (the team and two
unlabelled images); a version of it is empty, which is enough to decide who may see it."""

import json
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.models import DatasetExport, DatasetVersion
from datasets.services.exports import dataset_export_build
from datasets.services.versions import dataset_version_freeze

# fmt: off
#  url name                     method    variant        anon insp senior  ml  admin outsider
DATASETS_EXPECTED_STATUS = [
    ("dataset-version-list",    "get",    "",            401, 403, 403, 200, 200, 404),
    ("dataset-version-list",    "post",   "",            401, 403, 403, 202, 202, 404),  # 202: a freeze job
    ("dataset-version-detail",  "get",    "",            401, 403, 403, 200, 200, 404),
    ("dataset-export-list",     "get",    "",            401, 403, 403, 200, 200, 404),
    ("dataset-export-list",     "post",   "",            401, 403, 403, 202, 202, 404),  # 202: queued for a worker
    ("dataset-export-detail",   "get",    "",            401, 403, 403, 200, 200, 404),
    ("dataset-export-file",     "get",    "",            401, 403, 403, 200, 200, 404),
    ("coco-import",             "post",   "",            401, 403, 403, 403, 200, 404),  # adds final annotations
]
# fmt: on
DATASETS_WRITTEN_MODELS = (DatasetVersion, DatasetExport)


@dataclass(frozen=True)
class Call:
    """The shape of tests/test_role_matrix.py's Call (path, data, format)."""

    path: str
    data: dict | None = None
    format: str | None = "json"


def _version(world) -> DatasetVersion:
    return dataset_version_freeze(project=world.team.project, name="v1", created_by=None)


def _built_export(world) -> DatasetExport:
    return dataset_export_build(version=_version(world), export_format="coco", with_images=False)


def _coco_file(world) -> Call:
    document = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "crack"}]}
    upload = SimpleUploadedFile("instances.json", json.dumps(document).encode(), content_type="application/json")
    return Call(f"/api/v1/projects/{world.team.project.pk}/coco-imports/", {"file": upload}, format="multipart")


DATASETS_REQUESTS = {
    ("dataset-version-list", "get", ""): lambda world: Call(f"/api/v1/projects/{world.team.project.pk}/versions/"),
    ("dataset-version-list", "post", ""): lambda world: Call(
        f"/api/v1/projects/{world.team.project.pk}/versions/", {"name": "v1"}
    ),
    ("dataset-version-detail", "get", ""): lambda world: Call(f"/api/v1/versions/{_version(world).pk}/"),
    ("dataset-export-list", "get", ""): lambda world: Call(f"/api/v1/versions/{_version(world).pk}/exports/"),
    ("dataset-export-list", "post", ""): lambda world: Call(
        f"/api/v1/versions/{_version(world).pk}/exports/", {"format": "coco"}
    ),
    ("dataset-export-detail", "get", ""): lambda world: Call(f"/api/v1/exports/{_built_export(world).pk}/"),
    ("dataset-export-file", "get", ""): lambda world: Call(f"/api/v1/exports/{_built_export(world).pk}/file"),
    ("coco-import", "post", ""): _coco_file,
}
