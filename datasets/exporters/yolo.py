"""YOLO segmentation (Ultralytics): `data.yaml`, `labels/<split>/<name>.txt`, images under `images/<split>/`.

One line per polygon: `class x1 y1 x2 y2 ...`, class ids from 0, coordinates divided by the image's width and
height (pixel edges: 0 is the image's left edge, 1 its right edge), six decimals. Each polygon of an
annotation's pixel-edge outline is a line. The format cannot hold holes: a hole is joined to its outline by a
zero-width cut (as Ultralytics' own COCO converter joins segments), which fills the same pixels. Defect-free
images get an empty label file: background images, stated explicitly.
"""

import functools
import json
from typing import Any, BinaryIO

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
    """ "class x1 y1 x2 y2 ...": one % formatting per line, six decimals."""
    return "%d " + " ".join(["%.6f"] * values) + "\n"


@functools.lru_cache(maxsize=256)
def _edge_texts(size: int) -> dict[str, str]:
    """Each pixel edge 0..size of an image side, as outline text, to its coordinate as a line writes it (edge /
    size, six decimals). Outlines run along pixel edges, so an image's coordinates are a few hundred values, and a
    million-image export looks them up instead of formatting billions of numbers."""
    return {str(edge): "%.6f" % (edge / size) for edge in range(size + 1)}


def _polygon_line(class_id: int, exterior: str, width: int, height: int) -> str | None:
    """The line of a polygon without holes from its edge table; None if a vertex is not a pixel edge of the image."""
    parts = exterior.split(",")
    columns, rows = _edge_texts(width), _edge_texts(height)
    try:
        texts = [""] * len(parts)
        texts[0::2] = [columns[part] for part in parts[0::2]]
        texts[1::2] = [rows[part] for part in parts[1::2]]
    except KeyError:
        return None
    return f"{class_id} {' '.join(texts)}\n"


def yolo_lines(image: dict[str, Any], class_ids: dict[str, int]) -> str:
    width, height = image["width"], image["height"]
    scale = np.array([width, height], dtype=np.float64)
    lines = []
    for annotation in image["annotations"]:
        class_id = class_ids[annotation["defect_class"]]
        for polygon in annotation["outline"]:
            line = None if polygon["holes"] else _polygon_line(class_id, polygon["exterior"], width, height)
            if line is None:  # a hole joined in, or a vertex off the pixel grid: computed
                points = ring_with_holes(polygon["exterior"], polygon["holes"]) / scale
                values = points.ravel().tolist()
                line = _line_format(len(values)) % (class_id, *values)
            lines.append(line)
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
