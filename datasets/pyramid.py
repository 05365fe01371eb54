"""Deep-zoom tile pyramids of large images, so the editor paints the tiles in view instead of waiting for
the whole image. Pure: PIL images in, JPEG bytes out; storing them is the caller's job.

Conventions (shared with the browser editor, frontend/src/):
- Level 0 is the display rendition at full resolution. Level k is level k-1 halved by area averaging (each
  pixel is the mean of a 2 x 2 block; on an odd edge, of the pixels that are there), so level k measures
  ceil(width / 2^k) x ceil(height / 2^k), and its pixel (x, y) covers level-0 pixels [x * 2^k, (x + 1) * 2^k).
- Levels continue until a whole level fits in one tile; that smallest level is the last one.
- Tile (column, row) of a level covers pixels [column * T, (column + 1) * T) x [row * T, (row + 1) * T), cut at
  the level's edge (edge tiles are smaller). Tiles do not overlap.
"""

import io
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from PIL import Image

TILE_FORMAT = "jpg"
TILE_PREFIX = "tiles"  # storage prefix, beside originals/, display/ and thumbnails/
TILE_MODES = ("L", "RGB")  # what JPEG holds; ingestion's display renditions are always one of these


@dataclass(frozen=True)
class PyramidLevel:
    level: int
    width: int  # px
    height: int  # px
    columns: int
    rows: int


@dataclass(frozen=True)
class Tile:
    level: int
    column: int
    row: int
    data: bytes  # JPEG


def needs_pyramid(*, width: int, height: int, min_px: int) -> bool:
    """Whether an image is large enough to be served as tiles (its longer side exceeds `min_px`)."""
    return max(width, height) > min_px


def pyramid_levels(*, width: int, height: int, tile_size: int) -> list[PyramidLevel]:
    if width < 1 or height < 1 or tile_size < 1:
        raise ValueError(f"a pyramid needs a positive size and tile size, got {width}x{height} / {tile_size}")
    levels: list[PyramidLevel] = []
    level_width, level_height = width, height
    while True:
        levels.append(
            PyramidLevel(
                level=len(levels),
                width=level_width,
                height=level_height,
                columns=math.ceil(level_width / tile_size),
                rows=math.ceil(level_height / tile_size),
            )
        )
        if level_width <= tile_size and level_height <= tile_size:
            return levels
        level_width, level_height = math.ceil(level_width / 2), math.ceil(level_height / 2)


def pyramid_description(levels: list[PyramidLevel], *, sha256: str, tile_size: int) -> dict:
    """What Image.pyramid stores. The editor reads tile_size, format and levels; `key_template` tells the tile
    endpoint where the tiles are stored, the way Image.display_file does for the display rendition."""
    return {
        "tile_size": tile_size,
        "format": TILE_FORMAT,
        "levels": [asdict(level) for level in levels],
        "key_template": tile_key(sha256, tile_size, "{level}", "{column}", "{row}"),
    }


def tile_key(sha256: str, tile_size: int, level: int | str, column: int | str, row: int | str) -> str:
    """Content-addressed like the other renditions: the same image bytes always give the same tiles. The tile
    size is part of the key because it changes what a (level, column, row) holds: keys are written once, so a
    changed DEFECTLAB_PYRAMID_TILE_PX must not find the old tiles under the new pyramid's names."""
    return f"{TILE_PREFIX}/{sha256}/{tile_size}/{level}/{column}_{row}.{TILE_FORMAT}"


def pyramid_tiles(display: Image.Image, *, tile_size: int, quality: int) -> Iterator[Tile]:
    """Every tile of every level, level 0 first, encoded one at a time.

    Only the level being cut and the next one are held in memory (4/3 of the image at most), and each tile's
    bytes are handed out before the next one is encoded, so the caller can store them as they come."""
    if display.mode not in TILE_MODES:
        raise ValueError(f"tiles are JPEG: the image must be L or RGB, not {display.mode}")
    levels = pyramid_levels(width=display.width, height=display.height, tile_size=tile_size)
    image = display
    for level in levels:
        if level.level > 0:
            image = image.reduce(2)  # box filter: the area average, rounding the size up as pyramid_levels does
        if image.size != (level.width, level.height):  # the editor places tiles by the stored sizes
            raise RuntimeError(f"level {level.level} is {image.size}, expected {(level.width, level.height)}")
        for row in range(level.rows):
            for column in range(level.columns):
                box = (
                    column * tile_size,
                    row * tile_size,
                    min((column + 1) * tile_size, level.width),
                    min((row + 1) * tile_size, level.height),
                )
                yield Tile(level=level.level, column=column, row=row, data=_jpeg(image.crop(box), quality=quality))


def _jpeg(tile: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    tile.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
