"""Decoding: what is stored about an image and what its display rendition and thumbnail look like.

Each test imports through images_import into the real PostgreSQL (MEDIA_ROOT in a temporary folder) and
reads the stored renditions back through the decoder.
"""

import numpy as np
import pytest

from datasets import storage
from datasets.ingest import decode_image, sha256_of
from datasets.tests.hostile import (
    cmyk_jpeg_bytes,
    files_import,
    gray_png_bytes,
    jpeg_bytes,
    media_files,
    oriented_jpeg_bytes,
    palette_png_bytes,
    rgba_png_bytes,
    sixteen_bit_png_bytes,
    snapshot,
)

THUMBNAIL_PX = 256  # longest side of a thumbnail, set for the test
JPEG_TOLERANCE = 8  # grey levels JPEG compression may move a flat colour by


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def import_one(project, filename: str, data: bytes):
    summary = files_import(project=project, files={filename: data})
    assert (summary.imported, summary.duplicates, summary.rejected) == (1, 0, [])
    return project.images.get(sha256=sha256_of(data))


def pixels_of(key: str) -> np.ndarray:
    """A stored rendition's pixels, read back through the one decoder."""
    return np.asarray(decode_image(storage.read_bytes(key), key).display)


@pytest.mark.django_db
def test_exif_orientation_is_applied(team, media_root):
    # given: stored 40 wide x 20 high, left half black, right half white; EXIF orientation 6 = turn 90 deg clockwise
    data = oriented_jpeg_bytes(40, 20, orientation=6)
    # when
    image = import_one(team.project, "turned.jpg", data)
    # then: upright it is 20 wide x 40 high, black on top and white below
    assert (image.width, image.height, image.source_type) == (20, 40, "L")
    assert image.metadata["exif"]["Orientation"] == "6"
    assert image.display_file != image.file  # the browser gets the upright rendition, not the original
    display = pixels_of(image.display_file)
    assert display.shape == (40, 20)
    assert display[2:18, 2:18].max() < JPEG_TOLERANCE * 4
    assert display[22:38, 2:18].min() > 255 - JPEG_TOLERANCE * 4
    assert storage.read_bytes(image.file) == data  # the original is kept as uploaded


@pytest.mark.django_db
def test_sixteen_bit_png_keeps_its_original_and_gets_a_windowed_display(team, media_root):
    # given
    data = sixteen_bit_png_bytes(64, 48)
    ramp = np.linspace(1_000, 50_000, 64 * 48).astype(np.uint16)
    expected_window = [float(value) for value in np.percentile(ramp.astype(np.float64), (0.5, 99.5))]
    # when
    image = import_one(team.project, "xray.png", data)
    # then
    assert (image.bit_depth, image.channels, image.source_type) == (16, 1, "I;16")
    assert image.metadata["display_window"] == expected_window
    assert storage.read_bytes(image.file) == data
    display = pixels_of(image.display_file)
    assert (display.dtype, display.shape) == (np.dtype(np.uint8), (48, 64))
    assert (display.min(), display.max()) == (0, 255)  # the window spreads the used range over 8 bits
    assert (display[0, 0], display[-1, -1]) == (0, 255)  # below and above the window clip
    assert np.all(np.diff(display.ravel().astype(int)) >= 0)  # the ramp stays a ramp


@pytest.mark.django_db
def test_cmyk_jpeg_gets_an_rgb_display(team, media_root):
    # given: pure cyan in CMYK
    data = cmyk_jpeg_bytes()
    # when
    image = import_one(team.project, "cyan.jpg", data)
    # then
    assert (image.source_type, image.channels, image.bit_depth) == ("CMYK", 4, 8)
    display = pixels_of(image.display_file)
    assert display.shape == (24, 32, 3)
    red, green, blue = display.reshape(-1, 3).mean(axis=0)
    assert red < JPEG_TOLERANCE
    assert green > 255 - JPEG_TOLERANCE
    assert blue > 255 - JPEG_TOLERANCE


@pytest.mark.django_db
def test_palette_png_gets_an_rgb_display(team, media_root):
    # given: left half red, right half blue, as a two-colour palette
    data = palette_png_bytes(32, 24)
    # when
    image = import_one(team.project, "palette.png", data)
    # then
    assert (image.source_type, image.channels, image.bit_depth) == ("P", 1, 8)
    display = pixels_of(image.display_file)
    assert display.shape == (24, 32, 3)
    assert display[:, :16].reshape(-1, 3).tolist() == [[255, 0, 0]] * (24 * 16)
    assert display[:, 16:].reshape(-1, 3).tolist() == [[0, 0, 255]] * (24 * 16)


@pytest.mark.django_db
def test_rgba_png_drops_alpha_for_display(team, media_root):
    # given
    data = rgba_png_bytes(32, 24)
    # when
    image = import_one(team.project, "overlay.png", data)
    # then
    assert (image.source_type, image.channels, image.bit_depth) == ("RGBA", 4, 8)
    display = pixels_of(image.display_file)
    assert display.shape == (24, 32, 3)
    assert np.unique(display.reshape(-1, 3), axis=0).tolist() == [[0, 200, 0]]


@pytest.mark.django_db
def test_upright_8bit_png_is_its_own_display(team, media_root):
    # given
    data = gray_png_bytes(64, 48, seed=41)
    before = media_files()
    # when
    image = import_one(team.project, "plain.png", data)
    # then: no display copy is written, only the original and its thumbnail
    assert image.display_file == image.file
    assert (image.width, image.height, image.bit_depth, image.channels, image.source_type) == (64, 48, 8, 1, "L")
    assert media_files() - before == {image.file, image.thumbnail_file}


@pytest.mark.parametrize(
    ("width", "height", "thumbnail_shape"),
    [
        pytest.param(600, 300, (128, THUMBNAIL_PX), id="landscape-shrunk"),
        pytest.param(200, 512, (THUMBNAIL_PX, 100), id="portrait-shrunk"),
        pytest.param(64, 48, (48, 64), id="small-not-enlarged"),
    ],
)
@pytest.mark.django_db
def test_thumbnail_fits_the_configured_size(team, media_root, settings, width, height, thumbnail_shape):
    # given
    settings.DEFECTLAB_THUMBNAIL_PX = THUMBNAIL_PX
    data = jpeg_bytes(width, height, seed=42, mode="RGB")
    # when
    image = import_one(team.project, "part.jpg", data)
    # then
    thumbnail = storage.read_bytes(image.thumbnail_file)
    assert decode_image(thumbnail, "thumbnail.jpg").format == "JPEG"
    assert pixels_of(image.thumbnail_file).shape == (*thumbnail_shape, 3)


@pytest.mark.django_db
def test_same_bytes_twice_are_imported_once(team, media_root):
    # given
    data = jpeg_bytes(seed=43)
    # when: twice in one import (under two names), then once more in a later import
    first = files_import(project=team.project, files={"a.jpg": data, "copy-of-a.jpg": data})
    after_first = snapshot()
    second = files_import(project=team.project, files={"again.jpg": data})
    # then
    assert (first.imported, first.duplicates, first.rejected) == (1, 1, [])
    assert (second.imported, second.duplicates, second.rejected) == (0, 1, [])
    assert list(team.project.images.values_list("original_filename", flat=True)) == ["a.jpg"]
    assert snapshot() == after_first


@pytest.mark.django_db
def test_same_bytes_in_another_project_are_imported_there_too(team, media_root):
    # given: dedupe is per project; storage is shared by content
    data = gray_png_bytes(seed=44)
    import_one(team.project, "part.png", data)
    other = team.outsider.memberships.get().project
    files_before = media_files()
    # when
    image = import_one(other, "part.png", data)
    # then
    assert image.project_id != team.project.pk
    assert media_files() == files_before
