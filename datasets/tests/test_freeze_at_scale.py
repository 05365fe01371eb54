"""What makes a million-image freeze fast gives the manifest it gave before, byte for byte: lines assembled from
parts are canonical JSON, stored outlines equal traced ones, the streamed diff equals one computed from whole
manifests, and reading ahead on other connections changes nothing."""

import datetime
import json
import random

import pytest
from django.core.management import call_command

from annotation.models import Annotation
from annotation.outlines import outline_text, outline_texts_for_rles
from datasets import storage
from datasets.exporters.coco import coco_annotation, coco_segmentation
from datasets.manifest import (
    DIFF_EXAMPLES,
    ImageEntry,
    ManifestDiff,
    canonical_json,
    manifest_annotation_json,
    manifest_image_json,
    manifest_read,
    manifest_splits,
    rle_json,
)
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from datasets.tests.version_data import labelled_image, ring, square, stored_image
from tests.factories import DefectClassFactory

ODD_FLOATS = [0.0, -0.0, 0.1, 1e-05, 1e-4, 123.456, 1e15, 1e16, 2.5e-07, 7.0]


def annotation_row(**changes) -> dict:
    row = {
        "id": 7,
        "revision": 3,
        "defect_class__name": 'crack "hair" \u00e9\n',
        "severity__name": "minor",
        "severity__rank": 1,
        "source": "manual",
        "is_final": True,
        "area_px": 121.0,
        "bbox_x": 10.0,
        "bbox_y": 10.5,
        "bbox_width": 11.0,
        "bbox_height": 1e-05,
    }
    return {**row, **changes}


def annotation_dict(row: dict, *, rle: dict, outline: list) -> dict:
    """The annotation as the manifest's format describes it (datasets/manifest.py)."""
    severity = None if row["severity__name"] is None else {"name": row["severity__name"], "rank": row["severity__rank"]}
    return {
        "id": row["id"],
        "revision": row["revision"],
        "defect_class": row["defect_class__name"],
        "severity": severity,
        "source": row["source"],
        "is_final": row["is_final"],
        "rle": rle,
        "area_px": row["area_px"],
        "bbox": [row["bbox_x"], row["bbox_y"], row["bbox_width"], row["bbox_height"]],
        "outline": outline,
    }


@pytest.mark.parametrize("value", ODD_FLOATS)
@pytest.mark.parametrize("severity", [("minor", 1), (None, None)])
def test_an_annotation_written_from_parts_is_its_canonical_json(value, severity):
    # given
    row = annotation_row(area_px=value, bbox_width=value, severity__name=severity[0], severity__rank=severity[1])
    rle = {"counts": "0a\\1o", "size": [48, 64]}
    outline = [{"exterior": "0,0,4,0,4,4,0,4", "holes": ["1,1,1,2,2,2"]}]
    # when
    written = manifest_annotation_json(
        row, rle_json=canonical_json(rle).decode(), outline=canonical_json(outline).decode()
    )
    # then
    assert written.encode() == canonical_json(annotation_dict(row, rle=rle, outline=outline))


def test_not_a_number_is_refused_as_canonical_json_refuses_it():
    with pytest.raises(ValueError, match="not JSON compliant"):
        manifest_annotation_json(annotation_row(area_px=float("nan")), rle_json="{}", outline="[]")


@pytest.mark.parametrize("acquired_at", [None, datetime.datetime(2026, 3, 2, 7, 30, tzinfo=datetime.UTC)])
def test_an_image_line_written_from_parts_is_its_canonical_json(acquired_at):
    # given
    image = {
        "sha256": "ab" * 32,
        "file": "originals/ab/x.png",
        "original_filename": "line 3/part \u00e9.png",
        "format": "PNG",
        "width": 64,
        "height": 48,
        "file_size_bytes": 1234,
        "bit_depth": 8,
        "channels": 1,
        "status": "final",
        "is_defect_free": False,
        "metadata": {"exif": {"Make": "Basler", "split": "x"}, "colour_space": "L"},
        "acquired_at": acquired_at,
    }
    annotations = [{"id": 1, "outline": []}, {"id": 2, "outline": []}]
    # when
    parts = ",".join(canonical_json(annotation).decode() for annotation in annotations)
    line = manifest_image_json(image, name="line_3/part.png", split="val", annotations=parts)
    # then
    assert line == canonical_json(
        {
            "kind": "image",
            "sha256": image["sha256"],
            "file": image["file"],
            "name": "line_3/part.png",
            "filename": image["original_filename"],
            "format": "PNG",
            "width": 64,
            "height": 48,
            "size_bytes": 1234,
            "bit_depth": 8,
            "channels": 1,
            "split": "val",
            "status": "final",
            "is_defect_free": False,
            "metadata": image["metadata"],
            "acquired_at": acquired_at.isoformat() if acquired_at else None,
            "annotations": annotations,
        }
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"size": [48, 64], "counts": "0a\\\\1o"}',  # as PostgreSQL writes a compressed RLE: rearranged
        '{"counts": "0a", "size": [48, 64]}',  # any other spelling: decoded and encoded
        '{"size": [48, 64], "counts": [3, 5, 7]}',  # the uncompressed form
        '{"size": [48, 64], "counts": "0a\\"1o"}',  # an escaped quote: not the compressed alphabet, decoded
        '{"size": [48, 64], "counts": "0a\\n\\u001f1o"}',  # other escapes: decoded and encoded alike
        '{"size": [48, 64], "counts": "0a\\\\\\\\"}',  # escaped backslashes up to the closing quote
        '{"size": [48, -64], "counts": "0a"}',  # not a size PostgreSQL writes for a mask
        '{"size": [48, 64], "counts": "0a", "extra": "b"}',  # another key after the counts
    ],
)
def test_an_rle_is_written_as_canonical_json_however_it_was_stored(text):
    assert rle_json(text) == canonical_json(json.loads(text)).decode()


def test_a_coco_annotation_from_its_template_is_its_canonical_json():
    # given
    for severity in ({"name": "major", "rank": 2}, None):
        annotation = annotation_dict(
            annotation_row(), rle={"counts": "0a", "size": [48, 64]}, outline=[{"exterior": "0,0,4,0,4,4", "holes": []}]
        )
        annotation["severity"] = severity
        # when
        written = coco_annotation(annotation, annotation_id=5, image_id=2, category_id=3)
        # then: what the exporter wrote before, a dict through canonical_json with the segmentation spliced in
        attributes = {"source": "manual", "is_final": True, "revision": 3, "defectlab_id": 7}
        if severity is not None:
            attributes |= {"severity": "major", "severity_rank": 2}
        fields = {
            "id": 5,
            "image_id": 2,
            "category_id": 3,
            "area": 121.0,
            "bbox": annotation["bbox"],
            "iscrowd": 0,
            "attributes": attributes,
        }
        expected = canonical_json(fields)[:-1] + b',"segmentation":' + coco_segmentation(annotation).encode() + b"}"
        assert written.encode() == expected


def reference_diff(previous: list[dict], current: list[dict]) -> dict:
    """The diff computed from two whole manifests in memory, as versions were diffed before it was streamed."""
    entries = {"previous": [ImageEntry.from_line(line) for line in previous]}
    entries["current"] = [ImageEntry.from_line(line) for line in current]
    images = {side: {e.sha256: (e.name, e.image_state) for e in found} for side, found in entries.items()}
    annotations = {
        side: {key: (e.name, state) for e in found for key, state in e.annotations.items()}
        for side, found in entries.items()
    }

    def compare(before: dict, after: dict) -> dict:
        return {
            "added": sorted(key for key in after if key not in before),
            "removed": sorted(key for key in before if key not in after),
            "changed": sorted(key for key in after if key in before and after[key][1] != before[key][1]),
        }

    image_keys = compare(images["previous"], images["current"])
    annotation_keys = compare(annotations["previous"], annotations["current"])

    def source(kind: str) -> str:
        return "previous" if kind == "removed" else "current"

    return {
        "images": {kind: len(keys) for kind, keys in image_keys.items()},
        "annotations": {kind: len(keys) for kind, keys in annotation_keys.items()},
        "examples": {
            "images": {
                kind: sorted(images[source(kind)][key][0] for key in keys)[:DIFF_EXAMPLES]
                for kind, keys in image_keys.items()
            },
            "annotations": {
                kind: [{"id": key, "image": annotations[source(kind)][key][0]} for key in keys[:DIFF_EXAMPLES]]
                for kind, keys in annotation_keys.items()
            },
        },
    }


def random_manifest(rng: random.Random, sha256s: list[str]) -> list[dict]:
    """Three quarters of the images, each with up to three of its own annotations (an annotation belongs to one
    image for good: ids 3 x the image's place + 0..2), their revisions, classes and severities drawn."""
    lines = []
    for sha256 in sorted(rng.sample(sha256s, k=len(sha256s) * 3 // 4)):
        place = sha256s.index(sha256)
        annotations = [
            {
                "id": place * 3 + index,
                "revision": rng.choice([1, 2]),
                "defect_class": rng.choice(["crack", "pore"]),
                "severity": rng.choice([None, {"name": "minor", "rank": 1}]),
                "is_final": True,
                "source": "manual",
            }
            for index in sorted(rng.sample(range(3), k=rng.randint(0, 3)))
        ]
        lines.append(
            {
                "sha256": sha256,
                "name": f"part-{sha256[:6]}.png",
                "split": rng.choice(["train", "val"]),
                "status": "final",
                "is_defect_free": not annotations,
                "annotations": annotations,
            }
        )
    return lines


@pytest.mark.parametrize("seed", range(5))
def test_the_streamed_diff_is_the_diff_of_the_whole_manifests(seed):
    # given: two manifests over overlapping images, some annotations kept, moved on or new
    rng = random.Random(seed)
    sha256s = [f"{rng.getrandbits(256):064x}" for _ in range(200)]
    previous = random_manifest(rng, sha256s)
    current = random_manifest(rng, sha256s)
    # when
    diff = ManifestDiff(iter(previous))
    for line in current:
        diff.add(ImageEntry.from_line(line))
    # then
    assert diff.result() == reference_diff(previous, current)


def test_the_streamed_diff_refuses_images_out_of_order():
    diff = ManifestDiff(iter([]))
    line = {"sha256": "b" * 64, "name": "b", "split": "train", "status": "final", "is_defect_free": True}
    diff.add(ImageEntry.from_line({**line, "annotations": []}))
    with pytest.raises(ValueError, match="sha256 order"):
        diff.add(ImageEntry.from_line({**line, "sha256": "a" * 64, "annotations": []}))


@pytest.fixture
def labelled(team):
    blowhole = DefectClassFactory.create(project=team.project, name="blowhole")
    for index in range(5):
        shape = ring(5, 5, 9) if index == 0 else square(3 + index, 4, 5)
        labelled_image(team.project, team.defect_class, seed=index, name=f"crack/part{index}.png", shapes=[shape])
    for index in range(3):
        labelled_image(team.project, blowhole, seed=10 + index, name=f"part{index}.png", shapes=[square(9, 9, 3)])
    stored_image(team.project, seed=20, name="free/part.png", is_defect_free=True)
    labelled_image(team.project, blowhole, seed=30, name="work/part.png", shapes=[square(1, 1, 4)], is_final=False)
    return team


@pytest.mark.django_db
def test_final_annotations_store_their_outline_and_work_in_progress_none(labelled):
    # given / when: imported final annotations, and one still in progress
    finals = list(Annotation.objects.filter(is_final=True).order_by("id"))
    in_progress = Annotation.objects.get(is_final=False)
    # then: the stored outline is the one traced from the stored RLE
    assert [annotation.outline for annotation in finals] == outline_texts_for_rles([a.rle for a in finals])
    assert in_progress.outline is None
    assert json.loads(finals[0].outline) == json.loads(outline_text(json_outline(finals[0])))


def json_outline(annotation: Annotation) -> list:
    from annotation.outlines import edge_outlines_for_rles

    return edge_outlines_for_rles([annotation.rle])[0]


@pytest.mark.django_db
def test_a_stored_outline_and_a_traced_one_freeze_alike(labelled):
    # given: the same state frozen with outlines stored, then with them cleared (rows saved before 0006)
    stored = dataset_version_freeze(project=labelled.project, name="stored", created_by=None)
    Annotation.objects.update(outline=None)
    options = FreezeOptions(keep_previous_splits=False)
    # when
    traced = dataset_version_freeze(project=labelled.project, name="traced", created_by=None, options=options)
    call_command("annotation_outlines_fill", verbosity=0)
    refilled = dataset_version_freeze(project=labelled.project, name="refilled", created_by=None, options=options)
    # then
    assert stored.content_hash == traced.content_hash == refilled.content_hash
    assert Annotation.objects.filter(is_final=True, outline__isnull=True).count() == 0
    assert Annotation.objects.filter(is_final=False, outline__isnull=False).count() == 0


@pytest.mark.django_db
def test_the_splits_of_a_manifest_are_read_without_decoding_it(labelled):
    version = dataset_version_freeze(project=labelled.project, name="v1", created_by=None)
    with storage.open_key(version.manifest_key) as handle:
        fast = list(manifest_splits(handle))
    with storage.open_key(version.manifest_key) as handle:
        _, images = manifest_read(handle)
        decoded = [(image["sha256"], image["split"]) for image in images]
    assert fast == decoded
    assert len(fast) == 9


@pytest.mark.django_db(transaction=True)
def test_reading_ahead_on_other_connections_freezes_what_one_connection_freezes(labelled):
    # given: a freeze in its own snapshot (outermost: read ahead on two more connections), and the same state
    # frozen inside an outer transaction (read in turn, on one connection)
    from django.db import transaction

    ahead = dataset_version_freeze(project=labelled.project, name="ahead", created_by=None)
    with transaction.atomic():
        in_turn = dataset_version_freeze(
            project=labelled.project, name="in turn", created_by=None, options=FreezeOptions(keep_previous_splits=False)
        )
    # then
    assert ahead.content_hash == in_turn.content_hash
    assert in_turn.diff["images"] == {"added": 0, "removed": 0, "changed": 0}
