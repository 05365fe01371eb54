"""Builders for assist tests: images with known dark spots, stored through the real ingestion path."""

import io

import numpy as np
from PIL import Image as PILImage

from annotation.models import Image, Project
from datasets.ingest import sha256_of
from datasets.services.imports import images_import
from datasets.sources import Source

SURFACE_GREY = 150
SURFACE_NOISE_GREY = 3  # pixel noise of the synthetic surface (standard deviation)
SPOT_GREY = 60  # a spot is this grey: ~30 noise spreads darker than the surface


def spotted_png(
    *, width: int, height: int, spots: list[tuple[int, int, int]], seed: int = 0, spot_grey: int = SPOT_GREY
) -> bytes:
    """A grey surface with square dark spots, each (x, y, side): top-left pixel and side in px."""
    rng = np.random.default_rng(seed)
    pixels = SURFACE_GREY + rng.normal(0, SURFACE_NOISE_GREY, size=(height, width))
    for x, y, side in spots:
        pixels[y : y + side, x : x + side] = spot_grey
    buffer = io.BytesIO()
    PILImage.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def spotted_image_create(
    *,
    project: Project,
    spots: list[tuple[int, int, int]],
    width: int = 120,
    height: int = 90,
    seed: int = 0,
    name: str = "spotted.png",
    spot_grey: int = SPOT_GREY,
) -> Image:
    data = spotted_png(width=width, height=height, spots=spots, seed=seed, spot_grey=spot_grey)
    images_import(project=project, sources=[Source(filename=name, read=lambda: data)])
    return project.images.get(sha256=sha256_of(data))


def square(*, x: int, y: int, side: int) -> dict:
    """The polygon of a side x side block of pixels with its top-left pixel at (x, y), as the tracer gives it."""
    right, bottom = x + side - 1, y + side - 1
    return {"polygons": [{"exterior": [[x, y], [x, bottom], [right, bottom], [right, y]], "holes": []}]}
