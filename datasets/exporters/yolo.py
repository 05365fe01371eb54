"""YOLO segmentation (Ultralytics): `data.yaml`, `labels/<split>/<name>.txt`, images under `images/<split>/`.

One line per polygon: `class x1 y1 x2 y2 ...`, class ids from 0, coordinates divided by the image's width and
height (pixel edges: 0 is the image's left edge, 1 its right edge), six decimals. Each polygon of an
annotation's pixel-edge outline is a line. The format cannot hold holes: a hole is joined to its outline by a
zero-width cut (as Ultralytics' own COCO converter joins segments), which fills the same pixels. Defect-free
images get an empty label file: background images, stated explicitly.
"""

import functools
import json
from typing import BinaryIO

import numpy as np

from datasets.exporters.archive import DeterministicZip, image_entry
from datasets.exporters.registry import ExportSource, exporter


def _points(ring: str) -> np.ndarray:
    return np.array(ring.split(","), dtype=np.float64).reshape(-1, 2)


def ring_with_holes(exterior: str, holes: list[str]) -> np.ndarray:
    """One ring: each hole spliced into the outline at its closest pair of vertices, there and back."""
    ring = _points(exterior)
    for hole in holes:
        hole_points = _points(hole)
        distances = ((ring[:, None, :] - hole_points[None, :, :]) ** 2).sum(axis=2)
        at_ring, at_hole = np.unravel_index(int(np.argmin(distances)), distances.shape)
        around_hole = np.roll(hole_points, -at_hole, axis=0)
        ring = np.concatenate(
            [ring[: at_ring + 1], around_hole, around_hole[:1], ring[at_ring : at_ring + 1], ring[at_ring + 1 :]]
        )
    return ring


@functools.cache
def _line_format(values: int) -> str:
    """ "class x1 y1 x2 y2 ...": one % formatting per line, six decimals (a million-image export writes billions)."""
    return "%d " + " ".join(["%.6f"] * values) + "\n"


def yolo_lines(image: dict, class_ids: dict[str, int]) -> str:
    scale = np.array([image["width"], image["height"]], dtype=np.float64)
    lines = []
    for annotation in image["annotations"]:
        class_id = class_ids[annotation["defect_class"]]
        for polygon in annotation["outline"]:
            if polygon["holes"]:
                points = ring_with_holes(polygon["exterior"], polygon["holes"])
            else:
                points = _points(polygon["exterior"])
            values = (points / scale).ravel().tolist()
            lines.append(_line_format(len(values)) % (class_id, *values))
    return "".join(lines)


def data_yaml(source: ExportSource) -> str:
    # JSON strings are valid YAML scalars: names with colons, quotes or non-ASCII stay intact.
    lines = [
        f"# DefectLab dataset version {json.dumps(source.version_name)} of {json.dumps(source.project_slug)}",
        f"# content hash {source.content_hash}",
        "path: .",
        *(f"{split}: images/{split}" for split in source.splits),
        f"nc: {len(source.categories)}",
        "names:",
        *(f"  {category['id'] - 1}: {json.dumps(category['name'])}" for category in source.categories),
    ]
    return "\n".join(lines) + "\n"


@exporter("yolo", version="1.1")  # 1.1: text deflated at TEXT_COMPRESS_LEVEL 1 (same content, other bytes)
def export_yolo(source: ExportSource, out: BinaryIO) -> None:
    class_ids = {category["name"]: category["id"] - 1 for category in source.categories}
    with DeterministicZip(out) as archive:
        archive.write_bytes("data.yaml", data_yaml(source).encode())
        for done, image in enumerate(source.images(), start=1):
            stem = image["name"].rsplit(".", 1)[0]
            archive.write_bytes(f"labels/{image['split']}/{stem}.txt", yolo_lines(image, class_ids).encode())
            if source.with_images:
                image_entry(archive, f"images/{image['split']}/{image['name']}", image, source.open_image)
            source.on_progress(done)
