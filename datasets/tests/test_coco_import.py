"""COCO import from other tools: classes by name, unknown ones reported, images matched, pixels as COCO means them."""

import json

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pycocotools import mask as coco_mask

from annotation import geometry
from annotation.models import Annotation, DefectClass
from datasets.importers.coco import CocoFormatError
from datasets.services.coco_import import coco_import
from datasets.tests.version_data import HEIGHT, WIDTH, stored_image
from tests.factories import SeverityLevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def images(team):
    """Two unlabelled images as CVAT would name them in its export."""
    return [stored_image(team.project, seed=index, name=f"line3/part{index}.png") for index in range(2)]


def cvat_document(**overrides) -> dict:
    """What CVAT's "COCO 1.0" export looks like: polygons in pixel-edge floats, an uncompressed RLE for a mask."""
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8, order="F")
    mask[20:30, 40:44] = 1
    mask[24:26, 41:43] = 0  # a hole
    uncompressed = {"size": [HEIGHT, WIDTH], "counts": _uncompressed(mask)}
    assert coco_mask.decode(coco_mask.frPyObjects(uncompressed, HEIGHT, WIDTH)).sum() == mask.sum()
    document = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "description": "", "version": "", "year": ""},
        "categories": [
            {"id": 1, "name": "Crack", "supercategory": ""},
            {"id": 2, "name": "scratch", "supercategory": ""},
        ],
        "images": [
            {"id": 1, "width": WIDTH, "height": HEIGHT, "file_name": "part0.png", "license": 0},
            {"id": 2, "width": WIDTH, "height": HEIGHT, "file_name": "line3/part1.png", "license": 0},
            {"id": 3, "width": WIDTH, "height": HEIGHT, "file_name": "elsewhere.png", "license": 0},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [[10.0, 10.0, 20.0, 10.0, 20.0, 15.0, 10.0, 15.0]],
                "area": 50.0,
                "bbox": [10.0, 10.0, 10.0, 5.0],
                "iscrowd": 0,
                "attributes": {"occluded": False, "severity": "Minor"},
            },
            {
                "id": 2,
                "image_id": 2,
                "category_id": 1,
                "segmentation": uncompressed,
                "area": float(mask.sum()),
                "bbox": [40.0, 20.0, 4.0, 10.0],
                "iscrowd": 1,
            },
            {"id": 3, "image_id": 2, "category_id": 1, "segmentation": [], "bbox": [2.0, 3.0, 4.0, 5.0]},
            {"id": 4, "image_id": 2, "category_id": 2, "segmentation": [[1, 1, 5, 1, 5, 5]], "bbox": [1, 1, 4, 4]},
            {"id": 5, "image_id": 3, "category_id": 1, "segmentation": [[1, 1, 5, 1, 5, 5]], "bbox": [1, 1, 4, 4]},
        ],
    }
    document.update(overrides)
    return document


def _uncompressed(mask: np.ndarray) -> list[int]:
    flat = mask.ravel(order="F")
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    return np.diff(np.concatenate([[0], changes])).tolist()


def test_cvat_export_is_imported_with_classes_by_name_and_unknown_ones_reported(team, images):
    # given
    SeverityLevelFactory.create(defect_class=team.defect_class, name="major", rank=2)
    data = json.dumps(cvat_document()).encode()
    # when
    summary = coco_import(project=team.project, data=data, actor=team.admin)
    # then
    assert summary.as_dict() == {
        "images_imported": 0,
        "images_matched": 2,
        "annotations_imported": 3,
        "annotations_duplicate": 0,
        "unknown_classes": {"scratch": 1},
        "unmatched_images": ["elsewhere.png"],
        "unmatched_image_count": 1,
        "rejected": [],
        "rejected_count": 0,
    }
    assert not DefectClass.objects.filter(project=team.project, name__iexact="scratch").exists()
    first = Annotation.objects.get(image=images[0])
    assert (first.defect_class, first.severity, first.source, first.is_final) == (
        team.defect_class,
        team.severity,
        "imported",
        True,
    )
    # the pixels are the ones pycocotools fills: a 10 x 5 rectangle between pixel edges
    assert (first.area_px, first.bbox_x, first.bbox_y, first.bbox_width, first.bbox_height) == (50, 10, 10, 10, 5)


def test_masks_with_holes_and_boxes_keep_their_pixels(team, images):
    coco_import(project=team.project, data=json.dumps(cvat_document()).encode(), actor=None)
    ring, box = Annotation.objects.filter(image=images[1]).order_by("id")
    expected = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    expected[20:30, 40:44] = 1
    expected[24:26, 41:43] = 0
    assert np.array_equal(geometry.rle_decode(ring.rle), expected)
    assert len(ring.geometry["polygons"][0]["holes"]) == 1
    assert (box.bbox_x, box.bbox_y, box.bbox_width, box.bbox_height, box.area_px) == (2, 3, 4, 5, 20)


def test_importing_the_same_file_again_adds_nothing(team, images):
    data = json.dumps(cvat_document()).encode()
    coco_import(project=team.project, data=data, actor=None)
    again = coco_import(project=team.project, data=data, actor=None)
    assert (again.annotations_imported, again.annotations_duplicate) == (0, 3)
    assert Annotation.objects.filter(image__project=team.project).count() == 3


def test_malformed_segmentation_is_rejected_with_its_reason(team, images):
    document = cvat_document()
    document["annotations"] = [
        {"id": 9, "image_id": 1, "category_id": 1, "segmentation": {"size": [1, 1], "counts": "0"}},
    ]
    summary = coco_import(project=team.project, data=json.dumps(document).encode(), actor=None)
    assert summary.rejected == [
        {"file_name": "part0.png", "annotation_id": 9, "reason": "RLE size [1, 1] is not the image's [48, 64]"}
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"images": []}', "lists named images, annotations and categories"),
        (b'{"images": [{"id": 1}], "annotations": [], "categories": []}', "every image needs"),
    ],
)
def test_files_that_are_not_coco_are_refused(team, data, message):
    with pytest.raises(CocoFormatError, match=message):
        coco_import(project=team.project, data=data, actor=None)


def test_api_imports_for_admins_only(team, api, images):
    url = reverse("coco-import", args=[team.project.pk])

    def upload() -> SimpleUploadedFile:
        return SimpleUploadedFile("instances.json", json.dumps(cvat_document()).encode(), "application/json")

    assert api(team.ml_engineer).post(url, {"file": upload()}, format="multipart").status_code == 403
    assert api(team.outsider).post(url, {"file": upload()}, format="multipart").status_code == 404
    response = api(team.admin).post(url, {"file": upload()}, format="multipart")
    assert response.status_code == 200, response.content
    assert (response.json()["annotations_imported"], response.json()["unknown_classes"]) == (3, {"scratch": 1})
    bad = api(team.admin).post(
        url, {"file": SimpleUploadedFile("x.json", b"[]", "application/json")}, format="multipart"
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
