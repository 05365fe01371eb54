"""PNG masks: `semantic/<split>/<name>.png` (8-bit, pixel = class index, 0 background),
`instance/<split>/<name>.png` (16-bit, pixel = instance id, 0 background), `instances.jsonl` (per image: each
instance id's class, severity and source), `classes.json`, images under `images/<split>/`.

Masks are exact: painted from the stored RLE (datasets/exporters/rendering.py says how overlaps are drawn).
"""

import json
import tempfile
from typing import BinaryIO

from datasets.exporters.archive import DeterministicZip, image_entry
from datasets.exporters.registry import ExportSource, exporter
from datasets.exporters.rendering import label_maps, png_bytes
from datasets.manifest import canonical_json


def classes_json(source: ExportSource) -> bytes:
    classes = [{"index": 0, "name": "background"}] + [
        {"index": category["id"], "name": category["name"], "color": category["color"]}
        for category in source.categories
    ]
    header = {"version": source.version_name, "content_hash": source.content_hash, "classes": classes}
    return json.dumps(header, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def instance_line(image: dict, *, mask_name: str) -> bytes:
    instances = [
        {
            "id": instance_id,
            "defect_class": annotation["defect_class"],
            "severity": annotation["severity"],
            "source": annotation["source"],
            "defectlab_id": annotation["id"],
        }
        for instance_id, annotation in enumerate(image["annotations"], start=1)
    ]
    return canonical_json({"image": image["name"], "mask": mask_name, "instances": instances}) + b"\n"


@exporter("masks", version="1.1")  # 1.1: text deflated at TEXT_COMPRESS_LEVEL 1 (same content, other bytes)
def export_masks(source: ExportSource, out: BinaryIO) -> None:
    class_index = {category["name"]: category["id"] for category in source.categories}
    with DeterministicZip(out) as archive, tempfile.TemporaryFile() as instances_file:
        archive.write_bytes("classes.json", classes_json(source))
        for done, image in enumerate(source.images(), start=1):
            stem = image["name"].rsplit(".", 1)[0]
            classes, instances = label_maps(image, class_index)
            archive.write_bytes(f"semantic/{image['split']}/{stem}.png", png_bytes(classes), compress=False)
            instance_name = f"instance/{image['split']}/{stem}.png"
            archive.write_bytes(instance_name, png_bytes(instances), compress=False)
            instances_file.write(instance_line(image, mask_name=instance_name))
            if source.with_images:
                image_entry(archive, f"images/{image['split']}/{image['name']}", image, source.open_image)
            source.on_progress(done)
        archive.write_parts("instances.jsonl", [instances_file], size=instances_file.tell())
