"""Freezing dataset versions: what goes in, immutability, content hashes, diffs, splits that stay put."""

import json
import zipfile

import pytest

from annotation.models import Annotation
from annotation.services.annotations import annotation_delete, annotation_save
from annotation.services.projects import defect_class_update
from datasets import storage
from datasets.manifest import manifest_read
from datasets.models import DatasetExport
from datasets.services.exports import dataset_export_build
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from datasets.tests.version_data import labelled_image, ring, square, stored_file, stored_image
from defectlab.errors import ValidationFailed
from tests.factories import DefectClassFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(team):
    """Six crack images (one with a ring-shaped crack), four blowhole images, three defect-free images, and one
    image still in progress (a non-final annotation): the default filter takes 13 images and 10 annotations."""
    blowhole = DefectClassFactory.create(project=team.project, name="blowhole")
    for index in range(6):
        shape = ring(5, 5, 9) if index == 0 else square(3 + index, 4, 5)
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/part{index}.png", shapes=[shape])
    for index in range(4):
        labelled_image(
            team.project, blowhole, seed=10 + index, name=f"blowhole/part{index}.png", shapes=[square(9, 9, 3)]
        )
    for index in range(3):
        stored_image(team.project, seed=20 + index, name=f"free/part{index}.png", is_defect_free=True)
    labelled_image(team.project, blowhole, seed=30, name="work/part.png", shapes=[square(1, 1, 4)], is_final=False)
    return team


def manifest_of(version) -> tuple[dict, list[dict]]:
    with storage.open_key(version.manifest_key) as handle:
        header, images = manifest_read(handle)
        return header, list(images)


def coco_json(export, split: str = "train") -> dict:
    with zipfile.ZipFile(storage.open_key(export.file_key)) as archive:
        return json.loads(archive.read(f"annotations/instances_{split}.json"))


def test_version_holds_final_annotations_of_final_images_and_defect_free_images(
    labelled, django_assert_max_num_queries
):
    # when: the query count does not grow with the project (rows are streamed)
    with django_assert_max_num_queries(15):
        version = dataset_version_freeze(project=labelled.project, name="v1", created_by=labelled.ml_engineer)
    # then
    assert version.counts["images"]["total"] == 13
    assert version.counts["defect_free_images"]["total"] == 3
    assert version.counts["annotations"]["total"] == 10
    assert version.counts["skipped_images"] == 0
    assert {name: counts["annotations"]["total"] for name, counts in version.counts["classes"].items()} == {
        "crack": 6,
        "blowhole": 4,
    }
    header, images = manifest_of(version)
    assert [image["filename"] for image in images if image["filename"].startswith("work/")] == []
    assert [image["sha256"] for image in images] == sorted(image["sha256"] for image in images)
    assert header["taxonomy"]["taxonomy_revision"] == labelled.project.taxonomy_revision
    assert header["categories"] == ["blowhole", "crack"]  # picker order: position, then name
    assert (version.number, version.previous, version.diff) == (1, None, None)


def test_freeze_then_edit_leaves_the_versions_export_unchanged(labelled):
    # given: a frozen version and its COCO export
    version = dataset_version_freeze(project=labelled.project, name="v1", created_by=labelled.ml_engineer)
    export = dataset_export_build(version=version, export_format="coco", with_images=False)
    before = stored_file(export.file_key)
    # when: an annotation is edited, and the export is built again from scratch
    annotation = Annotation.objects.filter(image__original_filename="crack/part3.png").get()
    annotation_save(
        user=labelled.admin,
        annotation_id=annotation.pk,
        expected_revision=annotation.revision,
        geometry_data={"polygons": [{"exterior": [[1, 1], [30, 1], [30, 30], [1, 30]]}]},
    )
    DatasetExport.objects.filter(pk=export.pk).delete()
    rebuilt = dataset_export_build(version=version, export_format="coco", with_images=False)
    # then: byte for byte the same file
    assert stored_file(rebuilt.file_key) == before
    assert rebuilt.sha256 == export.sha256
    # and a version frozen now has the edit
    after = dataset_version_freeze(project=labelled.project, name="v2", created_by=labelled.ml_engineer)
    assert after.content_hash != version.content_hash
    assert after.diff["annotations"] == {"added": 0, "removed": 0, "changed": 1}


def test_two_versions_from_the_same_state_have_the_same_content_hash(labelled):
    first = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    second = dataset_version_freeze(project=labelled.project, name="v2", created_by=labelled.admin)
    assert second.content_hash == first.content_hash
    assert second.manifest_key == first.manifest_key  # content-addressed: stored once
    assert second.diff == {
        "images": {"added": 0, "removed": 0, "changed": 0},
        "annotations": {"added": 0, "removed": 0, "changed": 0},
        "examples": {
            "images": {"added": [], "removed": [], "changed": []},
            "annotations": {"added": [], "removed": [], "changed": []},
        },
    }


def test_other_inputs_give_other_hashes(labelled):
    base = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    cracks = dataset_version_freeze(
        project=labelled.project, name="cracks", created_by=None, options=FreezeOptions(defect_classes=("crack",))
    )
    other_seed = dataset_version_freeze(
        project=labelled.project, name="seed 5", created_by=None, options=FreezeOptions(seed=5)
    )
    assert len({base.content_hash, cracks.content_hash, other_seed.content_hash}) == 3


def test_class_filter_leaves_out_images_whose_defects_are_all_of_other_classes(labelled):
    version = dataset_version_freeze(
        project=labelled.project, name="cracks", created_by=None, options=FreezeOptions(defect_classes=("crack",))
    )
    assert (version.counts["images"]["total"], version.counts["annotations"]["total"]) == (9, 6)
    assert version.counts["skipped_images"] == 4  # the blowhole images: no label here, and not defect-free
    header, _ = manifest_of(version)
    assert header["categories"] == ["crack"]
    assert header["filter"]["defect_classes"] == ["crack"]


def test_non_final_work_can_be_included_on_request(labelled):
    version = dataset_version_freeze(
        project=labelled.project,
        name="everything",
        created_by=None,
        options=FreezeOptions(image_statuses=("final", "new"), final_annotations_only=False),
    )
    assert (version.counts["images"]["total"], version.counts["annotations"]["total"]) == (14, 11)
    _, images = manifest_of(version)
    work = next(image for image in images if image["filename"] == "work/part.png")
    assert (work["status"], [annotation["is_final"] for annotation in work["annotations"]]) == ("new", [False])


def test_diff_names_added_removed_and_changed(labelled):
    # given
    first = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    edited, deleted = Annotation.objects.filter(image__original_filename__startswith="crack/").order_by("id")[1:3]
    annotation_save(
        user=labelled.admin,
        annotation_id=edited.pk,
        expected_revision=edited.revision,
        geometry_data={"polygons": [{"exterior": [[2, 2], [20, 2], [20, 20]]}]},
    )
    annotation_delete(user=labelled.admin, annotation_id=deleted.pk, expected_revision=deleted.revision)
    labelled_image(labelled.project, labelled.defect_class, seed=40, name="crack/new.png", shapes=[square(2, 2, 4)] * 2)
    # when
    second = dataset_version_freeze(project=labelled.project, name="v2", created_by=None)
    # then: the image whose only annotation was deleted has no label left, so it leaves the version
    assert second.previous == first
    assert second.diff["images"] == {"added": 1, "removed": 1, "changed": 0}
    assert second.diff["annotations"] == {"added": 2, "removed": 1, "changed": 1}
    assert second.diff["examples"]["images"]["added"] == ["crack/new.png"]
    assert second.diff["examples"]["annotations"]["changed"] == [{"id": edited.pk, "image": "crack/part1.png"}]


def test_images_already_split_keep_their_split(labelled):
    first = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    for index in range(8):
        labelled_image(
            labelled.project,
            labelled.defect_class,
            seed=50 + index,
            name=f"crack/more{index}.png",
            shapes=[square(2, 2, 5)],
        )
    second = dataset_version_freeze(project=labelled.project, name="v2", created_by=None)
    _, before = manifest_of(first)
    _, after = manifest_of(second)
    after_splits = {image["sha256"]: image["split"] for image in after}
    assert {image["sha256"]: image["split"] for image in before}.items() <= after_splits.items()


def test_taxonomy_is_frozen_with_the_version(labelled):
    version = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    frozen = version.taxonomy
    defect_class_update(defect_class=labelled.defect_class, actor=labelled.admin, color="#000000")
    version.refresh_from_db()
    header, _ = manifest_of(version)
    assert version.taxonomy == frozen == header["taxonomy"]
    crack = next(defect_class for defect_class in frozen["defect_classes"] if defect_class["name"] == "crack")
    assert (crack["color"], crack["severity_levels"]) == ("#e6194b", [{"name": "minor", "rank": 1, "criterion": ""}])


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("v1", FreezeOptions(), "already has a version named 'v1'"),
        ("  ", FreezeOptions(), "needs a name"),
        ("v2", FreezeOptions(defect_classes=("scratch",)), "No such defect classes in this project: scratch"),
        ("v2", FreezeOptions(image_statuses=("done",)), "Image statuses must be some of"),
        ("v2", FreezeOptions(split_ratios=(("train", 0.9), ("val", 0.2), ("test", 0.0))), "must sum to 1"),
    ],
)
def test_invalid_freezes_are_refused_and_create_nothing(labelled, name, options, message):
    dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    with pytest.raises(ValidationFailed, match=message):
        dataset_version_freeze(project=labelled.project, name=name, created_by=None, options=options)
    assert labelled.project.dataset_versions.count() == 1


def test_ring_shaped_defect_is_exported_as_rle_others_as_polygons(labelled):
    version = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    export = dataset_export_build(version=version, export_format="coco", with_images=False)
    segmentations = {}
    for split in ("train", "val", "test"):
        document = coco_json(export, split)
        names = {image["id"]: image["file_name"] for image in document["images"]}
        for annotation in document["annotations"]:
            segmentations[names[annotation["image_id"]]] = annotation["segmentation"]
    assert set(segmentations["crack/part0.png"]) == {"size", "counts"}
    assert segmentations["crack/part1.png"] == [[4, 4, 4, 9, 9, 9, 9, 4]]  # pixel edges around a 5 x 5 square


def test_a_manifest_holds_no_geometry_lines(labelled):
    # Format 2: the pixels (RLE and outline) only; the vertices at each revision are in the audit log.
    version = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    lines = stored_file(version.manifest_key).splitlines()
    assert json.loads(lines[0])["manifest_format"] == 2
    assert [json.loads(line)["kind"] for line in lines[1:]] == ["image"] * 13


def _as_format_1(manifest: bytes) -> bytes:
    """The manifest as format 1 wrote it: each image with annotations followed by a geometry line."""
    header, *images = manifest.splitlines()
    lines = [header.replace(b'"manifest_format":2', b'"manifest_format":1')]
    for line in images:
        lines.append(line)
        annotations = json.loads(line)["annotations"]
        if annotations:
            geometry = [[annotation["id"], {"polygons": [[[1.5, 2.0], [3.0, 4.0]]]}] for annotation in annotations]
            sha256 = json.loads(line)["sha256"]
            geometry_line = {"geometry": geometry, "image": sha256, "kind": "geometry"}
            lines.append(json.dumps(geometry_line, separators=(",", ":")).encode())
    return b"\n".join(lines) + b"\n"


def test_a_version_frozen_in_format_1_exports_and_is_built_upon_as_before(labelled):
    # given: a version whose manifest is in format 1 (geometry lines), and its COCO export from format 2
    version = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    format_2_export = stored_file(
        dataset_export_build(version=version, export_format="coco", with_images=False).file_key
    )
    old = _as_format_1(stored_file(version.manifest_key))
    version.manifest_key = storage.content_key("manifests", "format-1-copy", "jsonl")
    storage.store_bytes(version.manifest_key, old)
    version.save(update_fields=["manifest_key"])
    DatasetExport.objects.filter(version=version).delete()
    # when: it is exported, and a version is frozen on top of it
    format_1_export = stored_file(
        dataset_export_build(version=version, export_format="coco", with_images=False).file_key
    )
    later = dataset_version_freeze(project=labelled.project, name="v2", created_by=None)
    # then: the same export; the later version keeps its splits and sees no change
    assert format_1_export == format_2_export
    assert old.count(b'"kind":"geometry"') == 10
    assert later.diff["images"] == {"added": 0, "removed": 0, "changed": 0}
    assert later.diff["annotations"] == {"added": 0, "removed": 0, "changed": 0}
