"""Turning files into images (and masks into imported annotations), in batches.

Per file, the CPU work (hash, decode, checks, renditions, mask tracing) happens first and stores nothing;
only a file that passed every check is written, content-addressed, and recorded in one transaction per
batch. A failed batch removes the files it wrote, so a rejected or failed import leaves nothing behind.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q

from annotation import geometry
from annotation.errors import GeometryTooComplex
from annotation.models import DefectClass, Image, Project
from annotation.services.annotations import ImportedDefect, annotations_import_new_images
from annotation.services.geometry_budget import new_image_budget_check
from annotation.services.images import ImageRecord, image_build, images_record
from datasets import ingest, pyramid, storage
from datasets.sources import Rejection, Source

logger = logging.getLogger(__name__)
BATCH_SIZE = 64  # images per transaction: large enough to amortise queries, small enough to report progress
DECODE_THREADS = 2  # Pillow, OpenCV and hashlib release the GIL while they work


@dataclass
class ImportSummary:
    imported: int = 0
    duplicates: int = 0
    annotations: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.imported + self.duplicates + len(self.rejected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "annotations": self.annotations,
            "rejected": [{"filename": item.filename, "reason": item.reason} for item in self.rejected],
        }


@dataclass
class PreparedImage:
    """An image that passed every check, with its renditions, ready to store."""

    source: Source
    decoded: ingest.DecodedImage
    original: bytes
    display_png: bytes | None
    thumbnail_jpeg: bytes
    defect_regions: list[list[geometry.Polygon]]


def image_prepare(source: Source) -> PreparedImage | Rejection:
    try:
        data = source.read()
    except (OSError, ValueError) as error:
        return Rejection(source.filename, f"could not be read ({error})")
    if len(data) > settings.DEFECTLAB_MAX_UPLOAD_BYTES:
        return Rejection(
            source.filename, f"{len(data):,} bytes, above the {settings.DEFECTLAB_MAX_UPLOAD_BYTES:,} limit"
        )
    try:
        decoded = ingest.decode_image(data, source.filename)
        regions = _mask_regions(source, decoded) if source.mask_read else []
    except ingest.ImageRejected as rejected:
        return Rejection(rejected.filename, rejected.reason)
    return PreparedImage(
        source=source,
        decoded=decoded,
        original=data,
        display_png=None if decoded.display_is_original else ingest.encode_png(decoded.display),
        thumbnail_jpeg=ingest.encode_thumbnail(decoded.display, longest_side_px=settings.DEFECTLAB_THUMBNAIL_PX),
        defect_regions=regions,
    )


def _mask_regions(source: Source, decoded: ingest.DecodedImage) -> list[list[geometry.Polygon]]:
    mask_name = source.mask_filename or source.filename
    if source.mask_read is None:
        raise ingest.ImageRejected(mask_name, "no mask was paired with this image")
    try:
        mask = ingest.read_mask(source.mask_read(), mask_name)
    except (OSError, ValueError) as error:
        raise ingest.ImageRejected(mask_name, f"mask could not be read ({error})") from None
    if mask.shape != (decoded.height, decoded.width):
        raise ingest.ImageRejected(
            mask_name, f"mask is {mask.shape[1]}x{mask.shape[0]} but its image is {decoded.width}x{decoded.height}"
        )
    if source.is_defect_free and mask.any():
        raise ingest.ImageRejected(mask_name, "a defect-free image has defect pixels in its mask")
    regions = [geometry.mask_to_polygons(region) for region in geometry.mask_regions(mask) if np.any(region)]
    try:
        new_image_budget_check(regions)  # refused here, alone, rather than failing its whole batch when stored
    except GeometryTooComplex as error:
        raise ingest.ImageRejected(mask_name, f"mask over the geometry budget: {error.message}") from None
    return regions


def _record(prepared: PreparedImage, written: list[str]) -> ImageRecord:
    decoded = prepared.decoded
    original_key = storage.content_key("originals", decoded.sha256, decoded.extension)
    display_key = original_key
    if prepared.display_png is not None:
        display_key = storage.content_key("display", decoded.sha256, "png")
        if storage.store_bytes(display_key, prepared.display_png):
            written.append(display_key)
    thumbnail_key = storage.content_key("thumbnails", decoded.sha256, "jpg")
    for key, data in ((original_key, prepared.original), (thumbnail_key, prepared.thumbnail_jpeg)):
        if storage.store_bytes(key, data):
            written.append(key)
    return ImageRecord(
        sha256=decoded.sha256,
        original_filename=prepared.source.filename[-500:],
        file=original_key,
        display_file=display_key,
        thumbnail_file=thumbnail_key,
        file_size_bytes=decoded.size_bytes,
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
        bit_depth=decoded.bit_depth,
        channels=decoded.channels,
        source_type=decoded.source_type,
        metadata=decoded.metadata,
        acquired_at=decoded.acquired_at,
    )


def _store_pyramid(decoded: ingest.DecodedImage, written: list[str]) -> dict[str, Any] | None:
    """Tiles of a large image, cut and stored here, one image at a time: a batch of line scans never holds more
    than one pyramid (and never all its tiles) in memory. None for images small enough to show whole."""
    if not pyramid.needs_pyramid(
        width=decoded.display.width, height=decoded.display.height, min_px=settings.DEFECTLAB_PYRAMID_MIN_PX
    ):
        return None
    tile_size = settings.DEFECTLAB_PYRAMID_TILE_PX
    for tile in pyramid.pyramid_tiles(
        decoded.display, tile_size=tile_size, quality=settings.DEFECTLAB_PYRAMID_JPEG_QUALITY
    ):
        key = pyramid.tile_key(decoded.sha256, tile_size, tile.level, tile.column, tile.row)
        if storage.store_bytes(key, tile.data):
            written.append(key)
    levels = pyramid.pyramid_levels(width=decoded.display.width, height=decoded.display.height, tile_size=tile_size)
    return pyramid.pyramid_description(levels, sha256=decoded.sha256, tile_size=tile_size)


def _store_batch(
    *,
    project: Project,
    batch: list[PreparedImage],
    classes: dict[str, DefectClass],
    actor: User | None,
    summary: ImportSummary,
) -> None:
    written: list[str] = []
    try:
        with transaction.atomic():
            images = []
            for item in batch:
                image = image_build(
                    project=project, record=_record(item, written), is_defect_free=item.source.is_defect_free
                )
                image.pyramid = _store_pyramid(item.decoded, written)
                images.append(image)
            images = images_record(images=images)
            labelled = []
            for item, image in zip(batch, images, strict=True):
                defect_class = classes.get((item.source.defect_class_name or "").lower())
                if item.defect_regions and defect_class is not None:
                    defects = [ImportedDefect(defect_class=defect_class, polygons=p) for p in item.defect_regions]
                    labelled.append((image, defects))
            # Each mask passed new_image_budget_check in _mask_regions, before its image was stored.
            summary.annotations += annotations_import_new_images(defects_by_image=labelled, author=actor)
    except BaseException:
        # Files are content-addressed: only the ones this batch created are ours to remove.
        storage.delete_keys(_unused_keys(written))
        raise
    summary.imported += len(batch)


def _unused_keys(keys: list[str]) -> list[str]:
    """The keys no image (of any project: keys are shared by content) refers to. A pyramid's tiles are in use
    while any image of that content has a pyramid; they are checked once per image, not once per tile."""
    tiles_in_use: dict[str, bool] = {}
    unused = []
    for key in keys:
        if key.startswith(f"{pyramid.TILE_PREFIX}/"):
            sha256 = key.split("/")[1]
            if sha256 not in tiles_in_use:
                tiles_in_use[sha256] = Image.objects.filter(sha256=sha256, pyramid__isnull=False).exists()
            in_use = tiles_in_use[sha256]
        else:
            in_use = _key_in_use(key)
        if not in_use:
            unused.append(key)
    return unused


def _key_in_use(key: str) -> bool:
    """Whether any image (of any project: keys are shared by content) refers to `key`."""
    return Image.objects.filter(Q(file=key) | Q(display_file=key) | Q(thumbnail_file=key)).exists()


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def images_import(
    *,
    project: Project,
    sources: Iterable[Source],
    actor: User | None = None,
    on_progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Import images (and their masks) into `project`. Idempotent: known content is counted as a duplicate."""
    summary = ImportSummary()
    classes = {defect_class.name.lower(): defect_class for defect_class in DefectClass.objects.filter(project=project)}
    seen: set[str] = set()
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        for batch_sources in _batches(sources, BATCH_SIZE):
            candidates = []
            for source in batch_sources:
                if source.defect_class_name and source.defect_class_name.lower() not in classes:
                    summary.rejected.append(
                        Rejection(
                            source.filename,
                            f"no defect class named {source.defect_class_name!r} in this project",
                        )
                    )
                else:
                    candidates.append(source)
            fresh = []
            prepared_list = list(pool.map(image_prepare, candidates))
            known = set(
                Image.objects.filter(
                    project=project,
                    sha256__in=[item.decoded.sha256 for item in prepared_list if isinstance(item, PreparedImage)],
                ).values_list("sha256", flat=True)
            )
            for prepared in prepared_list:
                if isinstance(prepared, Rejection):
                    summary.rejected.append(prepared)
                elif prepared.decoded.sha256 in known or prepared.decoded.sha256 in seen:
                    summary.duplicates += 1
                else:
                    seen.add(prepared.decoded.sha256)
                    fresh.append(prepared)
            try:
                _store_batch(project=project, batch=fresh, classes=classes, actor=actor, summary=summary)
            except IntegrityError:
                # Another import stored some of the same content meanwhile: fall back to one image at a time.
                for prepared in fresh:
                    try:
                        _store_batch(project=project, batch=[prepared], classes=classes, actor=actor, summary=summary)
                    except IntegrityError:
                        summary.duplicates += 1
            if on_progress:
                on_progress(summary)
    return summary
