"""Builders for good and hostile image and zip files, made in memory (no binary fixtures in the repo).

Each builder returns the file's bytes; zips are written under a pytest `tmp_path` because `zip_entries`
reads a path, as it does for a staged upload.
"""

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import TiffImagePlugin

EXIF_ORIENTATION_TAG = 0x0112
EXIF_MAKE_TAG = 0x010F
TIFF_X_RESOLUTION_TAG, TIFF_Y_RESOLUTION_TAG, TIFF_RESOLUTION_UNIT_TAG = 282, 283, 296
RESOLUTION_UNIT_INCH = 2
ZIP_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
ZIP_CENTRAL_HEADER_SIGNATURE = b"PK\x01\x02"
ZIP_LOCAL_SIZE_OFFSET = 22  # uncompressed size (uint32) in a local file header
ZIP_CENTRAL_SIZE_OFFSET = 24  # uncompressed size (uint32) in a central directory header


def encode(image: PILImage.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def noise(width: int, height: int, *, seed: int, channels: int | None = None, dtype=np.uint8) -> np.ndarray:
    """Random pixels: distinct seeds give distinct files (so distinct sha256)."""
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    high = np.iinfo(dtype).max + 1
    return rng.integers(0, high, size=shape, dtype=dtype)


def jpeg_bytes(width: int = 64, height: int = 48, *, seed: int = 0, mode: str = "L", **options) -> bytes:
    channels = {"L": None, "RGB": 3}[mode]
    return encode(PILImage.fromarray(noise(width, height, seed=seed, channels=channels), mode=mode), "JPEG", **options)


def gray_png_bytes(width: int = 64, height: int = 48, *, seed: int = 0) -> bytes:
    return encode(PILImage.fromarray(noise(width, height, seed=seed)), "PNG")


def truncated(data: bytes) -> bytes:
    """The first half of a file, as a broken copy or an interrupted transfer leaves it."""
    return data[: len(data) // 2]


def oriented_jpeg_bytes(width: int, height: int, *, orientation: int, seed: int = 0) -> bytes:
    """A JPEG stored `width` x `height` whose EXIF says how to turn it upright (6: rotate 90 degrees clockwise).

    The left half is black and the right half white, so the rotation can be checked on the rendition."""
    pixels = np.zeros((height, width), dtype=np.uint8)
    pixels[:, width // 2 :] = 255
    pixels[0, 0] = seed  # distinct content per seed
    exif = PILImage.Exif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return encode(PILImage.fromarray(pixels), "JPEG", exif=exif.tobytes(), quality=95)


def sixteen_bit_png_bytes(width: int = 64, height: int = 48) -> bytes:
    """A 16-bit grayscale PNG (an X-ray or line-scan frame) using values 1,000..50,000 of 0..65,535."""
    ramp = np.linspace(1_000, 50_000, width * height).astype(np.uint16).reshape(height, width)
    return encode(PILImage.fromarray(ramp), "PNG")


def cmyk_jpeg_bytes(width: int = 32, height: int = 24) -> bytes:
    """A CMYK JPEG, pure cyan: (C, M, Y, K) = (255, 0, 0, 0)."""
    return encode(PILImage.new("CMYK", (width, height), (255, 0, 0, 0)), "JPEG", quality=100)


def palette_png_bytes(width: int = 32, height: int = 24) -> bytes:
    """A palette (mode P) PNG: left half red, right half blue."""
    image = PILImage.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    return encode(image.convert("P", palette=PILImage.Palette.ADAPTIVE, colors=2), "PNG")


def rgba_png_bytes(width: int = 32, height: int = 24) -> bytes:
    """A half-transparent green RGBA PNG."""
    return encode(PILImage.new("RGBA", (width, height), (0, 200, 0, 128)), "PNG")


def gif_bytes(width: int = 32, height: int = 24) -> bytes:
    return encode(PILImage.fromarray(noise(width, height, seed=7)), "GIF")


def tiff_bytes(width: int = 32, height: int = 24, *, seed: int = 0, **options) -> bytes:
    return encode(PILImage.fromarray(noise(width, height, seed=seed)), "TIFF", **options)


def tiff_with_undefined_resolution_bytes() -> bytes:
    """A TIFF whose resolution is 0/0 pixels per inch: Pillow reports its dpi as NaN, which JSON cannot hold."""
    directory = TiffImagePlugin.ImageFileDirectory_v2()
    directory[TIFF_X_RESOLUTION_TAG] = TiffImagePlugin.IFDRational(0, 0)
    directory[TIFF_Y_RESOLUTION_TAG] = TiffImagePlugin.IFDRational(0, 0)
    directory[TIFF_RESOLUTION_UNIT_TAG] = RESOLUTION_UNIT_INCH
    return tiff_bytes(seed=11, tiffinfo=directory)


def jpeg_with_nul_in_exif_bytes() -> bytes:
    """A JPEG whose EXIF camera make holds a NUL character, which PostgreSQL text and JSON cannot store."""
    exif = PILImage.Exif()
    exif[EXIF_MAKE_TAG] = "Acme\x00Cam"
    return jpeg_bytes(seed=12, exif=exif.tobytes())


def bilevel_png_bytes(width: int, height: int) -> bytes:
    """A 1-bit, all-black PNG: a few hundred bytes on disk that decode to width x height pixels."""
    return encode(PILImage.new("1", (width, height)), "PNG")


def zip_file(path: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip at `path` holding `members` under exactly the given names (`..` and absolute names kept)."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return path


def zip_with_understated_size(path: Path, name: str, data: bytes, *, declared_size: int) -> Path:
    """A zip whose single entry inflates to len(data) bytes but whose headers declare `declared_size`."""
    zip_file(path, {name: data})
    raw = bytearray(path.read_bytes())
    for signature, offset in (
        (ZIP_LOCAL_HEADER_SIGNATURE, ZIP_LOCAL_SIZE_OFFSET),
        (ZIP_CENTRAL_HEADER_SIGNATURE, ZIP_CENTRAL_SIZE_OFFSET),
    ):
        start = raw.index(signature)
        struct.pack_into("<I", raw, start + offset, declared_size)
    path.write_bytes(bytes(raw))
    return path


def zip_with_damaged_entry(path: Path, name: str, data: bytes) -> Path:
    """A zip whose entry's compressed bytes were altered in transit (its CRC no longer matches)."""
    zip_file(path, {name: data}, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    payload_start = raw.index(ZIP_LOCAL_HEADER_SIGNATURE) + 30 + len(name.encode())
    raw[payload_start + len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path
