"""COCO instances: `annotations/instances_<split>.json` per split, with the images under `images/<split>/`
(the layout pycocotools, Detectron2, MMDetection and Datumaro's `coco_instances` read).

- Segmentation: the pixel-edge outline (datasets/outlines.py) as polygons, which pycocotools decodes to exactly
  the stored mask; COCO polygons cannot hold holes, so a defect with a hole is written as its stored RLE.
  Either way `iscrowd` is 0: these are real instances, not crowd regions to ignore.
- `bbox` is the pixel-extent box [x, y, w, h] and `area` the pixel count, as COCO defines them.
- `attributes` carry the severity (name and rank), the source (manual, imported, assisted, model), whether the
  annotation was final, its revision and its id in DefectLab.
- Images carry their sha256, original file name, status, defect-free judgement and metadata; `info` names the
  version and its content hash. Ids count from 1 across the whole export, so splits can be merged.
"""

import functools
import tempfile
from typing import Any, BinaryIO

from datasets.exporters.archive import DeterministicZip, image_entry
from datasets.exporters.registry import ExportSource, exporter
from datasets.manifest import canonical_json, json_float


def coco_segmentation(annotation: dict) -> str:
    """The segmentation as JSON: the outline's rings (already number-list text in the manifest), or the RLE."""
    outline = annotation["outline"]
    if any(polygon["holes"] for polygon in outline):
        return canonical_json(annotation["rle"]).decode()
    return "[" + ",".join("[" + polygon["exterior"] + "]" for polygon in outline) + "]"


@functools.cache
def _attributes_json(source: str, is_final: bool, severity_name: str | None, severity_rank: int | None) -> str:
    """The attributes that repeat across annotations, as canonical JSON without its braces and without the
    per-annotation keys (defectlab_id, revision), which sort around them."""
    attributes = {"source": source, "is_final": is_final}
    if severity_name is not None:
        attributes["severity"] = severity_name
        attributes["severity_rank"] = severity_rank
    return canonical_json(attributes).decode()[1:-1]


def coco_annotation(annotation: dict, *, annotation_id: int, image_id: int, category_id: int) -> str:
    """The annotation as canonical JSON (keys sorted; "segmentation" sorts last): {"area", "attributes":
    {"defectlab_id", "is_final", "revision", "severity"?, "severity_rank"?, "source"}, "bbox", "category_id", "id",
    "image_id", "iscrowd", "segmentation"}. Written from a template: three million of them at a million images,
    where building and encoding a dict each was most of the export's time. datasets/tests/test_export_formats.py
    checks it against canonical_json of the dict."""
    severity = annotation["severity"]
    shared = _attributes_json(
        annotation["source"],
        annotation["is_final"],
        severity["name"] if severity is not None else None,
        severity["rank"] if severity is not None else None,
    )
    # Attribute keys in order: defectlab_id, is_final, revision, severity, severity_rank, source; `shared` holds
    # is_final, then severity and severity_rank when there is one, then source.
    is_final, rest = shared.split(",", 1)
    bbox = ",".join(json_float(value) for value in annotation["bbox"])
    return (
        f'{{"area":{json_float(annotation["area_px"])},"attributes":{{"defectlab_id":{int(annotation["id"])},'
        f'{is_final},"revision":{int(annotation["revision"])},{rest}}},"bbox":[{bbox}],'
        f'"category_id":{category_id},"id":{annotation_id},"image_id":{image_id},"iscrowd":0,'
        f'"segmentation":{coco_segmentation(annotation)}}}'
    )


def coco_image(image: dict, *, image_id: int) -> dict:
    return {
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


def coco_categories(source: ExportSource) -> list[dict]:
    return [
        {
            "id": category["id"],
            "name": category["name"],
            "supercategory": "defect",
            "color": category["color"],
            "geometry_kind": category["geometry_kind"],
            "severity_levels": [
                {"name": level["name"], "rank": level["rank"]} for level in category["severity_levels"]
            ],
        }
        for category in source.categories
    ]


def coco_info(source: ExportSource) -> dict:
    return {
        "description": f"{source.project_name}: dataset version {source.version_name}",
        "version": source.version_name,
        "content_hash": source.content_hash,
        "project": source.project_slug,
        "date_created": source.created_at,
        "year": int(source.created_at[:4]),
        "contributor": "DefectLab",
        "url": "",
    }


class _SplitFile:
    """The images and annotations arrays of one split's JSON, spooled to disk until the whole pass is done."""

    def __init__(self) -> None:
        self.images = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.annotations = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.image_count = self.annotation_count = 0

    def add_image(self, value: dict) -> None:
        self.images.write((b"," if self.image_count else b"") + canonical_json(value))
        self.image_count += 1

    def add_annotations(self, values: list[str]) -> None:
        """An image's annotations, written at once."""
        if values:
            self.annotations.write(("," if self.annotation_count else "").encode() + ",".join(values).encode())
            self.annotation_count += len(values)

    def parts(self, *, categories: bytes, info: bytes) -> tuple[list[Any], int]:
        """The pieces of `{"annotations": [...], "categories": ..., "images": [...], "info": ..., "licenses": []}`
        (keys in sorted order, like canonical JSON) and their total size."""
        parts: list[Any] = [
            b'{"annotations":[',
            self.annotations,
            b'],"categories":' + categories + b',"images":[',
            self.images,
            b'],"info":' + info + b',"licenses":[]}',
        ]
        size = sum(len(part) if isinstance(part, bytes) else int(part.tell()) for part in parts)
        return parts, size

    def close(self) -> None:
        self.images.close()
        self.annotations.close()


@exporter("coco", version="1.2")  # 1.2: JSON deflated at TEXT_COMPRESS_LEVEL 1 (same content, other bytes)
def export_coco(source: ExportSource, out: BinaryIO) -> None:
    category_ids = {category["name"]: category["id"] for category in source.categories}
    split_files = {split: _SplitFile() for split in source.splits}
    try:
        with DeterministicZip(out) as archive:
            image_id = annotation_id = 0
            for image in source.images():
                image_id += 1
                split_file = split_files[image["split"]]
                split_file.add_image(coco_image(image, image_id=image_id))
                values = []
                for annotation in image["annotations"]:
                    annotation_id += 1
                    category_id = category_ids[annotation["defect_class"]]
                    values.append(
                        coco_annotation(
                            annotation, annotation_id=annotation_id, image_id=image_id, category_id=category_id
                        )
                    )
                split_file.add_annotations(values)
                if source.with_images:
                    image_entry(archive, f"images/{image['split']}/{image['name']}", image, source.open_image)
                source.on_progress(image_id)
            if not source.with_images:
                # Where the images go: COCO readers (Datumaro's among them) look for the folder.
                for split in split_files:
                    archive.write_directory(f"images/{split}/")
            categories, info = canonical_json(coco_categories(source)), canonical_json(coco_info(source))
            for split, split_file in split_files.items():
                parts, size = split_file.parts(categories=categories, info=info)
                archive.write_parts(f"annotations/instances_{split}.json", parts, size=size)
    finally:
        for split_file in split_files.values():
            split_file.close()
