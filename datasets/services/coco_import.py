"""COCO import: annotations from CVAT, Label Studio, Datumaro or a DefectLab export into a project.

Defect classes are matched by name (ignoring case); annotations of a class the project does not have are
counted and reported, never invented. Images are matched by sha256 (DefectLab exports carry it), then by the
exact original file name, then by a unique base name. A zip (a COCO export with its images) brings its images
in first, through the ordinary ingestion path. Imported annotations are final, like imported masks.
"""

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from annotation import geometry
from annotation.models import Annotation, AnnotationSource, DefectClass, Image, Project, SeverityLevel
from annotation.services.annotations import ImportedDefect, annotations_import, shape_derive
from datasets.importers.coco import CocoDocument, CocoFormatError, CocoImage, coco_mask_of, coco_parse
from datasets.ingest import sha256_of
from datasets.services.imports import images_import
from datasets.sources import Entry, Rejection, Source, folder_entries, zip_entries

REPORTED_NAMES = 50  # file names listed per problem in a summary; the counts are always complete


@dataclass
class CocoImportSummary:
    images_imported: int = 0  # new images from a zip
    images_matched: int = 0  # COCO images that found their project image
    annotations_imported: int = 0
    annotations_duplicate: int = 0  # already on the image (same class, same pixels): not added again
    unknown_classes: dict[str, int] = field(default_factory=dict)  # class name -> annotations not imported
    unmatched_images: list[str] = field(default_factory=list)  # COCO file names with no image in the project
    rejected: list[dict[str, Any]] = field(default_factory=list)  # [{file_name, annotation_id, reason}]

    def as_dict(self) -> dict[str, Any]:
        return {
            "images_imported": self.images_imported,
            "images_matched": self.images_matched,
            "annotations_imported": self.annotations_imported,
            "annotations_duplicate": self.annotations_duplicate,
            "unknown_classes": dict(sorted(self.unknown_classes.items())),
            "unmatched_images": self.unmatched_images[:REPORTED_NAMES],
            "unmatched_image_count": len(self.unmatched_images),
            "rejected": self.rejected[:REPORTED_NAMES],
            "rejected_count": len(self.rejected),
        }


def _image_matcher(project: Project) -> Callable[[CocoImage], Image | None]:
    images = list(Image.objects.filter(project=project))
    by_sha = {image.sha256: image for image in images}
    by_name = {image.original_filename: image for image in images}
    by_base: dict[str, list[Image]] = {}
    for image in images:
        by_base.setdefault(posixpath.basename(image.original_filename.replace("\\", "/")), []).append(image)

    def match(coco_image: CocoImage) -> Image | None:
        if coco_image.sha256 and coco_image.sha256 in by_sha:
            return by_sha[coco_image.sha256]
        if coco_image.file_name in by_name:
            return by_name[coco_image.file_name]
        same_base = by_base.get(posixpath.basename(coco_image.file_name.replace("\\", "/")), [])
        return same_base[0] if len(same_base) == 1 else None

    return match


def _severity_for(
    defect_class: DefectClass, name: object, levels: dict[int, dict[str, SeverityLevel]]
) -> SeverityLevel | None:
    if not isinstance(name, str):
        return None
    return levels.get(defect_class.pk, {}).get(name.lower())


@transaction.atomic
def _annotations_import(
    *, project: Project, document: CocoDocument, actor: User | None, summary: CocoImportSummary
) -> None:
    classes = {defect_class.name.lower(): defect_class for defect_class in DefectClass.objects.filter(project=project)}
    levels: dict[int, dict[str, SeverityLevel]] = {}
    for level in SeverityLevel.objects.filter(defect_class__project=project):
        levels.setdefault(level.defect_class_id, {})[level.name.lower()] = level
    match = _image_matcher(project)
    by_image: dict[int, list[Any]] = {}
    for annotation in document.annotations:
        by_image.setdefault(annotation.image_id, []).append(annotation)
    for coco_image in document.images:
        annotations = by_image.get(coco_image.id, [])
        image = match(coco_image)
        if image is None:
            if annotations:
                summary.unmatched_images.append(coco_image.file_name)
            continue
        summary.images_matched += 1
        existing = set(Annotation.objects.filter(image=image).values_list("defect_class_id", "rle__counts"))
        defects = []
        for annotation in annotations:
            class_name = document.categories.get(annotation.category_id, f"category {annotation.category_id}")
            defect_class = classes.get(class_name.lower())
            if defect_class is None:
                summary.unknown_classes[class_name] = summary.unknown_classes.get(class_name, 0) + 1
                continue
            try:
                mask = coco_mask_of(annotation, width=image.width, height=image.height)
            except ValueError as error:
                summary.rejected.append(
                    {"file_name": coco_image.file_name, "annotation_id": annotation.id, "reason": str(error)}
                )
                continue
            polygons = geometry.mask_to_polygons(mask)
            if not polygons:
                summary.rejected.append(
                    {"file_name": coco_image.file_name, "annotation_id": annotation.id, "reason": "the mask is empty"}
                )
                continue
            shape = shape_derive(polygons=polygons, image=image)
            if (defect_class.pk, shape.rle["counts"]) in existing:
                summary.annotations_duplicate += 1
                continue
            existing.add((defect_class.pk, shape.rle["counts"]))
            severity = _severity_for(defect_class, annotation.attributes.get("severity"), levels)
            defects.append(ImportedDefect(defect_class=defect_class, polygons=polygons, severity=severity))
        if defects:
            created = annotations_import(image=image, defects=defects, author=actor, source=AnnotationSource.IMPORTED)
            summary.annotations_imported += len(created)


def coco_import(*, project: Project, data: bytes, actor: User | None) -> CocoImportSummary:
    """Import one COCO instances JSON onto the project's existing images. Raises CocoFormatError."""
    summary = CocoImportSummary()
    _annotations_import(project=project, document=coco_parse(data), actor=actor, summary=summary)
    return summary


def _images_for(document: CocoDocument, entries: list[Entry]) -> list[Source]:
    """The entries that are the document's images: an entry whose path ends with the COCO file name (COCO names
    are relative to an images folder: images/train/ in DefectLab's and Datumaro's layout, images/ in CVAT's)."""
    by_suffix: dict[str, list[Entry]] = {}
    for entry in entries:
        parts = entry.path.split("/")
        for start in range(len(parts)):
            by_suffix.setdefault("/".join(parts[start:]), []).append(entry)
    sources = []
    for coco_image in document.images:
        found = by_suffix.get(coco_image.file_name.lstrip("/"), [])
        if len(found) == 1:
            sources.append(
                Source(filename=coco_image.file_name, read=found[0].read, is_defect_free=coco_image.is_defect_free)
            )
    return sources


def coco_archive_import(*, project: Project, path: Path, actor: User | None) -> CocoImportSummary:
    """Import a COCO export with its images (a zip, or a folder of one): every JSON under it with its images.
    Images go through ingestion (decoding, checks, dedupe); then the annotations are matched to them."""
    if path.is_dir():
        entries, refused = folder_entries(path), list[Rejection]()
    else:
        entries, refused = zip_entries(str(path), zip_name=path.name)
    summary = CocoImportSummary()
    summary.rejected.extend({"file_name": item.filename, "reason": item.reason} for item in refused)
    documents = []
    for entry in sorted(entries, key=lambda entry: entry.path):
        if entry.path.lower().endswith(".json"):
            try:
                documents.append(coco_parse(entry.read()))
            except CocoFormatError as error:
                summary.rejected.append({"file_name": entry.path, "reason": f"not COCO instances JSON: {error}"})
    if not documents:
        raise CocoFormatError("no COCO instances JSON found in it")
    for document in documents:
        sources = _images_for(document, entries)
        imported = images_import(project=project, sources=sources, actor=actor)
        summary.images_imported += imported.imported
        summary.rejected.extend({"file_name": item.filename, "reason": item.reason} for item in imported.rejected)
        _annotations_import(project=project, document=_with_hashes(document, sources), actor=actor, summary=summary)
    return summary


def _with_hashes(document: CocoDocument, sources: list[Source]) -> CocoDocument:
    """The document with each image's sha256 taken from its bytes in the archive, so it matches the image just
    imported even when the JSON does not carry one (CVAT, Label Studio)."""
    hashes = {source.filename: sha256_of(source.read()) for source in sources}
    images = [
        CocoImage(**{**image.__dict__, "sha256": hashes.get(image.file_name, image.sha256)})
        for image in document.images
    ]
    return CocoDocument(categories=document.categories, images=images, annotations=document.annotations)
