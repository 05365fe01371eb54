"""The one place that decodes images. Everything that reads image bytes goes through `decode_image`.

It applies the allow-list and the decompression-bomb limit before decoding, decodes fully (so truncated
files fail here, not later), applies EXIF orientation, and makes the 8-bit display rendition: 16-bit
grayscale (X-ray, line-scan) by window/level, CMYK and palette to RGB, alpha dropped.
"""

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.conf import settings
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

DISPLAY_WINDOW_PERCENTILES = (0.5, 99.5)  # % of pixels clipped at each end when windowing 16-bit images
BROWSER_READY_FORMATS = {"JPEG", "PNG"}  # served as uploaded when already upright 8-bit L/RGB
EXIF_TEXT_LIMIT = 200  # characters kept per EXIF value; maker notes and blobs are dropped
FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "TIFF": "tif", "BMP": "bmp", "WEBP": "webp"}
# What Pillow raises on damaged pixel data or metadata (a corrupt EXIF block, a TIFF missing its dimensions...).
DAMAGED_FILE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, TypeError, KeyError, IndexError, struct.error)


class ImageRejected(Exception):
    """A file that is not stored, with the reason an inspector can act on."""

    def __init__(self, filename: str, reason: str):
        super().__init__(f"{filename}: {reason}")
        self.filename, self.reason = filename, reason


@dataclass
class DecodedImage:
    filename: str
    sha256: str
    format: str
    width: int
    height: int
    bit_depth: int
    channels: int
    source_type: str
    metadata: dict
    acquired_at: datetime | None
    display: Image.Image  # upright, mode L or RGB
    display_is_original: bool
    size_bytes: int
    extras: dict = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return FORMAT_EXTENSIONS.get(self.format, "bin")


MODE_BITS_CHANNELS = {
    "1": (1, 1),
    "L": (8, 1),
    "P": (8, 1),
    "LA": (8, 2),
    "PA": (8, 2),
    "RGB": (8, 3),
    "RGBA": (8, 4),
    "CMYK": (8, 4),
    "YCbCr": (8, 3),
    "LAB": (8, 3),
    "HSV": (8, 3),
    "I;16": (16, 1),
    "I;16B": (16, 1),
    "I;16L": (16, 1),
    "I;16N": (16, 1),
    "I": (32, 1),
    "F": (32, 1),
}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_image(data: bytes, filename: str) -> DecodedImage:
    """Decode and check one image file. Raises ImageRejected with the reason; never returns a half-read image."""
    if not data:
        raise ImageRejected(filename, "the file is empty")
    limit_pixels = settings.DEFECTLAB_MAX_IMAGE_PIXELS
    bomb = f"too many pixels: a decompression bomb (limit {limit_pixels:,})"
    Image.MAX_IMAGE_PIXELS = limit_pixels
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x the limit; we refuse from 1x. The filter is process-wide and the
        # import decodes on several threads, so it is only a first line: the explicit size check below decides.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # noqa: TID251 - this module is the decoder
            if image.format not in settings.DEFECTLAB_IMAGE_FORMATS:
                allowed = ", ".join(settings.DEFECTLAB_IMAGE_FORMATS)
                raise ImageRejected(filename, f"format {image.format} is not accepted (allowed: {allowed})")
            if image.width * image.height > limit_pixels:
                raise ImageRejected(filename, bomb)
            if getattr(image, "n_frames", 1) > 1:
                raise ImageRejected(filename, "multi-frame images (animations, stacks) are not accepted")
            image.load()
            return _describe(image, data, filename)
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(filename, bomb) from None
        except UnidentifiedImageError:
            raise ImageRejected(filename, "not an image file (the content matches no accepted format)") from None
        except DAMAGED_FILE_ERRORS as error:
            raise ImageRejected(filename, f"the image is damaged or truncated ({error})") from None


def _describe(image: Image.Image, data: bytes, filename: str) -> DecodedImage:
    source_type = image.mode
    bit_depth, channels = MODE_BITS_CHANNELS.get(source_type, (8, len(image.getbands())))
    exif = image.getexif()
    metadata = _metadata(image, exif, filename)
    acquired_at = _acquired_at(exif)
    orientation = exif.get(ExifTags.Base.Orientation, 1)
    upright = ImageOps.exif_transpose(image) if orientation not in (1, None) else image
    display, window = _display_rendition(upright)
    if window is not None:
        metadata["display_window"] = window
    is_original = image.format in BROWSER_READY_FORMATS and orientation in (1, None) and source_type in ("L", "RGB")
    return DecodedImage(
        filename=filename,
        sha256=sha256_of(data),
        format=image.format or "",
        width=upright.width,
        height=upright.height,
        bit_depth=bit_depth,
        channels=channels,
        source_type=source_type,
        metadata=metadata,
        acquired_at=acquired_at,
        display=display,
        display_is_original=is_original,
        size_bytes=len(data),
    )


def _display_rendition(image: Image.Image) -> tuple[Image.Image, list[float] | None]:
    mode = image.mode
    if mode in ("L", "RGB"):
        return image, None
    if mode.startswith("I") or mode == "F":
        pixels = np.asarray(image, dtype=np.float64)
        low, high = np.percentile(pixels, DISPLAY_WINDOW_PERCENTILES)
        if high <= low:
            high = low + 1.0
        scaled = np.clip((pixels - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)
        return Image.fromarray(scaled, mode="L"), [float(low), float(high)]
    if mode == "1":
        return image.convert("L"), None
    if mode in ("LA", "PA") or (mode == "P" and image.palette and image.palette.mode in ("L", "LA")):
        return image.convert("L"), None
    if mode == "CMYK" and "icc_profile" in image.info:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
            converted = ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:  # None only when converting in place, which this does not ask for
                return converted, None
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken embedded profile: fall back to Pillow's naive conversion below
    return image.convert("RGB"), None


def _metadata(image: Image.Image, exif: Image.Exif, filename: str) -> dict:
    readable = {}
    for tag, value in {**exif, **exif.get_ifd(ExifTags.IFD.Exif)}.items():
        name = ExifTags.TAGS.get(tag)
        if name is None or name in ("MakerNote", "UserComment") or isinstance(value, bytes):
            continue
        # PostgreSQL text and JSON cannot hold NUL characters; camera firmware pads strings with them.
        readable[name] = str(value).replace("\x00", "")[:EXIF_TEXT_LIMIT]
    camera = " ".join(part for part in (readable.get("Make", ""), readable.get("Model", "")) if part).strip()
    return {
        "original_filename": filename,
        "exif": readable,
        "color_space": _color_space(image),
        "camera": camera or None,
        "dpi": _dpi(image),
    }


def _dpi(image: Image.Image) -> list[float] | None:
    """Pixels per inch, or None when absent or undefined (a 0/0 resolution reads as NaN, which JSON cannot hold)."""
    dpi = [float(value) for value in image.info.get("dpi", ())]
    return dpi if dpi and all(math.isfinite(value) for value in dpi) else None


def _color_space(image: Image.Image) -> str:
    if "icc_profile" in image.info:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
            return ImageCms.getProfileDescription(profile).strip() or "embedded ICC profile"
        except (ImageCms.PyCMSError, OSError):
            return "embedded ICC profile (unreadable)"
    return {"L": "grayscale", "I;16": "grayscale 16-bit", "CMYK": "CMYK", "RGB": "sRGB (assumed)"}.get(
        image.mode, image.mode
    )


def _acquired_at(exif: Image.Exif) -> datetime | None:
    raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not raw:
        return None
    try:
        # EXIF carries the camera's local time without a zone; plant cameras run on UTC by convention here.
        return datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: renditions are rebuilt from originals
    return buffer.getvalue()


def encode_thumbnail(image: Image.Image, *, longest_side_px: int) -> bytes:
    thumbnail = image.copy()
    thumbnail.thumbnail((longest_side_px, longest_side_px), Image.Resampling.BILINEAR, reducing_gap=2.0)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def read_mask(data: bytes, filename: str, *, threshold: int = 128) -> np.ndarray:
    """A defect mask file as a {0,1} array: pixels >= threshold are defect (JPEG-like noise below it)."""
    decoded = decode_image(data, filename)
    grey = decoded.display if decoded.display.mode == "L" else decoded.display.convert("L")
    return (np.asarray(grey) >= threshold).astype(np.uint8)


def read_grey(data: bytes, filename: str) -> np.ndarray:
    """An image file as upright 8-bit grey pixels (H, W), uint8: the assist engines' input. Pass the display
    rendition's bytes: it is what the inspector sees (16-bit originals windowed, EXIF orientation applied)."""
    decoded = decode_image(data, filename)
    grey = decoded.display if decoded.display.mode == "L" else decoded.display.convert("L")
    return np.asarray(grey, dtype=np.uint8)
