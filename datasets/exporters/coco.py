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

import tempfile
from typing import BinaryIO

from datasets.exporters.archive import DeterministicZip, image_entry
from datasets.exporters.registry import ExportSource, exporter
from datasets.manifest import canonical_json


def coco_segmentation(annotation: dict) -> bytes:
    """The segmentation as JSON: the outline's rings (already number-list text in the manifest), or the RLE."""
    outline = annotation["outline"]
    if any(polygon["holes"] for polygon in outline):
        return canonical_json(annotation["rle"])
    return b"[" + b",".join(b"[" + polygon["exterior"].encode() + b"]" for polygon in outline) + b"]"


def coco_annotation(annotation: dict, *, annotation_id: int, image_id: int, category_id: int) -> bytes:
    """The annotation as canonical JSON; "segmentation" sorts last, so it is spliced in at the end."""
    attributes = {
        "source": annotation["source"],
        "is_final": annotation["is_final"],
        "revision": annotation["revision"],
        "defectlab_id": annotation["id"],
    }
    if annotation["severity"] is not None:
        attributes["severity"] = annotation["severity"]["name"]
        attributes["severity_rank"] = annotation["severity"]["rank"]
    fields = {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category_id,
        "area": annotation["area_px"],
        "bbox": annotation["bbox"],
        "iscrowd": 0,
        "attributes": attributes,
    }
    return canonical_json(fields)[:-1] + b',"segmentation":' + coco_segmentation(annotation) + b"}"


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

    def add_annotation(self, value: bytes) -> None:
        self.annotations.write((b"," if self.annotation_count else b"") + value)
        self.annotation_count += 1

    def parts(self, *, categories: bytes, info: bytes) -> tuple[list, int]:
        """The pieces of `{"annotations": [...], "categories": ..., "images": [...], "info": ..., "licenses": []}`
        (keys in sorted order, like canonical JSON) and their total size."""
        parts = [
            b'{"annotations":[',
            self.annotations,
            b'],"categories":' + categories + b',"images":[',
            self.images,
            b'],"info":' + info + b',"licenses":[]}',
        ]
        size = sum(len(part) if isinstance(part, bytes) else part.tell() for part in parts)
        return parts, size

    def close(self) -> None:
        self.images.close()
        self.annotations.close()


@exporter("coco", version="1.1")
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
                for annotation in image["annotations"]:
                    annotation_id += 1
                    split_file.add_annotation(
                        coco_annotation(
                            annotation,
                            annotation_id=annotation_id,
                            image_id=image_id,
                            category_id=category_ids[annotation["defect_class"]],
                        )
                    )
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
