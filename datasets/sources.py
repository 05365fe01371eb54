"""Finding image files (and their masks) in a folder or a zip, safely. No decoding happens here.

Mask layout (the magnetic-tile layout, common to public defect sets): `CLASS/NAME.jpg` with its mask
`CLASS/NAME.png` beside it; the first folder names the defect class; `free/` holds defect-free images.
"""

import os
import posixpath
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"}
MASK_EXTENSION = ".png"
IGNORED_EXTENSIONS = {".md", ".txt", ".csv", ".json", ".xml", ".yaml", ".yml"}  # notes shipped beside images
DEFECT_FREE_FOLDERS = {"free", "defect-free", "defect_free", "ok", "good"}
SKIPPED_NAMES = ("__MACOSX/", ".DS_Store", "Thumbs.db")


@dataclass(frozen=True)
class Entry:
    """One file found in a folder or a zip; `path` is relative, with forward slashes."""

    path: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class Rejection:
    filename: str
    reason: str


@dataclass(frozen=True)
class Source:
    """One image to ingest, with what the layout says about it."""

    filename: str
    read: Callable[[], bytes]
    mask_read: Callable[[], bytes] | None = None
    mask_filename: str | None = None
    defect_class_name: str | None = None
    is_defect_free: bool = False


def _is_skipped(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith(".") or any(part in path for part in SKIPPED_NAMES)


def folder_entries(root: Path) -> list[Entry]:
    entries = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            full = Path(directory) / name
            relative = full.relative_to(root).as_posix()
            if not _is_skipped(relative) and full.is_file() and not full.is_symlink():
                entries.append(Entry(path=relative, read=full.read_bytes))
    return entries


def _unsafe_member_reason(name: str) -> str | None:
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return "absolute path inside the zip (refused: it could write outside the upload)"
    if ".." in normalised.split("/"):
        return "path with '..' inside the zip (refused: it could write outside the upload)"
    return None


def zip_entries(path: str, *, zip_name: str) -> tuple[list[Entry], list[Rejection]]:
    """Entries of a zip, with zip bombs, escaping paths and encrypted members refused by name."""
    try:
        archive = zipfile.ZipFile(path)  # kept open while the entries are read
    except (zipfile.BadZipFile, OSError) as error:
        return [], [Rejection(zip_name, f"not a readable zip file ({error})")]
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > settings.DEFECTLAB_MAX_ZIP_ENTRIES:
        return [], [Rejection(zip_name, f"{len(members):,} entries; at most {settings.DEFECTLAB_MAX_ZIP_ENTRIES:,}")]
    total = sum(info.file_size for info in members)
    if total > settings.DEFECTLAB_MAX_ZIP_UNCOMPRESSED_BYTES:
        return [], [
            Rejection(
                zip_name,
                f"inflates to {total:,} bytes; at most {settings.DEFECTLAB_MAX_ZIP_UNCOMPRESSED_BYTES:,} (zip bomb?)",
            )
        ]
    entries, rejections = [], []
    for info in members:
        shown = f"{zip_name}:{info.filename}"
        reason = _unsafe_member_reason(info.filename)
        if reason is None and _is_skipped(info.filename):
            continue  # an escaping path is reported even when its name looks like OS clutter (__MACOSX/../x)
        if reason is None and info.flag_bits & 0x1:
            reason = "encrypted zip entries are not accepted"
        if reason is None and info.file_size > settings.DEFECTLAB_MAX_UPLOAD_BYTES:
            reason = f"inflates to {info.file_size:,} bytes, above the {settings.DEFECTLAB_MAX_UPLOAD_BYTES:,} limit"
        if (
            reason is None
            and info.file_size > 1024 * 1024
            and (info.file_size > settings.DEFECTLAB_MAX_ZIP_RATIO * max(info.compress_size, 1))
        ):
            reason = (
                f"compression ratio {info.file_size // max(info.compress_size, 1)}:1 above "
                f"{settings.DEFECTLAB_MAX_ZIP_RATIO}:1 (zip bomb)"
            )
        if reason:
            rejections.append(Rejection(shown, reason))
            continue
        entries.append(Entry(path=info.filename.replace("\\", "/"), read=_bounded_reader(archive, info)))
    return entries, rejections


def _bounded_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        # Never trust the header's size: read at most one byte past it and refuse a liar.
        try:
            with archive.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # zipfile stops at the declared size, so a liar shows up as a CRC mismatch here.
            raise ValueError(f"the zip entry is damaged ({error})") from None
        if len(data) > info.file_size:
            raise ValueError("the entry inflates past the size its header declares (zip bomb?)")
        return data

    return read


def plan_sources(
    entries: list[Entry], *, with_masks: bool, display_prefix: str = ""
) -> tuple[list[Source], list[Rejection]]:
    """Pair images with masks (when `with_masks`) and reject files that are not images by extension."""
    rejections, images = [], []
    by_stem: dict[str, list[Entry]] = {}
    for entry in entries:
        stem, extension = posixpath.splitext(entry.path)
        if extension.lower() in IGNORED_EXTENSIONS:
            continue
        if extension.lower() not in IMAGE_EXTENSIONS:
            rejections.append(
                Rejection(display_prefix + entry.path, f"{extension or 'no extension'} files are not images")
            )
            continue
        by_stem.setdefault(stem, []).append(entry)
    for _stem, group in sorted(by_stem.items()):
        mask = None
        if with_masks and len(group) > 1:
            mask = next((entry for entry in group if entry.path.lower().endswith(MASK_EXTENSION)), None)
        for entry in group:
            if entry is mask:
                continue
            parts = entry.path.split("/")
            folder = parts[0].lower() if with_masks and len(parts) > 1 else None
            images.append(
                Source(
                    filename=display_prefix + entry.path,
                    read=entry.read,
                    mask_read=mask.read if mask else None,
                    mask_filename=display_prefix + mask.path if mask else None,
                    defect_class_name=parts[0] if folder and folder not in DEFECT_FREE_FOLDERS else None,
                    is_defect_free=folder in DEFECT_FREE_FOLDERS,
                )
            )
    return images, rejections
