"""Small labelled projects for dataset version tests, built through the real ingestion and annotation services."""

import io

import numpy as np
from django.core.files.storage import default_storage

from annotation import geometry
from annotation.models import DefectClass, Image, Project
from annotation.services.annotations import ImportedDefect, annotations_import
from datasets.ingest import sha256_of
from datasets.services.imports import images_import
from datasets.sources import Source
from tests.factories import png_bytes

WIDTH, HEIGHT = 64, 48


def square(x: int, y: int, side: int) -> geometry.Polygon:
    """A square through pixel centres x..x+side-1, y..y+side-1 (it covers side x side pixels)."""
    end_x, end_y = x + side - 1, y + side - 1
    return geometry.Polygon(exterior=np.array([[x, y], [end_x, y], [end_x, end_y], [x, end_y]], dtype=np.float64))


def ring(x: int, y: int, side: int) -> geometry.Polygon:
    """A square with a square hole in its middle."""
    outer = square(x, y, side)
    hole = square(x + 2, y + 2, side - 4).exterior
    return geometry.Polygon(exterior=outer.exterior, holes=(hole,))


def stored_image(project: Project, *, seed: int, name: str, is_defect_free: bool = False) -> Image:
    data = png_bytes(WIDTH, HEIGHT, seed=seed)
    images_import(project=project, sources=[Source(filename=name, read=lambda: data, is_defect_free=is_defect_free)])
    return Image.objects.get(project=project, sha256=sha256_of(data))


def labelled_image(
    project: Project, defect_class: DefectClass, *, seed: int, name: str, shapes: list, is_final: bool = True
) -> Image:
    """An image with one annotation per shape, imported as final (so the image is final too) unless told."""
    image = stored_image(project, seed=seed, name=name)
    annotations_import(
        image=image,
        defects=[ImportedDefect(defect_class=defect_class, polygons=[shape]) for shape in shapes],
        author=None,
        is_final=is_final,
    )
    image.refresh_from_db()
    return image


def stored_file(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def zip_bytes(key: str) -> io.BytesIO:
    return io.BytesIO(stored_file(key))
