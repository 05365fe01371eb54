"""Label images for the mask formats (VOC, PNG masks): class and instance maps painted from the stored RLE.

Where defects overlap, the larger is painted first and the smaller on top, so a small defect inside a large
one stays visible; instance ids follow the manifest's order of annotations (1, 2, ...; 0 is background)."""

import io

import numpy as np
from PIL import Image as PILImage

from annotation import geometry


def label_maps(image: dict, class_index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(class map uint8, instance map uint16), each height x width; 0 is background."""
    classes = np.zeros((image["height"], image["width"]), dtype=np.uint8)
    instances = np.zeros((image["height"], image["width"]), dtype=np.uint16)
    numbered = list(enumerate(image["annotations"], start=1))
    for instance_id, annotation in sorted(numbered, key=lambda item: (-item[1]["area_px"], item[0])):
        mask = geometry.rle_decode(annotation["rle"]).astype(bool)
        classes[mask] = class_index[annotation["defect_class"]]
        instances[mask] = instance_id
    return classes, instances


def png_bytes(pixels: np.ndarray, *, palette: list[int] | None = None) -> bytes:
    """A PNG of `pixels` (uint8: grey or, with `palette`, indexed; uint16: 16-bit grey). Encoding only: images
    are decoded in datasets/ingest.py alone."""
    picture = PILImage.fromarray(pixels)
    if palette is not None:
        picture.putpalette(palette)  # an "L" picture becomes "P" with its values kept as palette indices
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
