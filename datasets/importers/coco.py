"""Reading COCO instances JSON (from CVAT, Label Studio, Datumaro or DefectLab's own export). Pure: no ORM.

Segmentations are decoded with pycocotools, so a file means exactly what it means to the tools that wrote it
and to training code: polygons (several per object are one object), RLE (compressed or not), or, for
detection-only files, the box. The importer then traces the mask into DefectLab geometry (ADR 0001).
"""

from dataclasses import dataclass, field

import numpy as np
from pycocotools import mask as coco_mask

from defectlab.json_input import json_input_load


class CocoFormatError(ValueError):
    """The file is not COCO instances JSON; the message says what is missing."""


@dataclass(frozen=True)
class CocoImage:
    id: int
    file_name: str
    width: int
    height: int
    sha256: str | None = None  # DefectLab exports carry it; it matches images whatever their file name
    is_defect_free: bool = False  # DefectLab's explicit judgement; other tools have none


@dataclass(frozen=True)
class CocoAnnotation:
    id: int
    image_id: int
    category_id: int
    segmentation: object
    bbox: list[float] | None
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CocoDocument:
    categories: dict[int, str]  # id -> name
    images: list[CocoImage]
    annotations: list[CocoAnnotation]


def _require(item: object, keys: tuple[str, ...], what: str) -> dict:
    if not isinstance(item, dict) or any(key not in item for key in keys):
        raise CocoFormatError(f"every {what} needs {', '.join(keys)}")
    return item


def coco_parse(data: bytes) -> CocoDocument:
    """The categories, images and annotations of a COCO instances file. Raises CocoFormatError."""
    try:
        document = json_input_load(data)  # nesting bounded: a file of 100,000 "[" is not JSON to us
    except ValueError as error:
        raise CocoFormatError(f"not JSON ({error})") from None
    if not isinstance(document, dict) or not all(
        isinstance(document.get(key), list) for key in ("images", "annotations", "categories")
    ):
        raise CocoFormatError("COCO instances JSON has lists named images, annotations and categories")
    try:
        categories = {
            int(category["id"]): str(category["name"])
            for category in (_require(item, ("id", "name"), "category") for item in document["categories"])
        }
        images = [
            CocoImage(
                id=int(image["id"]),
                file_name=str(image["file_name"]),
                width=int(image["width"]),
                height=int(image["height"]),
                sha256=image.get("sha256") if isinstance(image.get("sha256"), str) else None,
                is_defect_free=image.get("is_defect_free") is True,
            )
            for image in (
                _require(item, ("id", "file_name", "width", "height"), "image") for item in document["images"]
            )
        ]
        annotations = [
            CocoAnnotation(
                id=int(annotation["id"]),
                image_id=int(annotation["image_id"]),
                category_id=int(annotation["category_id"]),
                segmentation=annotation.get("segmentation"),
                bbox=annotation.get("bbox"),
                attributes=attributes if isinstance(attributes := annotation.get("attributes"), dict) else {},
            )
            for annotation in (
                _require(item, ("id", "image_id", "category_id"), "annotation") for item in document["annotations"]
            )
        ]
    except (TypeError, ValueError) as error:
        raise CocoFormatError(f"ids, widths and heights must be numbers ({error})") from None
    return CocoDocument(categories=categories, images=images, annotations=annotations)


def coco_mask_of(annotation: CocoAnnotation, *, width: int, height: int) -> np.ndarray:
    """The annotation's mask as a {0,1} uint8 height x width array, as pycocotools decodes it.
    Raises ValueError when the segmentation is malformed."""
    segmentation = annotation.segmentation
    if isinstance(segmentation, list) and segmentation:
        polygons = [[float(value) for value in polygon] for polygon in segmentation if len(polygon) >= 6]
        if not polygons:
            raise ValueError("every polygon needs at least 3 points")
        encoded = coco_mask.merge(coco_mask.frPyObjects(polygons, height, width))
    elif isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
        if list(segmentation["size"]) != [height, width]:
            raise ValueError(f"RLE size {segmentation['size']} is not the image's [{height}, {width}]")
        if isinstance(segmentation["counts"], list):
            encoded = coco_mask.frPyObjects(segmentation, height, width)
        else:
            encoded = {"size": [height, width], "counts": str(segmentation["counts"]).encode("ascii")}
    elif isinstance(annotation.bbox, list) and len(annotation.bbox) == 4:
        x, y, box_width, box_height = (float(value) for value in annotation.bbox)
        corners = [x, y, x + box_width, y, x + box_width, y + box_height, x, y + box_height]
        encoded = coco_mask.merge(coco_mask.frPyObjects([corners], height, width))
    else:
        raise ValueError("it has neither a segmentation nor a bbox")
    return coco_mask.decode(encoded)
