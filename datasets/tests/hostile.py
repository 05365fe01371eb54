"""Builders for good and hostile image and zip files, made in memory (no binary fixtures in the repo),
and the helpers the ingestion tests share: import loose files or a zip as an upload would, and take a
snapshot of what an import can leave behind (rows and media files).

Each builder returns the file's bytes; zips are written under a pytest `tmp_path` because `zip_entries`
reads a path, as it does for a staged upload.
"""

import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from django.conf import settings
from PIL import Image as PILImage
from PIL import TiffImagePlugin

from annotation.models import Annotation, Image, Project
from datasets import storage
from datasets.ingest import sha256_of
from datasets.services.imports import ImportSummary, images_import
from datasets.sources import Entry, plan_sources, zip_entries

EXIF_ORIENTATION_TAG = 0x0112
EXIF_MAKE_TAG = 0x010F
TIFF_X_RESOLUTION_TAG, TIFF_Y_RESOLUTION_TAG, TIFF_RESOLUTION_UNIT_TAG = 282, 283, 296
RESOLUTION_UNIT_INCH = 2
ZIP_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"
ZIP_CENTRAL_HEADER_SIGNATURE = b"PK\x01\x02"
ZIP_LOCAL_SIZE_OFFSET = 22  # uncompressed size (uint32) in a local file header
ZIP_CENTRAL_SIZE_OFFSET = 24  # uncompressed size (uint32) in a central directory header
ZIP_LOCAL_FLAGS_OFFSET, ZIP_CENTRAL_FLAGS_OFFSET = 6, 8  # general purpose bit flags (uint16)
ZIP_FLAG_ENCRYPTED = 0x1
ZIP_LOCAL_HEADER_BYTES = 30  # fixed part of a local file header, before the entry's name
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# An EXIF block whose TIFF header is broken (b"MM" must be followed by 42): Pillow cannot parse it.
DAMAGED_EXIF = b"Exif\x00\x00MM\x00\xf7\x00\x00\x00\x08"


@dataclass(frozen=True)
class Snapshot:
    """What an import can leave behind: rows (in every project) and files under MEDIA_ROOT."""

    images: int
    annotations: int
    media_files: frozenset[str]


def media_files() -> frozenset[str]:
    root = Path(settings.MEDIA_ROOT)
    return frozenset(
        (Path(directory) / name).relative_to(root).as_posix() for directory, _, names in os.walk(root) for name in names
    )


def snapshot() -> Snapshot:
    return Snapshot(images=Image.objects.count(), annotations=Annotation.objects.count(), media_files=media_files())


def files_import(*, project: Project, files: dict[str, bytes], with_masks: bool = False) -> ImportSummary:
    """Import loose files (name -> bytes) the way an upload is planned; plan rejections come first."""
    entries = [Entry(path=name, read=partial(bytes, data)) for name, data in files.items()]
    sources, rejections = plan_sources(entries, with_masks=with_masks)
    summary = images_import(project=project, sources=sources)
    summary.rejected[:0] = rejections
    return summary


def zip_import(*, project: Project, path: Path, zip_name: str, with_masks: bool = False) -> ImportSummary:
    """Import a zip the way an upload job does: refused entries, then files that are not images, then the rest."""
    entries, refused = zip_entries(str(path), zip_name=zip_name)
    sources, not_images = plan_sources(entries, with_masks=with_masks, display_prefix=f"{zip_name}:")
    summary = images_import(project=project, sources=sources)
    summary.rejected[:0] = refused + not_images
    return summary


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


def mask_png_bytes(width: int, height: int, *, defect_box: tuple[int, int, int, int] | None = None) -> bytes:
    """An 8-bit mask: 255 inside `defect_box` (x0, y0, x1, y1, exclusive ends), 0 elsewhere."""
    pixels = np.zeros((height, width), dtype=np.uint8)
    if defect_box is not None:
        x0, y0, x1, y1 = defect_box
        pixels[y0:y1, x0:x1] = 255
    return encode(PILImage.fromarray(pixels), "PNG")


def bilevel_png_bytes(width: int, height: int) -> bytes:
    """A 1-bit, all-black PNG: a few hundred bytes on disk that decode to width x height pixels."""
    return encode(PILImage.new("1", (width, height)), "PNG")


def png_declaring_size(width: int, height: int) -> bytes:
    """A hand-built 1-bit PNG whose header declares `width` x `height` but which carries almost no data:
    a decompression bomb of about a hundred bytes (Pillow could not even build one this size to save)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, grayscale, no interlace
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def png_with_damaged_exif_bytes() -> bytes:
    return encode(PILImage.fromarray(noise(32, 24, seed=13)), "PNG", exif=DAMAGED_EXIF)


def multi_page_tiff_bytes() -> bytes:
    pages = [PILImage.fromarray(noise(32, 24, seed=seed)) for seed in (14, 15)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


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
    payload_start = raw.index(ZIP_LOCAL_HEADER_SIGNATURE) + ZIP_LOCAL_HEADER_BYTES + len(name.encode())
    raw[payload_start + len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


def zip_marked_encrypted(path: Path, name: str, data: bytes) -> Path:
    """A zip whose single entry carries the "encrypted" flag (zipfile clears it when writing, so it is set here)."""
    zip_file(path, {name: data})
    raw = bytearray(path.read_bytes())
    for signature, offset in (
        (ZIP_LOCAL_HEADER_SIGNATURE, ZIP_LOCAL_FLAGS_OFFSET),
        (ZIP_CENTRAL_HEADER_SIGNATURE, ZIP_CENTRAL_FLAGS_OFFSET),
    ):
        start = raw.index(signature) + offset
        (flags,) = struct.unpack_from("<H", raw, start)
        struct.pack_into("<H", raw, start, flags | ZIP_FLAG_ENCRYPTED)
    path.write_bytes(bytes(raw))
    return path


def stored_keys(data: bytes, extension: str) -> set[str]:
    """The files an 8-bit, upright JPEG or PNG is stored as: its original (also its display) and a thumbnail."""
    sha256 = sha256_of(data)
    return {storage.content_key("originals", sha256, extension), storage.content_key("thumbnails", sha256, "jpg")}


def assert_nothing_imported(summary) -> None:
    assert (summary.imported, summary.duplicates, summary.annotations) == (0, 0, 0)
