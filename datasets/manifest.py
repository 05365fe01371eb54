"""The manifest of a dataset version: what it froze, as canonical JSON lines. Pure: no ORM.

Line 1 is the header: the taxonomy snapshot, the filter, the seed and split ratios, the export categories.
Then one line per image, in sha256 order, with its annotations inside it (by annotation id):

    {"kind": "image", "sha256", "file", "name", "filename", "format", "width", "height", "size_bytes",
     "bit_depth", "channels", "split", "status", "is_defect_free", "metadata", "acquired_at",
     "annotations": [{"id", "revision", "defect_class", "severity": {"name", "rank"} | null, "source",
                      "is_final", "rle", "area_px", "bbox": [x, y, w, h],
                      "outline": [{"exterior": "x0,y0,x1,y1,...", "holes": ["...", ...]}]}]}

each followed (when it has annotations) by a line with their stored geometry, the editor's vertices:

    {"geometry": [[annotation id, {"polygons": [...]}], ...], "image": sha256, "kind": "geometry"}

`id` is the annotation's id in the project (so a later version can say what changed); `name` is the image's
file name inside exports (unique in the version, also without its extension). The pixels are frozen twice,
exactly: `rle` (COCO's mask encoding, derived from the geometry when it was saved) and `outline`, the pixel-edge
outline that polygon formats use (datasets/outlines.py), its rings as text (the inside of a JSON number list)
that COCO export copies as it is. Exporters read only those, so they skip the geometry lines unparsed.
Nothing that varies between two freezes of the same state (timestamps, the version's name, its row id) is in
the manifest, so its sha256 is the content hash.

Canonical JSON: sorted keys, no spaces, UTF-8, no NaN. Readers stream it line by line (bounded memory).
"""

import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from datasets.outlines import EdgePolygon
from datasets.splits import SPLIT_NAMES

MANIFEST_FORMAT = 1
DEFECT_FREE = "defect-free"  # the split label of defect-free images (a stratum of its own)
GEOMETRY_LINE_START = b'{"geometry":'
DIFF_EXAMPLES = 20  # names listed per kind of change on the version page


class ManifestError(ValueError):
    """The file is not a manifest this code can read."""


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def manifest_read(handle: BinaryIO) -> tuple[dict, Iterator[dict]]:
    """The header and an iterator over the image lines, read one at a time."""
    header = json.loads(handle.readline() or b"null")
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise ManifestError("not a dataset version manifest")
    if header.get("manifest_format") != MANIFEST_FORMAT:
        raise ManifestError(f"manifest format {header.get('manifest_format')} is not {MANIFEST_FORMAT}")

    def images() -> Iterator[dict]:
        # readline, not `for line in handle`: a Django File iterates through chunks(), which seeks back to 0.
        for line in iter(handle.readline, b""):
            if not line.startswith(GEOMETRY_LINE_START):  # geometry lines are for the record; no export reads them
                yield json.loads(line)

    return header, images()


# Export file names -------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def export_name(original_filename: str, *, extension: str, sha256: str, taken: set[str]) -> str:
    """A safe, unique relative file name for an image inside exports: the original path with anything but
    letters, digits, `._-` replaced, and the stored file's extension. A name whose stem is taken (compared
    without case, as on Windows and macOS) gets the start of the image's sha256 appended. Adds it to `taken`."""
    parts = [_UNSAFE.sub("_", part).strip("._") for part in original_filename.replace("\\", "/").split("/")]
    parts = [part for part in parts if part] or ["image"]
    stem = posixpath.splitext("/".join(parts))[0] or "image"
    if stem.casefold() in taken:
        stem = f"{stem}-{sha256[:12]}"
    taken.add(stem.casefold())
    return f"{stem}.{extension}"


# Counts for the version page ---------------------------------------------------------------------------------


@dataclass
class CountsBuilder:
    """Images and annotations per split, and per defect class per split, added one image line at a time."""

    categories: list[str]
    images: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLIT_NAMES, 0))
    defect_free: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLIT_NAMES, 0))
    annotations: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLIT_NAMES, 0))
    classes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.classes = {
            name: {"images": dict.fromkeys(SPLIT_NAMES, 0), "annotations": dict.fromkeys(SPLIT_NAMES, 0)}
            for name in self.categories
        }

    def add(self, image: dict) -> None:
        split = image["split"]
        self.images[split] += 1
        self.defect_free[split] += image["is_defect_free"]
        self.annotations[split] += len(image["annotations"])
        for annotation in image["annotations"]:
            self.classes[annotation["defect_class"]]["annotations"][split] += 1
        for name in {annotation["defect_class"] for annotation in image["annotations"]}:
            self.classes[name]["images"][split] += 1

    def result(self, *, skipped_images: int) -> dict:
        def with_total(per_split: dict[str, int]) -> dict[str, int]:
            return {**per_split, "total": sum(per_split.values())}

        return {
            "images": with_total(self.images),
            "defect_free_images": with_total(self.defect_free),
            "annotations": with_total(self.annotations),
            "classes": {
                name: {kind: with_total(per_split) for kind, per_split in counts.items()}
                for name, counts in self.classes.items()
            },
            "skipped_images": skipped_images,
        }


# Writing: one line per image, built from the freeze's rows -----------------------------------------------------


def _outline_json(outline: list[EdgePolygon]) -> list[dict]:
    return [{"exterior": polygon.exterior, "holes": list(polygon.holes)} for polygon in outline]


def manifest_annotation_line(row: dict, *, rle: dict, outline: list[EdgePolygon]) -> dict:
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
        "outline": _outline_json(outline),
    }


def manifest_geometry_line(image: dict, rows: list[dict]) -> bytes:
    """The image's annotations' stored geometry, copied as the database's JSON text (spaces dropped). Built by
    hand to avoid decoding and re-encoding every vertex; its bytes depend on the database's JSON text form, so
    versions are compared by content hash within one installation."""
    pairs = b",".join(b"[%d,%s]" % (row["id"], row["geometry_text"].replace(" ", "").encode()) for row in rows)
    return b'{"geometry":[' + pairs + b'],"image":"' + image["sha256"].encode() + b'","kind":"geometry"}\n'


def manifest_image_line(row: dict, *, name: str, split: str, annotations: list[dict]) -> dict:
    return {
        "kind": "image",
        "sha256": row["sha256"],
        "file": row["file"],
        "name": name,
        "filename": row["original_filename"],
        "format": row["format"],
        "width": row["width"],
        "height": row["height"],
        "size_bytes": row["file_size_bytes"],
        "bit_depth": row["bit_depth"],
        "channels": row["channels"],
        "split": split,
        "status": row["status"],
        "is_defect_free": row["is_defect_free"],
        "metadata": row["metadata"],
        "acquired_at": row["acquired_at"].isoformat() if row["acquired_at"] else None,
        "annotations": annotations,
    }


# Diff between two versions -----------------------------------------------------------------------------------


@dataclass
class ManifestIndex:
    """Just enough of a manifest to diff it: a digest per image (by sha256) and per annotation (by id)."""

    images: dict[str, tuple[str, tuple]] = field(default_factory=dict)  # sha256 -> (name, what may change)
    annotations: dict[int, tuple[str, tuple]] = field(default_factory=dict)  # id -> (image name, what may change)

    def add(self, image: dict) -> None:
        self.images[image["sha256"]] = (
            image["name"],
            (image["name"], image["split"], image["status"], image["is_defect_free"]),
        )
        for annotation in image["annotations"]:
            # Every geometry edit bumps the revision; class, severity and finality can change without one.
            severity = annotation["severity"]
            self.annotations[annotation["id"]] = (
                image["name"],
                (
                    image["sha256"],
                    annotation["revision"],
                    annotation["defect_class"],
                    severity and (severity["name"], severity["rank"]),
                    annotation["is_final"],
                    annotation["source"],
                ),
            )


def manifest_diff(previous: ManifestIndex, current: ManifestIndex) -> dict:
    """Images and annotations added, removed and changed from `previous` to `current`, with example names."""

    def compare(before: dict, after: dict) -> dict[str, list]:
        return {
            "added": sorted(key for key in after if key not in before),
            "removed": sorted(key for key in before if key not in after),
            "changed": sorted(key for key in after if key in before and after[key][1] != before[key][1]),
        }

    images = compare(previous.images, current.images)
    annotations = compare(previous.annotations, current.annotations)

    def image_names(kind: str) -> list[str]:
        source = previous.images if kind == "removed" else current.images
        return sorted(source[sha256][0] for sha256 in images[kind])[:DIFF_EXAMPLES]

    def annotation_examples(kind: str) -> list[dict]:
        source = previous.annotations if kind == "removed" else current.annotations
        return [{"id": key, "image": source[key][0]} for key in annotations[kind][:DIFF_EXAMPLES]]

    return {
        "images": {kind: len(keys) for kind, keys in images.items()},
        "annotations": {kind: len(keys) for kind, keys in annotations.items()},
        "examples": {
            "images": {kind: image_names(kind) for kind in images},
            "annotations": {kind: annotation_examples(kind) for kind in annotations},
        },
    }
