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
import math
import tempfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

from datasets.exporters.archive import DeterministicZip, TextDeflater, image_entry
from datasets.exporters.registry import ExportSource, exporter
from datasets.manifest import canonical_json, json_float, json_value

SPOOL_CHUNK_CHARACTERS = 1 << 20  # text gathered in memory before it goes to a split's spool file or deflater
DEFLATE_QUEUED_CHUNKS = 4  # chunks waiting for a split's deflating thread, at most
PROGRESS_EVERY_IMAGES = 100  # on_progress (a job's progress and cancel check) every so many images, and at the end
_float_repr = float.__repr__  # what canonical_json writes for a float


def coco_segmentation(annotation: dict) -> str:
    """The segmentation as JSON: the outline's rings (already number-list text in the manifest), or the RLE."""
    outline = annotation["outline"]
    if len(outline) == 1 and not outline[0]["holes"]:  # most defects: one ring
        return "[[" + outline[0]["exterior"] + "]]"
    if any(polygon["holes"] for polygon in outline):
        return canonical_json(annotation["rle"]).decode()
    return "[" + ",".join("[" + polygon["exterior"] + "]" for polygon in outline) + "]"


@functools.cache
def _attributes_parts(
    source: str, is_final: bool, severity_name: str | None, severity_rank: int | None
) -> tuple[str, str]:
    """The template around an annotation's defectlab_id and revision for attributes that repeat across
    annotations: (what goes between the id and the revision, what follows the revision up to the bbox's
    numbers). Attribute keys in order: defectlab_id, is_final, revision, severity, severity_rank, source."""
    attributes = {"source": source, "is_final": is_final}
    if severity_name is not None:
        attributes["severity"] = severity_name
        attributes["severity_rank"] = severity_rank
    is_final_json, rest = canonical_json(attributes).decode()[1:-1].split(",", 1)
    return f',{is_final_json},"revision":', f',{rest}}},"bbox":['


def coco_annotation(annotation: dict, *, annotation_id: int, image_id: int, category_id: int) -> str:
    """The annotation as canonical JSON (keys sorted; "segmentation" sorts last): {"area", "attributes":
    {"defectlab_id", "is_final", "revision", "severity"?, "severity_rank"?, "source"}, "bbox", "category_id", "id",
    "image_id", "iscrowd", "segmentation"}. Written from a template: three million of them at a million images,
    where building and encoding a dict each was most of the export's time. datasets/tests/test_export_formats.py
    checks it against canonical_json of the dict."""
    severity = annotation["severity"]
    between, after = _attributes_parts(
        annotation["source"],
        annotation["is_final"],
        severity["name"] if severity is not None else None,
        severity["rank"] if severity is not None else None,
    )
    area = annotation["area_px"]
    x, y, width, height = annotation["bbox"]
    if not math.isfinite(area + x + y + width + height):  # a NaN or an infinity makes the sum one: find it
        for value in (area, x, y, width, height):
            json_float(value)  # refuses it, as canonical_json does
    # Floats as canonical_json writes them (float.__repr__; an int is refused, as json_float refuses it).
    return (
        f'{{"area":{_float_repr(area)},"attributes":{{"defectlab_id":{int(annotation["id"])}{between}'
        f"{int(annotation['revision'])}{after}{_float_repr(x)},{_float_repr(y)},{_float_repr(width)},"
        f'{_float_repr(height)}],"category_id":{category_id},"id":{annotation_id},"image_id":{image_id},'
        f'"iscrowd":0,"segmentation":{coco_segmentation(annotation)}}}'
    )


def coco_image(image: dict, *, image_id: int) -> str:
    """The image entry as canonical JSON (keys sorted), from a template: {"date_captured", "file_name",
    "height", "id", "is_defect_free", "license", "metadata", "original_filename", "sha256", "status", "width"}."""
    return (
        f'{{"date_captured":{json_value(image["acquired_at"] or "")},"file_name":{json_value(image["name"])},'
        f'"height":{json_value(image["height"])},"id":{image_id},'
        f'"is_defect_free":{json_value(image["is_defect_free"])},"license":0,'
        f'"metadata":{json_value(image["metadata"])},"original_filename":{json_value(image["filename"])},'
        f'"sha256":{json_value(image["sha256"])},"status":{json_value(image["status"])},'
        f'"width":{json_value(image["width"])}}}'
    )


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
    """One split's JSON file: `{"annotations": [...], "categories": ..., "images": [...], "info": ...,
    "licenses": []}` (keys in sorted order, like canonical JSON). The annotations come first, so they are deflated
    as the pass writes them, by a thread of the split's own (in order; zlib lets go of the GIL); the images are
    spooled to disk until the pass is done, then deflated after the categories. Text is gathered and handed on
    SPOOL_CHUNK_CHARACTERS at a time (a write an image was a tenth of the export)."""

    def __init__(self) -> None:
        self.images = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.text = TextDeflater()
        self._deflating = ThreadPoolExecutor(max_workers=1)  # one thread: the split's chunks stay in order
        self._queued: deque[Future[None]] = deque()
        self.image_count = self.annotation_count = 0
        self._images_pending: list[str] = []
        self._annotations_pending: list[str] = []
        self._pending_characters = 0
        self._deflate(self.text.write, b'{"annotations":[')

    def _deflate(self, function: Callable[..., None], *arguments: object) -> None:
        """Run function(*arguments) on the split's thread, after what was queued before; at most
        DEFLATE_QUEUED_CHUNKS wait (memory stays bounded when the thread falls behind)."""
        while len(self._queued) >= DEFLATE_QUEUED_CHUNKS:
            self._queued.popleft().result()  # raises what the thread raised
        self._queued.append(self._deflating.submit(function, *arguments))

    def _added(self, text: str) -> None:
        self._pending_characters += len(text)
        if self._pending_characters >= SPOOL_CHUNK_CHARACTERS:
            self._flush()

    def _flush(self) -> None:
        if self._images_pending:
            self.images.write("".join(self._images_pending).encode())
            self._images_pending.clear()
        if self._annotations_pending:
            self._deflate(self.text.write, "".join(self._annotations_pending).encode())
            self._annotations_pending.clear()
        self._pending_characters = 0

    def add_image(self, value: str) -> None:
        self._images_pending.append(("," if self.image_count else "") + value)
        self.image_count += 1
        self._added(value)

    def add_annotations(self, values: list[str]) -> None:
        """An image's annotations, written at once."""
        if values:
            text = ("," if self.annotation_count else "") + ",".join(values)
            self._annotations_pending.append(text)
            self.annotation_count += len(values)
            self._added(text)

    def finish(self, *, categories: bytes, info: bytes) -> None:
        """Queue the rest of the file after the annotations; finished() waits for it."""
        self._flush()
        self._deflate(self.text.write, b'],"categories":' + categories + b',"images":[')
        self._deflate(self.text.write_file, self.images)
        self._deflate(self.text.write, b'],"info":' + info + b',"licenses":[]}')
        self._deflate(self.text.finish)

    def finished(self) -> TextDeflater:
        while self._queued:
            self._queued.popleft().result()
        return self.text

    def close(self) -> None:
        self._deflating.shutdown(wait=True, cancel_futures=True)
        self.images.close()
        self.text.close()


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
                if image_id % PROGRESS_EVERY_IMAGES == 0:
                    source.on_progress(image_id)
            source.on_progress(image_id)
            if not source.with_images:
                # Where the images go: COCO readers (Datumaro's among them) look for the folder.
                for split in split_files:
                    archive.write_directory(f"images/{split}/")
            categories, info = canonical_json(coco_categories(source)), canonical_json(coco_info(source))
            for split_file in split_files.values():  # the splits' rests are deflated side by side
                split_file.finish(categories=categories, info=info)
            for split, split_file in split_files.items():
                archive.write_deflated(f"annotations/instances_{split}.json", split_file.finished())
    finally:
        for split_file in split_files.values():
            split_file.close()
