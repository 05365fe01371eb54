"""Exports of a version of the real magnetic-tile data (../shared/data/magnetic-tile), read back by the tools ML
engineers use: pycocotools, Datumaro, and plain decoding of YOLO polygons and PNG masks.

The 428 images are imported once for the module, with their masks, inside a transaction rolled back at the end
(as in test_import_images); one version is frozen and each format exported once. Every exported mask is compared
with the annotation's stored geometry, rasterised (ADR 0001): they are equal, pixel for pixel.
"""

import json
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import datumaro as dm
import numpy as np
import pytest
from django.db import transaction
from django.test import override_settings
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from annotation import geometry
from annotation.models import Annotation, Project
from annotation.services.projects import defect_class_create, project_create
from datasets import storage
from datasets.demo import CLASSES, SEVERITY, demo_project_seed
from datasets.models import DatasetExport, DatasetVersion
from datasets.services.coco_import import coco_archive_import
from datasets.services.exports import dataset_export_build
from datasets.services.imports import images_import
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from datasets.sources import folder_entries, plan_sources
from datasets.splits import SPLIT_NAMES

MIN_IOU = 0.999  # the acceptance bar; in fact every mask is exact


@dataclass(frozen=True)
class Frozen:
    project: Project
    version: DatasetVersion
    folders: dict[str, Path]  # format -> the unzipped export (annotations only; "coco+images" with the images)
    masks: dict[int, np.ndarray]  # annotation id -> its stored geometry, rasterised (ADR 0001)


def stored_polygons(annotation: Annotation) -> list[geometry.Polygon]:
    """The stored geometry as it is (polygons_from_json would refuse the padded rings of one-pixel regions)."""
    return [
        geometry.Polygon(
            exterior=np.asarray(polygon["exterior"], dtype=np.float64),
            holes=tuple(np.asarray(hole, dtype=np.float64) for hole in polygon["holes"]),
        )
        for polygon in annotation.geometry["polygons"]
    ]


def unzip(key: str, target: Path) -> Path:
    with zipfile.ZipFile(storage.open_key(key)) as archive:
        archive.extractall(target)
    return target


@pytest.fixture(scope="module")
def frozen(django_db_setup, django_db_blocker, magnetic_tile, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    exports = tmp_path_factory.mktemp("exports")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        project, _ = demo_project_seed()
        sources, _ = plan_sources(folder_entries(magnetic_tile), with_masks=True)
        images_import(project=project, sources=sources)
        version = dataset_version_freeze(project=project, name="v1", created_by=None)
        folders = {}
        for export_format in ("coco", "yolo", "voc", "masks"):
            export = dataset_export_build(version=version, export_format=export_format, with_images=False)
            folders[export_format] = unzip(export.file_key, exports / export_format)
        with_images = dataset_export_build(version=version, export_format="coco", with_images=True)
        folders["coco+images"] = unzip(with_images.file_key, exports / "coco-images")
        # Datumaro reads VOC masks back through colour matching (about 20 ms an image): its test reads a smaller
        # version of the same data, the crack and fray images (58).
        small = dataset_version_freeze(
            project=project,
            name="cracks and frays",
            created_by=None,
            options=FreezeOptions(defect_classes=("crack", "fray"), include_defect_free=False),
        )
        small_voc = dataset_export_build(version=small, export_format="voc", with_images=False)
        folders["voc small"] = unzip(small_voc.file_key, exports / "voc-small")
        masks = {
            annotation.pk: geometry.rasterize(
                stored_polygons(annotation), width=annotation.image.width, height=annotation.image.height
            )
            for annotation in Annotation.objects.filter(image__project=project).select_related("image")
        }
        yield Frozen(project=project, version=version, folders=folders, masks=masks)
        transaction.set_rollback(True)


def stored_masks_by_image(frozen: Frozen) -> dict[str, list[tuple[str, np.ndarray]]]:
    """export file name -> [(defect class, mask)] in annotation order, from the database."""
    by_image: dict[str, list] = {}
    rows = Annotation.objects.filter(image__project=frozen.project, is_final=True).select_related(
        "image", "defect_class"
    )
    for annotation in rows.order_by("id"):
        by_image.setdefault(annotation.image.original_filename, []).append(
            (annotation.defect_class.name, frozen.masks[annotation.pk])
        )
    return by_image


@pytest.mark.django_db
def test_coco_export_loads_in_pycocotools_and_every_mask_is_the_stored_one(frozen):
    # given
    ious, kinds, seen = [], Counter(), 0
    for split in SPLIT_NAMES:
        coco = COCO(str(frozen.folders["coco"] / "annotations" / f"instances_{split}.json"))
        # when
        for annotation in coco.loadAnns(coco.getAnnIds()):
            decoded = coco.annToMask(annotation)
            stored = frozen.masks[annotation["attributes"]["defectlab_id"]]
            ious.append(geometry.iou(decoded, stored))
            kinds["rle" if isinstance(annotation["segmentation"], dict) else "polygons"] += 1
            assert annotation["area"] == stored.sum()
            assert annotation["bbox"] == list(coco_mask.toBbox(coco_mask.encode(np.asfortranarray(stored))))
            seen += 1
    # then
    assert seen == Annotation.objects.filter(image__project=frozen.project).count() == 317
    assert min(ious) >= MIN_IOU
    assert min(ious) == 1.0
    assert kinds == {"polygons": 302, "rle": 15}  # the 15 with holes go as RLE


@pytest.mark.django_db
def test_coco_info_names_the_version_and_its_hash(frozen):
    document = json.loads((frozen.folders["coco"] / "annotations" / "instances_val.json").read_text())
    assert document["info"]["version"] == "v1"
    assert document["info"]["content_hash"] == frozen.version.content_hash
    assert [category["name"] for category in document["categories"]] == [spec["name"] for spec in CLASSES]
    image = document["images"][0]
    assert {"sha256", "original_filename", "status", "is_defect_free", "metadata"} <= image.keys()


@pytest.mark.django_db
def test_coco_export_loads_in_datumaro(frozen):
    for folder in ("coco", "coco+images"):
        dataset = dm.Dataset.import_from(str(frozen.folders[folder]), "coco_instances")
        kinds = Counter(type(annotation).__name__ for item in dataset for annotation in item.annotations)
        assert (len(dataset), kinds) == (426, {"Bbox": 317, "Polygon": 302, "RleMask": 15})
        assert sorted(dataset.subsets()) == sorted(SPLIT_NAMES)
    labels = dataset.categories()[dm.AnnotationType.label]
    assert [label.name for label in labels] == [spec["name"] for spec in CLASSES]


@pytest.mark.django_db
def test_voc_export_loads_in_datumaro_with_the_stored_masks(frozen):
    # given
    dataset = dm.Dataset.import_from(str(frozen.folders["voc small"]), "voc")
    labels = dataset.categories()[dm.AnnotationType.label]
    stored = stored_masks_by_image(frozen)
    # then: a box and an instance mask per defect, and per class the masks are the stored ones
    kinds = Counter(type(annotation).__name__ for item in dataset for annotation in item.annotations)
    assert len(dataset) == 35 + 23
    assert kinds == {"Bbox": 44 + 30, "ExtractedMask": 44 + 30}
    assert [label.name for label in labels][1:3] == ["crack", "fray"]
    for item in dataset:
        masks = [annotation for annotation in item.annotations if isinstance(annotation, dm.Mask)]
        expected = {}
        for class_name, mask in stored.get(item.id + ".jpg", []):
            expected[class_name] = expected.get(class_name, 0) | mask
        found: dict[str, np.ndarray] = {}
        for mask in masks:  # one per instance (SegmentationObject), labelled from SegmentationClass
            found[labels[mask.label].name] = found.get(labels[mask.label].name, 0) | mask.image.astype(np.uint8)
        assert found.keys() == expected.keys(), item.id
        for class_name, mask in expected.items():
            assert np.array_equal(found[class_name], mask), item.id


@pytest.mark.django_db
def test_voc_boxes_are_one_based_and_inclusive(frozen):
    # given: the pixel-extent box [x, y, w, h] of the first defect in the train list
    first = (frozen.folders["voc"] / "ImageSets" / "Main" / "train.txt").read_text().split()[0]
    dataset = dm.Dataset.import_from(str(frozen.folders["voc"]), "voc", coordinate_mode="voc-one-based")
    item = dataset.get(first, subset="train")
    boxes = sorted(tuple(annotation.get_bbox()) for annotation in item.annotations if isinstance(annotation, dm.Bbox))
    expected = sorted(
        tuple(coco_mask.toBbox(coco_mask.encode(np.asfortranarray(mask))))
        for _, mask in stored_masks_by_image(frozen).get(first + ".jpg", [])
    )
    assert boxes == expected


@pytest.mark.django_db
def test_yolo_polygons_fill_the_stored_masks(frozen):
    # given
    folder = frozen.folders["yolo"]
    names = [line.split(": ", 1)[1].strip('"') for line in (folder / "data.yaml").read_text().splitlines()[-5:]]
    stored = stored_masks_by_image(frozen)
    compared = 0
    # when: each label file's polygons, scaled back to pixels and filled as pycocotools (pixel edges) fills them
    for label_file in sorted(folder.glob("labels/*/**/*.txt")):
        name = str(label_file.relative_to(folder / "labels").with_suffix(".jpg")).split("/", 1)[1]
        expected = stored.get(name, [])
        lines = label_file.read_text().splitlines()
        assert len(lines) == len(expected), name
        for line, (class_name, mask) in zip(lines, expected, strict=True):
            class_id, *values = line.split()
            height, width = mask.shape
            points = np.array(values, dtype=np.float64).reshape(-1, 2) * [width, height]
            filled = coco_mask.decode(coco_mask.frPyObjects([points.ravel().tolist()], height, width))[:, :, 0]
            # then: the same pixels; a defect with a hole is joined to its outline by a zero-width cut
            assert names[int(class_id)] == class_name
            assert geometry.iou(filled, mask) >= MIN_IOU, name
            compared += 1
    assert compared == 317


@pytest.mark.django_db
def test_png_masks_are_the_stored_masks(frozen):
    folder = frozen.folders["masks"]
    classes = {item["name"]: item["index"] for item in json.loads((folder / "classes.json").read_text())["classes"]}
    instances = [json.loads(line) for line in (folder / "instances.jsonl").read_text().splitlines()]
    stored = stored_masks_by_image(frozen)
    assert len(instances) == 426
    for entry in instances:
        instance_map = cv2.imread(str(folder / entry["mask"]), cv2.IMREAD_UNCHANGED)
        class_map = cv2.imread(str(folder / entry["mask"].replace("instance/", "semantic/", 1)), cv2.IMREAD_UNCHANGED)
        assert instance_map.dtype == np.uint16
        for instance, (class_name, mask) in zip(entry["instances"], stored.get(entry["image"], []), strict=True):
            assert instance["defect_class"] == class_name
            assert np.array_equal(instance_map == instance["id"], mask.astype(bool))  # no overlaps in this data
            assert np.array_equal(class_map[mask.astype(bool)], np.full(mask.sum(), classes[class_name], np.uint8))


@pytest.mark.django_db
def test_exports_are_byte_identical_when_built_again(frozen):
    for export_format in ("coco", "yolo", "voc", "masks"):
        export = DatasetExport.objects.get(version=frozen.version, format=export_format, with_images=False)
        DatasetExport.objects.filter(pk=export.pk).delete()
        again = dataset_export_build(version=frozen.version, export_format=export_format, with_images=False)
        assert (again.sha256, again.size_bytes) == (export.sha256, export.size_bytes), export_format


@pytest.mark.django_db
def test_split_is_stratified_and_stable(frozen):
    # then: every class (all have 23 images or more) is in every split, close to 70/15/15
    for name, counts in frozen.version.counts["classes"].items():
        images = counts["images"]
        assert min(images[split] for split in SPLIT_NAMES) >= 1, name
        assert abs(images["train"] - 0.7 * images["total"]) <= 1, name
    # and a fresh freeze of the same state gives the same split, so the same content
    again = dataset_version_freeze(project=frozen.project, name="v1 again", created_by=None)
    assert again.content_hash == frozen.version.content_hash


@pytest.mark.django_db
def test_coco_round_trip_through_a_new_project_gives_the_same_annotations(frozen, tmp_path):
    # given: a new project with the same taxonomy
    copy = project_create(name="Copy", slug="copy", created_by=None)
    for spec in CLASSES:
        defect_class_create(project=copy, actor=None, severity_levels=SEVERITY, **spec)
    # when: the COCO export (with images) goes in, is frozen and exported again
    summary = coco_archive_import(project=copy, path=frozen.folders["coco+images"], actor=None)
    version = dataset_version_freeze(project=copy, name="round trip", created_by=None)
    export = dataset_export_build(version=version, export_format="coco", with_images=False)
    again = unzip(export.file_key, tmp_path / "again")
    # then
    assert (summary.images_imported, summary.annotations_imported, summary.unknown_classes) == (426, 317, {})

    def annotations(folder: Path) -> list[tuple]:
        found = []
        for split in SPLIT_NAMES:
            document = json.loads((folder / "annotations" / f"instances_{split}.json").read_text())
            names = {image["id"]: (split, image["file_name"], image["sha256"]) for image in document["images"]}
            categories = {category["id"]: category["name"] for category in document["categories"]}
            for annotation in document["annotations"]:
                segmentation = annotation["segmentation"]
                if isinstance(segmentation, dict):  # compare masks, not RLE strings
                    segmentation = coco_mask.decode(segmentation).tobytes().hex()
                found.append(
                    (
                        *names[annotation["image_id"]],
                        categories[annotation["category_id"]],
                        json.dumps(segmentation),
                        annotation["area"],
                        tuple(annotation["bbox"]),
                        annotation["attributes"].get("severity"),
                    )
                )
        return sorted(found)

    assert annotations(again) == annotations(frozen.folders["coco"])
    assert version.counts == frozen.version.counts
