"""The manifest of a dataset version: what it froze, as canonical JSON lines. Pure: no ORM.

Line 1 is the header: the taxonomy snapshot, the filter, the seed and split ratios, the export categories.
Then one line per image, in sha256 order, with its annotations inside it (by annotation id):

    {"kind": "image", "sha256", "file", "name", "filename", "format", "width", "height", "size_bytes",
     "bit_depth", "channels", "split", "status", "is_defect_free", "metadata", "acquired_at",
     "annotations": [{"id", "revision", "defect_class", "severity": {"name", "rank"} | null, "source",
                      "is_final", "rle", "area_px", "bbox": [x, y, w, h],
                      "outline": [{"exterior": "x0,y0,x1,y1,...", "holes": ["...", ...]}]}]}

`id` is the annotation's id in the project (so a later version can say what changed); `name` is the image's
file name inside exports (unique in the version, also without its extension). The pixels are frozen twice,
exactly: `rle` (COCO's mask encoding, derived from the geometry when it was saved) and `outline`, the pixel-edge
outline that polygon formats use (datasets/outlines.py), its rings as text (the inside of a JSON number list)
that COCO export copies as it is. Exporters read only those.
Nothing that varies between two freezes of the same state (timestamps, the version's name, its row id) is in
the manifest, so its sha256 is the content hash.

Format 1 followed each image with annotations by a line with their stored geometry, the editor's vertices
({"geometry": [[annotation id, {"polygons": [...]}], ...], "image": sha256, "kind": "geometry"}). Format 2 leaves
it out: no export read it, it was 45 % of a manifest's bytes (3.3 KB an image) and turning the jsonb geometry
into text was most of the database's work in a freeze (40 us of about 55 an annotation); the vertices of an
annotation at a revision stay in the audit log (its snapshots), which the manifest's (id, revision) points to.
Readers skip such lines in format 1 manifests, so versions frozen before still export as they did.

Canonical JSON: sorted keys, no spaces, UTF-8, no NaN. Readers stream it line by line (bounded memory).
"""

import bisect
import functools
import json
import math
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

import orjson

from datasets.splits import SPLIT_NAMES

MANIFEST_FORMAT = 2  # 2: no geometry lines (see above)
READABLE_MANIFEST_FORMATS = (1, 2)
DEFECT_FREE = "defect-free"  # the split label of defect-free images (a stratum of its own)
GEOMETRY_LINE_START = b'{"geometry":'  # format 1's geometry lines, skipped
DIFF_EXAMPLES = 20  # names listed per kind of change on the version page


class ManifestError(ValueError):
    """The file is not a manifest this code can read."""


# json.dumps with these arguments builds an encoder each call; one built once writes the same text.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_json_string_text = json.encoder.encode_basestring  # a string as the encoder above writes it (ensure_ascii off)


def canonical_json(value: object) -> bytes:
    return _CANONICAL_ENCODER.encode(value).encode()


def json_value(value: object) -> str:
    """canonical_json(value).decode(), built without the encoder's set-up for each call where `value` is a string,
    a number, a bool, None, or a list or dict (string keys) of them: an export writes a few small values for
    each of a million images, and the encoder's set-up and key sorting cost more than the writing."""
    if isinstance(value, str):
        return _json_string_text(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join([json_value(item) for item in value]) + "]"
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        items = sorted(value.items())  # the keys differ, so no two values are compared
        return "{" + ",".join([_json_string_text(key) + ":" + json_value(item) for key, item in items]) + "}"
    return _CANONICAL_ENCODER.encode(value)


def manifest_read(handle: BinaryIO) -> tuple[dict, Iterator[dict]]:
    """The header and an iterator over the image lines, read one at a time."""
    header = json.loads(handle.readline() or b"null")
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise ManifestError("not a dataset version manifest")
    if header.get("manifest_format") not in READABLE_MANIFEST_FORMATS:
        found = header.get("manifest_format")
        raise ManifestError(f"manifest format {found} is not one of {READABLE_MANIFEST_FORMATS}")

    def images() -> Iterator[dict]:
        # readline, not `for line in handle`: a Django File iterates through chunks(), which seeks back to 0.
        for line in iter(handle.readline, b""):
            if not line.startswith(GEOMETRY_LINE_START):  # format 1's geometry lines: no export reads them
                yield line_decoded(line)

    return header, images()


def line_decoded(line: bytes) -> dict:
    """A manifest line as Python values. orjson reads a million-image manifest's lines about three times as fast
    as the standard library, with the same values; what it cannot read (an integer past 64 bits in an image's
    metadata) goes through the standard library."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


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

    def add(self, *, split: str, is_defect_free: bool, defect_classes: list[str]) -> None:
        """One image: its split, judgement and the defect class of each of its annotations."""
        self.images[split] += 1
        self.defect_free[split] += is_defect_free
        self.annotations[split] += len(defect_classes)
        for name in defect_classes:
            self.classes[name]["annotations"][split] += 1
        for name in set(defect_classes):
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
#
# A million-image freeze writes three million annotations: each line is canonical JSON assembled from parts, so
# the stored outline text (Annotation.outline, already canonical JSON) and the geometry text go in as they are,
# and only the few small values are encoded. The bytes are exactly canonical_json of the line as a dict (keys
# sorted, no spaces; datasets/tests/test_manifest_lines.py checks that).

ANNOTATION_KEYS_BEFORE_OUTLINE = ("area_px", "bbox", "defect_class", "id", "is_final")  # sorted; then "outline"
IMAGE_KEYS_AFTER_ANNOTATIONS = (  # sorted, after "acquired_at" and "annotations"
    "bit_depth",
    "channels",
    "file",
    "filename",
    "format",
    "height",
    "is_defect_free",
    "kind",
    "metadata",
    "name",
    "sha256",
    "size_bytes",
    "split",
    "status",
    "width",
)


@functools.lru_cache(maxsize=4096)
def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # as canonical_json writes a string: class names, sources, times


@functools.cache
def _json_severity(name: str | None, rank: int | None) -> str:
    return "null" if name is None else canonical_json({"name": name, "rank": rank}).decode()


def json_float(value: float) -> str:
    """A float as canonical_json writes it (json's float.__repr__); NaN and infinity are refused alike."""
    if not math.isfinite(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def manifest_annotation_json(row: dict, *, rle_json: str, outline: str) -> str:
    """One annotation of an image line: {"area_px", "bbox", "defect_class", "id", "is_final", "outline",
    "revision", "rle", "severity": {"name", "rank"} | null, "source"}, keys sorted. `rle_json` is the RLE in
    canonical JSON, `outline` outline_text's JSON: both go in as they are; so does no other value but numbers."""
    area, x, y, width, height = row["area_px"], row["bbox_x"], row["bbox_y"], row["bbox_width"], row["bbox_height"]
    for value in (area, x, y, width, height):
        json_float(value)  # refuses NaN and infinity, as canonical_json does
    # Floats as canonical_json writes them (float.__repr__); int() keeps a bool out of the numbers.
    return (
        f'{{"area_px":{float.__repr__(area)},"bbox":[{float.__repr__(x)},{float.__repr__(y)},'
        f'{float.__repr__(width)},{float.__repr__(height)}],"defect_class":{_json_string(row["defect_class__name"])},'
        f'"id":{int(row["id"])},"is_final":{"true" if row["is_final"] else "false"},"outline":{outline},'
        f'"revision":{int(row["revision"])},"rle":{rle_json},'
        f'"severity":{_json_severity(row["severity__name"], row["severity__rank"])},'
        f'"source":{_json_string(row["source"])}}}'
    )


def manifest_image_json(row: dict, *, name: str, split: str, annotations: str) -> bytes:
    """An image line (without its newline), its annotations (manifest_annotation_json of each, comma-separated)
    spliced in."""
    when = _json_string(row["acquired_at"].isoformat()) if row["acquired_at"] else "null"
    acquired_at = b'{"acquired_at":' + when.encode() + b"}"
    rest = canonical_json(
        {
            "bit_depth": row["bit_depth"],
            "channels": row["channels"],
            "file": row["file"],
            "filename": row["original_filename"],
            "format": row["format"],
            "height": row["height"],
            "is_defect_free": row["is_defect_free"],
            "kind": "image",
            "metadata": row["metadata"],
            "name": name,
            "sha256": row["sha256"],
            "size_bytes": row["file_size_bytes"],
            "split": split,
            "status": row["status"],
            "width": row["width"],
        }
    )
    return acquired_at[:-1] + b',"annotations":[' + annotations.encode() + b"]," + rest[1:]


# PostgreSQL's text of a compressed RLE (jsonb orders keys by length, then bytes): {"size": [h, w], "counts": "..."},
# the counts already escaped as JSON escapes them (the alphabet '0' to 'o' holds one character to escape, "\\").
_POSTGRESQL_RLE_START = '{"size": ['
_POSTGRESQL_RLE_COUNTS = '], "counts": "'


def rle_json(text: str) -> str:
    """An RLE stored as JSON text, as canonical JSON: PostgreSQL's text of COCO's compressed form is rearranged as
    it is (a freeze writes three million: string methods, not a regular expression, which took 13 us each on
    their 600 characters); anything else goes through canonical_json."""
    if text.startswith(_POSTGRESQL_RLE_START) and text.endswith('"}'):
        size, found, counts = text[len(_POSTGRESQL_RLE_START) : -2].partition(_POSTGRESQL_RLE_COUNTS)
        height, comma, width = size.partition(", ")
        # The counts as JSON escapes them: no quote, and every backslash one of an escaped pair "\\".
        if (
            found
            and comma
            and height.isascii()
            and height.isdigit()
            and width.isascii()
            and width.isdigit()
            and '"' not in counts
            and "\\" not in counts.replace("\\\\", "")
        ):
            return f'{{"counts":"{counts}","size":[{height},{width}]}}'
    return canonical_json(json.loads(text)).decode()


def manifest_splits(handle: BinaryIO) -> Iterator[tuple[str, str]]:
    """(sha256, split) of each image of a manifest, without decoding its lines (a freeze reads a previous
    million-image manifest for them). In a canonical image line every nested object (annotations, metadata)
    comes before "sha256" and "split", and the values after them are plain, so their last occurrences are the
    line's own; a quote inside a string is escaped, so no string value can hold them."""
    header = json.loads(handle.readline() or b"null")
    if not isinstance(header, dict) or header.get("manifest_format") not in READABLE_MANIFEST_FORMATS:
        raise ManifestError("not a dataset version manifest of a format this code reads")
    # readline, not `for line in handle`: a Django File iterates through chunks(), which seeks back to 0.
    for line in iter(handle.readline, b""):
        if line.startswith(GEOMETRY_LINE_START):
            continue
        sha256_at = line.rindex(b'"sha256":"') + len(b'"sha256":"')
        split_at = line.rindex(b'"split":"') + len(b'"split":"')
        yield line[sha256_at : sha256_at + 64].decode(), line[split_at : line.index(b'"', split_at)].decode()


# Diff between two versions, streamed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageEntry:
    """What a diff compares of one image line: the image and its annotations' (id, what may change)."""

    sha256: str
    name: str
    image_state: tuple  # (name, split, status, is_defect_free)
    annotations: dict[int, tuple]  # id -> (image sha256, revision, class, severity, is_final, source)

    @classmethod
    def from_line(cls, image: dict) -> "ImageEntry":
        # Every geometry edit bumps the revision; class, severity and finality can change without one.
        return cls(
            sha256=image["sha256"],
            name=image["name"],
            image_state=(image["name"], image["split"], image["status"], image["is_defect_free"]),
            annotations={
                annotation["id"]: (
                    image["sha256"],
                    annotation["revision"],
                    annotation["defect_class"],
                    annotation["severity"] and (annotation["severity"]["name"], annotation["severity"]["rank"]),
                    annotation["is_final"],
                    annotation["source"],
                )
                for annotation in image["annotations"]
            },
        )


class _Smallest:
    """The DIFF_EXAMPLES smallest items offered, kept sorted."""

    def __init__(self) -> None:
        self.items: list = []

    def offer(self, item: object) -> None:
        if len(self.items) < DIFF_EXAMPLES or item < self.items[-1]:
            bisect.insort(self.items, item)
            del self.items[DIFF_EXAMPLES:]


class ManifestDiff:
    """Images and annotations added, removed and changed from a previous manifest to the one being written,
    with example names, in one pass over both: the writer gives its images in sha256 order (the manifest's), and
    the previous manifest's image lines are read alongside in the same order. An annotation never moves to
    another image, so annotations are compared image by image. Memory: one image of each, and the examples."""

    def __init__(self, previous: Iterator[dict]) -> None:
        self._previous = previous
        self._pending = next(previous, None)
        self._last_previous = self._last_current = ""  # both streams must come in one order: checked, not assumed
        self.counts = {what: dict.fromkeys(("added", "removed", "changed"), 0) for what in ("images", "annotations")}
        self._image_names = {kind: _Smallest() for kind in ("added", "removed", "changed")}
        self._annotation_ids = {kind: _Smallest() for kind in ("added", "removed", "changed")}

    def _image(self, kind: str, name: str) -> None:
        self.counts["images"][kind] += 1
        self._image_names[kind].offer(name)

    def _annotation(self, kind: str, annotation_id: int, image_name: str) -> None:
        self.counts["annotations"][kind] += 1
        self._annotation_ids[kind].offer((annotation_id, image_name))

    def _removed(self, entry: ImageEntry) -> None:
        self._image("removed", entry.name)
        for annotation_id in entry.annotations:
            self._annotation("removed", annotation_id, entry.name)

    def _previous_before(self, sha256: str | None) -> ImageEntry | None:
        """Count the previous images before `sha256` (None: all that are left) as removed; the previous image
        with that sha256, if there is one."""
        while self._pending is not None and (sha256 is None or self._pending["sha256"] <= sha256):
            entry = ImageEntry.from_line(self._pending)
            self._pending = next(self._previous, None)
            if entry.sha256 <= self._last_previous:
                raise ManifestError(f"the previous manifest is not in sha256 order at {entry.sha256}")
            self._last_previous = entry.sha256
            if entry.sha256 == sha256:
                return entry
            self._removed(entry)
        return None

    def add(self, current: ImageEntry) -> None:
        # The database sorts the images; a collation that orders hex digits unlike Python would break the merge.
        if current.sha256 <= self._last_current:
            raise ManifestError(f"images must come in sha256 order: {current.sha256} after {self._last_current}")
        self._last_current = current.sha256
        previous = self._previous_before(current.sha256)
        if previous is None:
            self._image("added", current.name)
        elif previous.image_state != current.image_state:
            self._image("changed", current.name)
        before = previous.annotations if previous is not None else {}
        for annotation_id, state in current.annotations.items():
            if annotation_id not in before:
                self._annotation("added", annotation_id, current.name)
            elif before[annotation_id] != state:
                self._annotation("changed", annotation_id, current.name)
        for annotation_id in before.keys() - current.annotations.keys():
            self._annotation("removed", annotation_id, cast(ImageEntry, previous).name)  # before is empty without it

    def result(self) -> dict:
        """The diff as the version keeps it; call once, after the last image."""
        self._previous_before(None)
        return {
            "images": self.counts["images"],
            "annotations": self.counts["annotations"],
            "examples": {
                "images": {kind: smallest.items for kind, smallest in self._image_names.items()},
                "annotations": {
                    kind: [{"id": annotation_id, "image": name} for annotation_id, name in smallest.items]
                    for kind, smallest in self._annotation_ids.items()
                },
            },
        }
