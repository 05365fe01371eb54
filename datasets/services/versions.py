"""Dataset versions: freezing a project's labelled images into an immutable, content-hashed manifest."""

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction

from annotation.models import ImageStatus, Project
from datasets import storage
from datasets.manifest import (
    DEFECT_FREE,
    MANIFEST_FORMAT,
    CountsBuilder,
    ManifestIndex,
    canonical_json,
    export_name,
    manifest_diff,
    manifest_read,
)
from datasets.models import DatasetVersion, LineKind
from datasets.outlines import EdgePolygon, edge_outlines_for_rles
from datasets.selectors import (
    FreezeFilter,
    dataset_version_latest,
    freeze_annotation_rows,
    freeze_image_rows,
    freeze_labels,
    taxonomy_snapshot,
)
from datasets.splits import DEFAULT_SPLIT_RATIOS, SplitItem, split_assign, split_ratios_check
from datasets.stored_files import scratch_file, store_file
from defectlab.errors import ValidationFailed

OUTLINE_BATCH = 256  # annotations traced together (datasets/outlines.py); bounds the freeze's working memory
VERSION_NAME_MAX_LENGTH = 100


@dataclass(frozen=True)
class FreezeOptions:
    """What goes into a version besides the project's current state. All of it is part of the content hash."""

    seed: int = 0
    defect_classes: tuple[str, ...] | None = None  # None: every class
    image_statuses: tuple[str, ...] = (ImageStatus.FINAL,)
    final_annotations_only: bool = True
    include_defect_free: bool = True
    split_ratios: tuple[tuple[str, float], ...] = tuple(DEFAULT_SPLIT_RATIOS.items())
    keep_previous_splits: bool = True  # images already in the previous version (same seed, ratios) keep their split


@contextmanager
def _consistent_snapshot() -> Iterator[None]:
    """A transaction whose reads all see one moment: edits saved while a freeze reads do not mix in halfway.

    PostgreSQL's default (READ COMMITTED) gives each query its own snapshot, so the freeze asks for REPEATABLE
    READ; that has to be the transaction's first statement, so an outer transaction (tests) keeps its own level.
    SQLite transactions read one snapshot anyway."""
    is_outermost = not connection.in_atomic_block
    with transaction.atomic():
        if is_outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _validated(*, name: str, options: FreezeOptions, line_kind: str, known_classes: list[str]) -> str:
    name = name.strip()
    if not name or len(name) > VERSION_NAME_MAX_LENGTH:
        raise ValidationFailed(f"A version needs a name of 1 to {VERSION_NAME_MAX_LENGTH} characters.")
    if line_kind not in LineKind.values:
        raise ValidationFailed(f"line_kind must be one of {', '.join(LineKind.values)}.")
    unknown_statuses = sorted(set(options.image_statuses) - set(ImageStatus.values))
    if not options.image_statuses or unknown_statuses:
        raise ValidationFailed(f"Image statuses must be some of {', '.join(ImageStatus.values)}.")
    if options.defect_classes is not None:
        unknown = sorted(set(options.defect_classes) - set(known_classes))
        if unknown or not options.defect_classes:
            raise ValidationFailed(f"No such defect classes in this project: {', '.join(unknown) or '(none given)'}.")
    try:
        split_ratios_check(dict(options.split_ratios))
    except ValueError as error:
        raise ValidationFailed(f"Invalid split ratios: {error}.") from None
    return name


def _outline_json(outline: list[EdgePolygon]) -> list[dict]:
    return [{"exterior": polygon.exterior, "holes": list(polygon.holes)} for polygon in outline]


def _annotation_line(row: dict, *, rle: dict, outline: list[EdgePolygon]) -> dict:
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


def _geometry_line(image: dict, rows: list[dict]) -> bytes:
    """The image's annotations' stored geometry, copied as the database's JSON text (spaces dropped). Built by
    hand to avoid decoding and re-encoding every vertex; its bytes depend on the database's JSON text form, so
    versions are compared by content hash within one installation."""
    pairs = b",".join(b"[%d,%s]" % (row["id"], row["geometry_text"].replace(" ", "").encode()) for row in rows)
    return b'{"geometry":[' + pairs + b'],"image":"' + image["sha256"].encode() + b'","kind":"geometry"}\n'


def _image_line(row: dict, *, name: str, split: str, annotations: list[dict]) -> dict:
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


@dataclass
class _Frozen:
    content_hash: str
    manifest_key: str
    size_bytes: int
    counts: dict
    index: ManifestIndex


def _write_manifest(
    *,
    header: dict,
    images: list[dict],
    annotation_rows: Iterator[dict],
    splits: dict[str, str],
    names: dict[str, str],
    counts: CountsBuilder,
    skipped_images: int,
) -> _Frozen:
    """Stream images (in manifest order) merged with their annotations (same order) into a stored manifest."""
    out, path = scratch_file(".jsonl")
    digest, size, index = hashlib.sha256(), 0, ManifestIndex()

    def emit(data: bytes) -> None:
        nonlocal size
        out.write(data)
        digest.update(data)
        size += len(data)

    def flush(pending: list[tuple[dict, list[dict]]]) -> None:
        rles = [json.loads(row["rle_text"]) for _, image_rows in pending for row in image_rows]
        outlines = iter(edge_outlines_for_rles(rles))
        next_rle = iter(rles)
        for image, image_rows in pending:
            annotations = [_annotation_line(row, rle=next(next_rle), outline=next(outlines)) for row in image_rows]
            line = _image_line(
                image, name=names[image["sha256"]], split=splits[image["sha256"]], annotations=annotations
            )
            counts.add(line)
            index.add(line)
            emit(canonical_json(line) + b"\n")
            if image_rows:
                emit(_geometry_line(image, image_rows))
        pending.clear()

    try:
        with out:
            emit(canonical_json(header) + b"\n")
            pending: list[tuple[dict, list[dict]]] = []
            pending_annotations = 0
            row = next(annotation_rows, None)
            for image in images:
                image_rows = []
                while row is not None and row["image_id"] == image["id"]:
                    image_rows.append(row)
                    row = next(annotation_rows, None)
                pending.append((image, image_rows))
                pending_annotations += len(image_rows)
                if pending_annotations >= OUTLINE_BATCH:
                    flush(pending)
                    pending_annotations = 0
            flush(pending)
            if row is not None:  # both streams come from one snapshot in one order: this is a bug, not bad data
                raise RuntimeError(f"annotation {row['id']} of image {row['image_id']} fell outside the merge")
    except BaseException:
        os.unlink(path)
        raise
    key, content_hash = store_file(path, kind="manifests", extension="jsonl", sha256=digest.hexdigest())
    return _Frozen(
        content_hash=content_hash,
        manifest_key=key,
        size_bytes=size,
        counts=counts.result(skipped_images=skipped_images),
        index=index,
    )


def _previous_index(previous: DatasetVersion) -> tuple[ManifestIndex, dict[str, str]]:
    """The previous version's diff index and its image splits, from its manifest."""
    with storage.open_key(previous.manifest_key) as handle:
        _, images = manifest_read(handle)
        index, splits = ManifestIndex(), {}
        for image in images:
            index.add(image)
            splits[image["sha256"]] = image["split"]
    return index, splits


def dataset_version_freeze(
    *,
    project: Project,
    name: str,
    created_by: AbstractBaseUser | None,
    options: FreezeOptions | None = None,
    line_kind: str = LineKind.SAFETY_CRITICAL,
) -> DatasetVersion:
    """Freeze the project's selected images and annotations as a new version, diffed against the latest one.

    Reads run in one consistent snapshot; the manifest is stored under its sha256 (the content hash). Callers
    check the MANAGE_VERSIONS capability (the API and pages do; the command line runs as the operator)."""
    options = options or FreezeOptions()
    with _consistent_snapshot():
        project = Project.objects.get(pk=project.pk)  # inside the snapshot: its taxonomy revision
        taxonomy = taxonomy_snapshot(project=project)
        known = [defect_class["name"] for defect_class in taxonomy["defect_classes"]]
        name = _validated(name=name, options=options, line_kind=line_kind, known_classes=known)
        ratios = split_ratios_check(dict(options.split_ratios))  # floats in split order: 1 and 1.0 hash alike
        if DatasetVersion.objects.filter(project=project, name=name).exists():
            raise ValidationFailed(f"This project already has a version named {name!r}.")
        chosen = None if options.defect_classes is None else set(options.defect_classes)
        categories = [class_name for class_name in known if chosen is None or class_name in chosen]
        selection = FreezeFilter(
            defect_classes=None if chosen is None else tuple(sorted(chosen)),
            image_statuses=tuple(sorted(set(options.image_statuses))),
            final_annotations_only=options.final_annotations_only,
            include_defect_free=options.include_defect_free,
        )
        candidates = freeze_image_rows(project=project, selection=selection)
        labels = freeze_labels(project=project, selection=selection)
        # An image in the selection with no selected annotation and no defect-free judgement is unlabelled for
        # this version (e.g. all its defects are of other classes): it would teach "no defect", so it stays out.
        images = [row for row in candidates if row["id"] in labels or row["is_defect_free"]]

        previous = dataset_version_latest(project=project)
        previous_index, previous_splits = _previous_index(previous) if previous else (None, {})
        same_split_settings = previous is not None and (previous.seed, previous.split_ratios) == (options.seed, ratios)
        fixed = previous_splits if options.keep_previous_splits and same_split_settings else {}
        splits = split_assign(
            [SplitItem(key=row["sha256"], labels=frozenset(labels.get(row["id"]) or {DEFECT_FREE})) for row in images],
            ratios=ratios,
            seed=options.seed,
            fixed=fixed,
        )
        taken: set[str] = set()
        names = {
            row["sha256"]: export_name(
                row["original_filename"], extension=row["file"].rsplit(".", 1)[-1], sha256=row["sha256"], taken=taken
            )
            for row in images
        }
        header = {
            "kind": "header",
            "manifest_format": MANIFEST_FORMAT,
            "taxonomy": taxonomy,
            "categories": categories,
            "filter": {
                "defect_classes": list(selection.defect_classes) if selection.defect_classes is not None else None,
                "image_statuses": list(selection.image_statuses),
                "final_annotations_only": selection.final_annotations_only,
                "include_defect_free": selection.include_defect_free,
            },
            "seed": options.seed,
            "split_ratios": ratios,
        }
        frozen = _write_manifest(
            header=header,
            images=images,
            annotation_rows=freeze_annotation_rows(project=project, selection=selection),
            splits=splits,
            names=names,
            counts=CountsBuilder(categories=categories),
            skipped_images=len(candidates) - len(images),
        )
        try:
            with transaction.atomic():
                return DatasetVersion.objects.create(
                    project=project,
                    number=(previous.number if previous else 0) + 1,
                    name=name,
                    previous=previous,
                    filter=header["filter"],
                    seed=options.seed,
                    split_ratios=ratios,
                    line_kind=line_kind,
                    content_hash=frozen.content_hash,
                    manifest_key=frozen.manifest_key,
                    manifest_size_bytes=frozen.size_bytes,
                    taxonomy=taxonomy,
                    counts=frozen.counts,
                    diff=manifest_diff(previous_index, frozen.index) if previous_index else None,
                    created_by=created_by,
                )
        except IntegrityError:
            raise ValidationFailed(
                f"Another version named {name!r} (or numbered like this one) was created meanwhile; try again."
            ) from None
