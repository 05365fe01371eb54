"""The COCO exporter writes its JSON from templates and text it copies from the manifest; on odd data (escapes,
unicode, odd floats, big integers, holes, several rings, no annotations) each file must be exactly canonical JSON
of the document written as plain dicts, as the exporter wrote it before."""

import io
import json
import math
import zipfile

import pytest

from datasets.exporters.archive import DeterministicZip, TextDeflater
from datasets.exporters.coco import coco_annotation, coco_categories, coco_image, export_coco
from datasets.exporters.registry import ExportSource
from datasets.manifest import canonical_json, json_value

ODD_FLOATS = [0.0, -0.0, 0.1, 1e-05, 1e-4, 123.456, 1e15, 1e16, 2.5e-07, 7.0]
ODD_CLASS = 'crack "hair" \u00e9\n\\'
ODD_VALUES = [
    "",
    'a "quoted" \\ \u2028 \u00e9 \x00 \x1f \x7f \U0001f600',
    0,
    -1,
    2**70,
    -(2**65),
    *ODD_FLOATS,
    -1.5e300,
    True,
    False,
    None,
    [],
    {},
    [1, [2.5, "x"], {"b": None, "a": True}],
    {"z": 1, "a": {"\u00e9": [], "A": 1e-07}, "": "empty key", "b\n": [{"k": 2**64}]},
    (1, "tuple"),
]


def header() -> dict:
    levels = [{"name": "min\u00f6r", "rank": 1, "criterion": ""}, {"name": 'ma"jor', "rank": 2, "criterion": ""}]
    classes = [
        {"name": name, "color": "#ff0000", "geometry_kind": "area", "severity_levels": levels}
        for name in ("blowhole", ODD_CLASS)
    ]
    return {
        "taxonomy": {"defect_classes": classes},
        "categories": ["blowhole", ODD_CLASS],
        "split_ratios": {"train": 0.7, "val": 0.3, "test": 0.0},
    }


def odd_annotation(number: int) -> dict:
    value = ODD_FLOATS[number % len(ODD_FLOATS)]
    outlines = [
        [{"exterior": "0,0,4,0,4,4,0,4", "holes": []}],
        [{"exterior": "0,0,4,0,4,4,0,4", "holes": ["1,1,1,2,2,2,2,1"]}],  # a hole: the RLE is written
        [{"exterior": "0,0,2,0,2,2", "holes": []}, {"exterior": "5,5,9,5,9,9", "holes": []}],
        [],
    ]
    severities = [None, {"name": "min\u00f6r", "rank": 1}, {"name": 'ma"jor', "rank": 2}]
    return {
        "area_px": value * 3,
        "bbox": [value, float(number), -value, 1e16 if number % 2 else 0.5],
        "defect_class": ODD_CLASS if number % 2 else "blowhole",
        "id": 1000 + number,
        "is_final": number % 3 != 0,
        "outline": outlines[number % len(outlines)],
        "revision": number,
        "rle": {"counts": "0a\\1o\u00e9", "size": [48, 64]},
        "severity": severities[number % len(severities)],
        "source": ["manual", "imported", 'odd "source"'][number % 3],
    }


def odd_images() -> list[dict]:
    images = []
    annotation_number = 0
    for number in range(12):
        annotations = []
        for _ in range(number % 4):  # 0 to 3 annotations
            annotations.append(odd_annotation(annotation_number))
            annotation_number += 1
        images.append(
            {
                "kind": "image",
                "sha256": f"{number:064x}",
                "file": f"originals/{number}.png",
                "name": f'dir \u00e9/"{number}".png',
                "filename": f"C:\\line {number}\n.png",
                "format": "PNG",
                "width": 64 + number,
                "height": 48,
                "size_bytes": 10,
                "bit_depth": 8,
                "channels": 1,
                "split": ("train", "val")[number % 2],
                "status": "final",
                "is_defect_free": not annotations,
                "metadata": {"odd": ODD_VALUES[number % len(ODD_VALUES)], "exif": {"Make": "Basler \u00e9"}},
                "acquired_at": None if number % 3 else f"2026-03-0{number % 9 + 1}T07:30:00+00:00",
                "annotations": annotations,
            }
        )
    return images


def source_of(images: list[dict]) -> ExportSource:
    return ExportSource(
        version_name='v1 "odd" \u00e9',
        content_hash="ab" * 32,
        created_at="2026-03-02T07:30:00.123456+00:00",
        project_name="Tiles \u00e9",
        project_slug="tiles",
        header=header(),
        images=lambda: iter(images),
        open_image=lambda key: io.BytesIO(b""),
        with_images=False,
        on_progress=lambda done: None,
    )


def reference_document(source: ExportSource, images: list[dict], split: str) -> bytes:
    """The split's file as canonical JSON of plain dicts (the segmentation as numbers, or the RLE)."""
    category_ids = {category["name"]: category["id"] for category in source.categories}
    document: dict = {"annotations": [], "images": [], "licenses": []}
    annotation_id = 0
    for image_id, image in enumerate(images, start=1):
        for annotation in image["annotations"]:
            annotation_id += 1
            if image["split"] != split:
                continue
            outline = annotation["outline"]
            if any(polygon["holes"] for polygon in outline):
                segmentation = annotation["rle"]
            else:
                segmentation = [json.loads("[" + polygon["exterior"] + "]") for polygon in outline]
            attributes = {"source": annotation["source"], "is_final": annotation["is_final"]}
            attributes |= {"revision": annotation["revision"], "defectlab_id": annotation["id"]}
            if annotation["severity"] is not None:
                attributes |= {
                    "severity": annotation["severity"]["name"],
                    "severity_rank": annotation["severity"]["rank"],
                }
            document["annotations"].append(
                {
                    "id": annotation_id,
                    "image_id": image_id,
                    "category_id": category_ids[annotation["defect_class"]],
                    "area": annotation["area_px"],
                    "bbox": annotation["bbox"],
                    "iscrowd": 0,
                    "attributes": attributes,
                    "segmentation": segmentation,
                }
            )
        if image["split"] == split:
            document["images"].append(
                {
                    "id": image_id,
                    "file_name": image["name"],
                    "width": image["width"],
                    "height": image["height"],
                    "date_captured": image["acquired_at"] or "",
                    "license": 0,
                    "sha256": image["sha256"],
                    "original_filename": image["filename"],
                    "status": image["status"],
                    "is_defect_free": image["is_defect_free"],
                    "metadata": image["metadata"],
                }
            )
    document["categories"] = coco_categories(source)
    document["info"] = {
        "description": f"{source.project_name}: dataset version {source.version_name}",
        "version": source.version_name,
        "content_hash": source.content_hash,
        "project": source.project_slug,
        "date_created": source.created_at,
        "year": 2026,
        "contributor": "DefectLab",
        "url": "",
    }
    return canonical_json(document)


def test_each_split_file_is_canonical_json_of_the_plain_document():
    # given
    images = odd_images()
    source = source_of(images)
    out = io.BytesIO()
    # when
    export_coco(source, out)
    # then
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [
            "images/train/",
            "images/val/",
            "annotations/instances_train.json",
            "annotations/instances_val.json",
        ]
        for split in ("train", "val"):
            assert archive.read(f"annotations/instances_{split}.json") == reference_document(source, images, split)


def test_the_same_source_gives_the_same_zip_bytes():
    first, second = io.BytesIO(), io.BytesIO()
    export_coco(source_of(odd_images()), first)
    export_coco(source_of(odd_images()), second)
    assert first.getvalue() == second.getvalue()


@pytest.mark.parametrize("value", ODD_VALUES)
def test_a_value_is_written_as_canonical_json_writes_it(value):
    assert json_value(value) == canonical_json(value).decode()
    assert (
        json_value({"key": value, "list": [value, value]})
        == canonical_json({"key": value, "list": [value, value]}).decode()
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_not_a_number_is_refused_as_canonical_json_refuses_it(bad):
    annotation = odd_annotation(0)
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json(bad)
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_value({"a": [bad]})
    for changed in ({"area_px": bad}, {"bbox": [1.0, bad, 1.0, 1.0]}):
        with pytest.raises(ValueError, match="not JSON compliant"):
            coco_annotation({**annotation, **changed}, annotation_id=1, image_id=1, category_id=1)
    with pytest.raises(ValueError, match="not JSON compliant"):
        coco_image({**odd_images()[0], "metadata": {"x": bad}}, image_id=1)


def test_finite_floats_whose_sum_overflows_are_written():
    annotation = {**odd_annotation(0), "area_px": 1.7e308, "bbox": [1.7e308, 0.0, 1.0, 1.0]}
    written = coco_annotation(annotation, annotation_id=1, image_id=1, category_id=1)
    assert json.loads(written)["area"] == 1.7e308


class _Unseekable(io.RawIOBase):
    """An output zipfile cannot seek in (a pipe, a socket): it writes data descriptors instead."""

    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.written += data
        return len(data)


@pytest.mark.parametrize("is_seekable", [True, False])
def test_text_deflated_beforehand_gives_the_zip_that_write_parts_gives(is_seekable):
    # given: text over several chunks, from bytes and from a file
    text = b"".join(b'{"n":%d,"s":"\xc3\xa9\\"x"},' % number for number in range(300_000))
    spool = io.BytesIO(text[1000:])
    outputs = [io.BytesIO(), io.BytesIO()] if is_seekable else [_Unseekable(), _Unseekable()]
    # when
    with DeterministicZip(outputs[0]) as archive:
        archive.write_parts("a.json", [text[:1000], spool], size=len(text))
        archive.write_bytes("b.txt", b"after")
    deflater = TextDeflater()
    deflater.write(text[:1000])
    deflater.write_file(io.BytesIO(text[1000:]))
    deflater.finish()
    with DeterministicZip(outputs[1]) as archive:
        archive.write_deflated("a.json", deflater)
        archive.write_bytes("b.txt", b"after")
    deflater.close()
    # then
    written = [bytes(output.getvalue() if is_seekable else output.written) for output in outputs]
    assert written[0] == written[1]
    with zipfile.ZipFile(io.BytesIO(written[1])) as archive:
        assert archive.read("a.json") == text
