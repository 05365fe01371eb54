"""Tile pyramids: level sizes, tile cuts and area averaging on numpy arrays, then the ingestion hook."""

from functools import partial

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.test import override_settings
from PIL import Image as PILImage

from annotation.models import Image
from datasets import ingest, pyramid
from datasets.services import imports
from datasets.sources import Source
from tests.factories import ProjectFactory, png_bytes


def decode_jpeg(data: bytes) -> np.ndarray:
    return np.asarray(ingest.decode_image(data, "tile.jpg").display)


def test_line_scan_levels_halve_until_one_tile_holds_the_image():
    # when
    levels = pyramid.pyramid_levels(width=16_384, height=4_096, tile_size=512)
    # then
    assert [(level.level, level.width, level.height, level.columns, level.rows) for level in levels] == [
        (0, 16_384, 4_096, 32, 8),
        (1, 8_192, 2_048, 16, 4),
        (2, 4_096, 1_024, 8, 2),
        (3, 2_048, 512, 4, 1),
        (4, 1_024, 256, 2, 1),
        (5, 512, 128, 1, 1),
    ]


def test_odd_sizes_round_up_at_every_level():
    # when
    levels = pyramid.pyramid_levels(width=1_025, height=3, tile_size=256)
    # then: ceil(1025 / 2^k) wide, ceil(3 / 2^k) high, never 0
    assert [(level.width, level.height, level.columns, level.rows) for level in levels] == [
        (1_025, 3, 5, 1),
        (513, 2, 3, 1),
        (257, 1, 2, 1),
        (129, 1, 1, 1),
    ]


def test_an_image_that_fits_one_tile_has_one_level():
    assert pyramid.pyramid_levels(width=300, height=512, tile_size=512) == [
        pyramid.PyramidLevel(level=0, width=300, height=512, columns=1, rows=1)
    ]


def test_only_images_longer_than_the_threshold_need_a_pyramid():
    assert [
        pyramid.needs_pyramid(width=width, height=height, min_px=2048)
        for width, height in ((2048, 2048), (2049, 10), (10, 2049), (16_384, 4_096))
    ] == [False, True, True, True]


def test_tiles_cut_each_level_without_overlap_and_edge_tiles_are_smaller():
    # given: a 5 x 3 tile grid at level 0 (70 x 40 px in 16 px tiles)
    display = PILImage.fromarray(np.full((40, 70), 128, dtype=np.uint8), mode="L")
    # when
    tiles = list(pyramid.pyramid_tiles(display, tile_size=16, quality=90))
    # then
    sizes = {(tile.level, tile.column, tile.row): decode_jpeg(tile.data).shape for tile in tiles}
    assert len(sizes) == len(tiles) == 5 * 3 + 3 * 2 + 2 * 1 + 1
    assert (sizes[0, 0, 0], sizes[0, 4, 0], sizes[0, 4, 2], sizes[1, 2, 1]) == ((16, 16), (16, 6), (8, 6), (4, 3))
    assert sizes[3, 0, 0] == (5, 9)  # 70 x 40 halved three times: ceil 8.75 = 9 wide, 5 high


def test_levels_are_area_averages_of_the_level_above():
    # given: 2 x 2 blocks of 0 and 200 average to 100; on the odd last column, only the pixels that are there
    pixels = np.tile(np.array([[0, 200], [200, 0]], dtype=np.uint8), (8, 8))
    pixels = np.concatenate([pixels, np.full((16, 1), 60, dtype=np.uint8)], axis=1)  # 17 wide
    display = PILImage.fromarray(pixels, mode="L")
    # when
    tiles = {
        (tile.level, tile.column, tile.row): decode_jpeg(tile.data)
        for tile in pyramid.pyramid_tiles(display, tile_size=8, quality=95)
    }
    # then: level 1 is 9 x 8; its first 8 columns fill tile (0, 0), the halved odd column is tile (1, 0)
    assert (tiles[1, 0, 0].shape, tiles[1, 1, 0].shape) == ((8, 8), (8, 1))
    assert np.abs(tiles[1, 0, 0].astype(int) - 100).max() <= 3  # JPEG noise on a flat tile
    assert np.abs(tiles[1, 1, 0].astype(int) - 60).max() <= 3  # the lone last column averages with itself


def test_rgb_tiles_stay_rgb_and_other_modes_are_refused():
    # given
    rgb = PILImage.fromarray(np.zeros((20, 20, 3), dtype=np.uint8), mode="RGB")
    # when
    first = next(pyramid.pyramid_tiles(rgb, tile_size=8, quality=90))
    # then
    assert decode_jpeg(first.data).shape == (8, 8, 3)
    with pytest.raises(ValueError, match="must be L or RGB"):
        next(pyramid.pyramid_tiles(PILImage.new("I;16", (20, 20)), tile_size=8, quality=90))


def test_description_names_the_storage_key_of_every_tile():
    # given
    levels = pyramid.pyramid_levels(width=40, height=20, tile_size=16)
    # when
    description = pyramid.pyramid_description(levels, sha256="ab" * 32, tile_size=16)
    # then
    assert description == {
        "tile_size": 16,
        "format": "jpg",
        "levels": [
            {"level": 0, "width": 40, "height": 20, "columns": 3, "rows": 2},
            {"level": 1, "width": 20, "height": 10, "columns": 2, "rows": 1},
            {"level": 2, "width": 10, "height": 5, "columns": 1, "rows": 1},
        ],
        "key_template": f"tiles/{'ab' * 32}/16/{{level}}/{{column}}_{{row}}.jpg",
    }
    assert description["key_template"].format(level=1, column=1, row=0) == f"tiles/{'ab' * 32}/16/1/1_0.jpg"


# The ingestion hook


def _import(project, *sources: tuple[str, bytes]) -> None:
    imports.images_import(
        project=project, sources=[Source(filename=name, read=partial(bytes, data)) for name, data in sources]
    )


@pytest.mark.django_db
@override_settings(DEFECTLAB_PYRAMID_MIN_PX=64, DEFECTLAB_PYRAMID_TILE_PX=32)
def test_large_images_get_their_tiles_stored_and_small_ones_none():
    # given
    project = ProjectFactory.create()
    large, small = png_bytes(100, 40, seed=1), png_bytes(64, 64, seed=2)
    # when
    _import(project, ("line-scan.png", large), ("part.png", small))
    # then
    line_scan, part = (
        Image.objects.get(original_filename="line-scan.png"),
        Image.objects.get(original_filename="part.png"),
    )
    assert part.pyramid is None
    assert [level["width"] for level in line_scan.pyramid["levels"]] == [100, 50, 25]
    keys = [
        line_scan.pyramid["key_template"].format(level=level["level"], column=column, row=row)
        for level in line_scan.pyramid["levels"]
        for column in range(level["columns"])
        for row in range(level["rows"])
    ]
    assert len(keys) == 4 * 2 + 2 * 1 + 1
    assert all(default_storage.exists(key) for key in keys)
    with default_storage.open(keys[0], "rb") as tile:
        assert decode_jpeg(tile.read()).shape == (32, 32)


@pytest.mark.django_db
@override_settings(DEFECTLAB_PYRAMID_MIN_PX=64, DEFECTLAB_PYRAMID_TILE_PX=32)
def test_a_failed_batch_removes_the_tiles_it_wrote(monkeypatch):
    # given: recording the batch fails after the tiles were written
    project = ProjectFactory.create()
    data = png_bytes(100, 40, seed=3)

    def fail(*, images):
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports, "images_record", fail)
    # when
    with pytest.raises(RuntimeError):
        _import(project, ("line-scan.png", data))
    # then
    sha256 = ingest.sha256_of(data)
    assert not default_storage.exists(f"tiles/{sha256}/32/0/0_0.jpg")
    assert Image.objects.count() == 0
