"""The real magnetic-tile data (../shared/data/magnetic-tile) imported with its masks, and the import_images command.

The full import (428 images) runs once for the module, through `python manage.py import_images SLUG PATH --masks`
into the seeded demo project, inside a transaction that is rolled back when the module ends; each test then
runs in its own savepoint. Masks are read here with OpenCV, independently of the decoder under test.
"""

import io
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from annotation import geometry
from annotation.models import Annotation, AnnotationSource, DefectClass, Image, Project
from datasets.demo import DEMO_SLUG, demo_project_seed

MASK_THRESHOLD = 128  # ../shared/data/magnetic-tile/README.md: defect pixels are near 255, JPEG-like noise below
EXPECTED_IMAGES = {"blowhole": 87, "break": 64, "crack": 35, "fray": 23, "uneven": 69, "free": 150}
MIN_ROUND_TRIP_IOU = 0.98


@dataclass(frozen=True)
class TileImport:
    project: Project
    root: Path
    first_output: str
    second_output: str


def run_import(slug: str, path: Path) -> str:
    out = io.StringIO()
    call_command("import_images", slug, str(path), "--masks", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def tile_import(django_db_setup, django_db_blocker, magnetic_tile, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        project, _ = demo_project_seed()
        first = run_import(DEMO_SLUG, magnetic_tile)
        second = run_import(DEMO_SLUG, magnetic_tile)
        yield TileImport(project=project, root=magnetic_tile, first_output=first, second_output=second)
        transaction.set_rollback(True)


def reference_mask(root: Path, image: Image) -> np.ndarray:
    """The dataset's mask for `image` at the README's threshold, as a {0,1} array."""
    path = root / Path(image.original_filename).with_suffix(".png")
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert grey is not None, path
    return (grey >= MASK_THRESHOLD).astype(np.uint8)


def region_count(mask: np.ndarray) -> int:
    count, _ = cv2.connectedComponents(mask, connectivity=8)
    return count - 1  # label 0 is the background


def stored_polygons(annotation: Annotation) -> list[geometry.Polygon]:
    """The stored geometry as polygons, as stored (polygons_from_json refuses one-pixel rings: see below)."""
    return [
        geometry.Polygon(
            exterior=np.asarray(polygon["exterior"], dtype=np.float64),
            holes=tuple(np.asarray(hole, dtype=np.float64) for hole in polygon["holes"]),
        )
        for polygon in annotation.geometry["polygons"]
    ]


@pytest.mark.django_db
def test_every_image_is_imported_once_by_folder(tile_import):
    # then
    images = Image.objects.filter(project=tile_import.project)
    folders = Counter(name.split("/")[0] for name in images.values_list("original_filename", flat=True))
    assert folders == EXPECTED_IMAGES
    assert images.count() == sum(EXPECTED_IMAGES.values()) == 428


@pytest.mark.django_db
def test_free_images_are_defect_free_without_annotations(tile_import):
    # then
    images = Image.objects.filter(project=tile_import.project)
    free = images.filter(original_filename__startswith="free/")
    assert free.count() == 150
    assert free.filter(is_defect_free=True).count() == 150
    assert Annotation.objects.filter(image__in=free).count() == 0
    assert images.exclude(original_filename__startswith="free/").filter(is_defect_free=True).count() == 0


@pytest.mark.django_db
def test_one_imported_annotation_per_8_connected_mask_region(tile_import):
    # given
    images = Image.objects.filter(project=tile_import.project).exclude(original_filename__startswith="free/")
    expected = {image.original_filename: region_count(reference_mask(tile_import.root, image)) for image in images}
    # then
    annotations = Annotation.objects.filter(image__project=tile_import.project).select_related("image")
    found = Counter(annotation.image.original_filename for annotation in annotations)
    assert {name: found[name] for name in expected} == expected
    assert sum(found.values()) == sum(expected.values())


@pytest.mark.django_db
def test_annotations_are_final_imports_of_their_folder_class(tile_import):
    # then
    annotations = Annotation.objects.filter(image__project=tile_import.project).select_related("image", "defect_class")
    mismatched = [
        annotation.pk
        for annotation in annotations
        if annotation.defect_class.name != annotation.image.original_filename.split("/")[0]
        or annotation.source != AnnotationSource.IMPORTED
        or not annotation.is_final
    ]
    assert mismatched == []


@pytest.mark.django_db
def test_mask_to_polygons_to_mask_round_trip_is_lossless(tile_import):
    # given
    images = Image.objects.filter(project=tile_import.project).exclude(original_filename__startswith="free/")
    by_image: dict[int, list[Annotation]] = {}
    for annotation in Annotation.objects.filter(image__in=images):
        by_image.setdefault(annotation.image_id, []).append(annotation)
    # when
    ious, rle_mismatches = {}, []
    for image in images:
        rasterised = np.zeros((image.height, image.width), dtype=np.uint8)
        for annotation in by_image.get(image.pk, []):
            polygons = stored_polygons(annotation)
            drawn = geometry.rasterize(polygons, width=image.width, height=image.height)
            if not np.array_equal(drawn, geometry.rle_decode(annotation.rle)):
                rle_mismatches.append(annotation.pk)
            rasterised |= drawn
        ious[image.original_filename] = geometry.iou(reference_mask(tile_import.root, image), rasterised)
    # then
    assert rle_mismatches == []
    assert {name: value for name, value in ious.items() if value < MIN_ROUND_TRIP_IOU} == {}
    assert min(ious.values()) == 1.0  # in fact exact
    assert len(ious) == 278


@pytest.mark.django_db
def test_second_command_run_imports_nothing_and_reports_all_duplicates(tile_import):
    # then
    annotations = Annotation.objects.filter(image__project=tile_import.project).count()
    assert tile_import.first_output == f"imported 428 images ({annotations} annotations), 0 duplicates, 0 rejected\n"
    assert tile_import.second_output == "imported 0 images (0 annotations), 428 duplicates, 0 rejected\n"


@pytest.mark.django_db
def test_second_command_run_leaves_counts_unchanged(tile_import):
    # given
    project = tile_import.project
    images, annotations = project.images.count(), Annotation.objects.filter(image__project=project).count()
    # when: a third run, now counted from inside the test
    output = run_import(DEMO_SLUG, tile_import.root)
    # then
    assert output == "imported 0 images (0 annotations), 428 duplicates, 0 rejected\n"
    assert (project.images.count(), Annotation.objects.filter(image__project=project).count()) == (images, annotations)


@pytest.mark.django_db
def test_unknown_class_folder_is_rejected_not_invented(tile_import, tmp_path):
    # given: one known image and one image in a folder named after no defect class
    root = tmp_path / "upload"
    source = next((tile_import.root / "crack").glob("*.jpg"))
    for folder in ("crack", "scratch"):
        (root / folder).mkdir(parents=True)
        for suffix in (".jpg", ".png"):
            shutil.copy(source.with_suffix(suffix), root / folder / source.with_suffix(suffix).name)
    classes = list(DefectClass.objects.filter(project=tile_import.project).order_by("name").values_list("name"))
    images = tile_import.project.images.count()
    # when
    output = run_import(DEMO_SLUG, root)
    # then
    assert output == (
        "imported 0 images (0 annotations), 1 duplicates, 1 rejected\n"
        f"  rejected scratch/{source.name}: no defect class named 'scratch' in this project\n"
    )
    assert list(DefectClass.objects.filter(project=tile_import.project).order_by("name").values_list("name")) == classes
    assert tile_import.project.images.count() == images


@pytest.mark.django_db
def test_stored_geometry_of_every_imported_annotation_parses_again(tile_import):
    # given
    annotations = Annotation.objects.filter(image__project=tile_import.project).select_related("image")
    # when / then
    for annotation in annotations:
        image = annotation.image
        geometry.polygons_from_json(annotation.geometry, width=image.width, height=image.height)
