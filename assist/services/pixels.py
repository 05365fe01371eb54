"""The pixels the engines read: an image's display rendition as grey, decoded once per process."""

import numpy as np
from django.conf import settings

from annotation.models import Image
from assist.image_cache import GreyImageCache
from datasets.ingest import read_grey
from datasets.storage import read_bytes

_cache: GreyImageCache | None = None


def image_cache() -> GreyImageCache:
    """This process's cache (built on first use, sized by DEFECTLAB_ASSIST_IMAGE_CACHE_BYTES)."""
    global _cache
    if _cache is None:
        _cache = GreyImageCache(max_bytes=settings.DEFECTLAB_ASSIST_IMAGE_CACHE_BYTES)
    return _cache


def image_pixels(image: Image) -> np.ndarray:
    """(H, W) uint8, read-only: what the inspector sees in the editor (the display rendition), in grey.
    Keyed by the display file's storage key, which names its content (content-addressed)."""

    def load() -> np.ndarray:
        pixels = read_grey(read_bytes(image.display_file), image.display_file)
        if pixels.shape != (image.height, image.width):
            raise ValueError(f"image {image.pk}: display rendition is {pixels.shape}, not {image.height}x{image.width}")
        return pixels

    return image_cache().get(image.display_file, load)
