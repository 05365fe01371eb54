"""Hostile files are refused by name and reason, and leave no row and no media file behind.

Every test imports through the real path (plan_sources / zip_entries -> images_import) into the real
PostgreSQL, with MEDIA_ROOT in a fresh temporary folder, and compares a snapshot taken before and after.
"""

import warnings

import pytest

from annotation.models import Image
from datasets.ingest import sha256_of
from datasets.services import imports
from datasets.sources import Rejection
from datasets.tests.hostile import (
    assert_nothing_imported,
    bilevel_png_bytes,
    files_import,
    gif_bytes,
    gray_png_bytes,
    jpeg_bytes,
    jpeg_with_nul_in_exif_bytes,
    mask_png_bytes,
    multi_page_tiff_bytes,
    png_declaring_size,
    png_with_damaged_exif_bytes,
    snapshot,
    stored_keys,
    tiff_bytes,
    tiff_with_undefined_resolution_bytes,
    truncated,
)

DEFAULT_LIMIT_PIXELS = 200_000_000  # defectlab/settings.py DEFECTLAB_MAX_IMAGE_PIXELS default
DEFAULT_FORMATS = ["JPEG", "PNG", "TIFF", "BMP", "WEBP"]  # defectlab/settings.py DEFECTLAB_IMAGE_FORMATS default
DAMAGED = "the image is damaged or truncated ("
BOMB_AT_DEFAULT_LIMIT = "too many pixels: a decompression bomb (limit 200,000,000)"


@pytest.mark.parametrize(
    ("filename", "build", "reason"),
    [
        pytest.param("empty.png", lambda: b"", "the file is empty", id="empty-file"),
        pytest.param(
            "report.jpg",
            lambda: b"%PDF-1.4\n% a PDF renamed to .jpg\n",
            "not an image file (the content matches no accepted format)",
            id="non-image-named-jpg",
        ),
        pytest.param("tile.gif", gif_bytes, ".gif files are not images", id="gif-by-extension"),
        pytest.param(
            "tile.png",
            gif_bytes,
            "format GIF is not accepted (allowed: JPEG, PNG, TIFF, BMP, WEBP)",
            id="gif-named-png-by-content",
        ),
        pytest.param(
            "stack.tif",
            multi_page_tiff_bytes,
            "multi-frame images (animations, stacks) are not accepted",
            id="multi-page-tiff",
        ),
        pytest.param("setup.exe", lambda: b"MZ\x90\x00", ".exe files are not images", id="not-an-image-extension"),
        pytest.param(
            "bomb.png", lambda: png_declaring_size(20_001, 20_000), BOMB_AT_DEFAULT_LIMIT, id="bomb-above-2x-limit"
        ),
        pytest.param(
            "bomb.png", lambda: png_declaring_size(15_000, 15_000), BOMB_AT_DEFAULT_LIMIT, id="bomb-between-1x-and-2x"
        ),
    ],
)
@pytest.mark.django_db
def test_hostile_file_is_rejected_by_name_and_leaves_nothing(team, media_root, settings, filename, build, reason):
    # given: the shipped defaults, whatever this machine's environment says
    settings.DEFECTLAB_MAX_IMAGE_PIXELS = DEFAULT_LIMIT_PIXELS
    settings.DEFECTLAB_IMAGE_FORMATS = DEFAULT_FORMATS
    before = snapshot()
    # when
    summary = files_import(project=team.project, files={filename: build()})
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection(filename, reason)]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("filename", "build", "detail"),
    [
        pytest.param("half.jpg", lambda: truncated(jpeg_bytes(seed=1)), "image file is truncated", id="jpeg"),
        pytest.param("half.png", lambda: truncated(gray_png_bytes(seed=1)), "image file is truncated", id="png"),
        pytest.param("exif.png", png_with_damaged_exif_bytes, "not a TIFF file", id="damaged-exif"),
    ],
)
@pytest.mark.django_db
def test_damaged_file_is_rejected_by_name_and_leaves_nothing(team, media_root, filename, build, detail):
    # given
    before = snapshot()
    # when
    summary = files_import(project=team.project, files={filename: build()})
    # then
    assert_nothing_imported(summary)
    [rejection] = summary.rejected
    assert rejection.filename == filename
    assert rejection.reason.startswith(DAMAGED + detail), rejection.reason  # the rest is Pillow's wording
    assert snapshot() == before


def test_bomb_header_is_tiny():
    # The bombs above cost nothing to upload: the danger is only in what they declare.
    assert len(png_declaring_size(20_001, 20_000)) < 200


@pytest.mark.parametrize(
    ("width", "height", "is_accepted"),
    [
        pytest.param(1_000, 1_000, True, id="at-the-limit"),
        pytest.param(1_001, 1_000, False, id="one-row-over"),
        pytest.param(1_500, 1_000, False, id="between-1x-and-2x"),
        pytest.param(3_000, 1_000, False, id="above-2x"),
    ],
)
@pytest.mark.django_db
def test_pixel_limit_from_settings_applies_from_1x(team, media_root, settings, width, height, is_accepted):
    # given: a real 1-bit PNG (a few hundred bytes) and a limit of one megapixel
    settings.DEFECTLAB_MAX_IMAGE_PIXELS = 1_000_000
    data = bilevel_png_bytes(width, height)
    before = snapshot()
    # when
    summary = files_import(project=team.project, files={"flat.png": data})
    # then
    if is_accepted:
        assert (summary.imported, summary.rejected) == (1, [])
        assert Image.objects.get(sha256=sha256_of(data)).width * height == 1_000_000
    else:
        assert_nothing_imported(summary)
        assert summary.rejected == [Rejection("flat.png", "too many pixels: a decompression bomb (limit 1,000,000)")]
        assert snapshot() == before


@pytest.mark.django_db
def test_bomb_between_1x_and_2x_is_rejected_when_the_warning_filter_is_lost(team, media_root, settings, monkeypatch):
    # given: warning filters are process-wide; another decode thread leaving its catch_warnings() block
    # restores them under our feet, so the DecompressionBombWarning is not turned into an error
    monkeypatch.setattr(warnings, "simplefilter", lambda *args, **kwargs: None)
    settings.DEFECTLAB_MAX_IMAGE_PIXELS = DEFAULT_LIMIT_PIXELS
    before = snapshot()
    # when
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Image size")  # the lost-filter warning Pillow prints
        summary = files_import(project=team.project, files={"bomb.png": png_declaring_size(15_000, 15_000)})
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection("bomb.png", BOMB_AT_DEFAULT_LIMIT)]
    assert snapshot() == before


@pytest.mark.django_db
def test_tiff_is_rejected_when_removed_from_the_allow_list(team, media_root, settings):
    # given
    settings.DEFECTLAB_IMAGE_FORMATS = ["JPEG", "PNG"]
    before = snapshot()
    # when
    summary = files_import(project=team.project, files={"scan.tif": tiff_bytes(seed=3)})
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection("scan.tif", "format TIFF is not accepted (allowed: JPEG, PNG)")]
    assert snapshot() == before


@pytest.mark.django_db
def test_tiff_is_accepted_by_the_default_allow_list(team, media_root, settings):
    # given
    settings.DEFECTLAB_IMAGE_FORMATS = DEFAULT_FORMATS
    # when
    summary = files_import(project=team.project, files={"scan.tif": tiff_bytes(seed=3)})
    # then
    assert (summary.imported, summary.rejected) == (1, [])


@pytest.mark.django_db
def test_mixed_batch_imports_only_the_good_files(team, media_root, settings):
    # given
    settings.DEFECTLAB_MAX_IMAGE_PIXELS = DEFAULT_LIMIT_PIXELS
    good_jpeg, good_png = jpeg_bytes(seed=21), gray_png_bytes(seed=22)
    files = {
        "a-good.jpg": good_jpeg,
        "b-half.jpg": truncated(jpeg_bytes(seed=23)),
        "c-notes.jpg": b"not an image",
        "d-empty.png": b"",
        "e-good.png": good_png,
        "f-tile.gif": gif_bytes(),
        "g-bomb.png": png_declaring_size(15_000, 15_000),
    }
    before = snapshot()
    # when
    summary = files_import(project=team.project, files=files)
    # then
    assert (summary.imported, summary.duplicates, summary.annotations) == (2, 0, 0)
    assert [rejection.filename for rejection in summary.rejected] == [
        "f-tile.gif",  # refused by its extension, before decoding
        "b-half.jpg",
        "c-notes.jpg",
        "d-empty.png",
        "g-bomb.png",
    ]
    assert sorted(team.project.images.values_list("original_filename", flat=True)) == ["a-good.jpg", "e-good.png"]
    after = snapshot()
    assert (after.images, after.annotations) == (before.images + 2, before.annotations)
    assert after.media_files - before.media_files == stored_keys(good_jpeg, "jpg") | stored_keys(good_png, "png")
    assert before.media_files <= after.media_files


@pytest.mark.django_db
def test_hostile_metadata_is_cleaned_not_stored(team, media_root):
    # given: text and JSON columns in PostgreSQL refuse NUL characters and NaN
    files = {"nul.jpg": jpeg_with_nul_in_exif_bytes(), "nan.tif": tiff_with_undefined_resolution_bytes()}
    # when
    summary = files_import(project=team.project, files=files)
    # then
    assert (summary.imported, summary.rejected) == (2, [])
    nul = team.project.images.get(original_filename="nul.jpg")
    assert (nul.metadata["exif"]["Make"], nul.metadata["camera"]) == ("AcmeCam", "AcmeCam")
    assert team.project.images.get(original_filename="nan.tif").metadata["dpi"] is None


@pytest.mark.django_db
def test_failed_batch_removes_the_files_it_wrote(team, media_root, monkeypatch):
    # given: the database fails after the batch's files were written
    def fail(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports, "images_record", fail)
    before = snapshot()
    # when
    with pytest.raises(RuntimeError, match="database went away"):
        files_import(project=team.project, files={"good.jpg": jpeg_bytes(seed=24)})
    # then
    assert snapshot() == before


@pytest.mark.django_db
def test_thumbnail_of_another_image_counts_as_in_use(team, media_root):
    # given: keys are shared by content across projects, so a failed batch must not delete them if in use
    data = gray_png_bytes(seed=25)
    files_import(project=team.project, files={"shared.png": data})
    image = team.project.images.get()
    # then
    assert [imports._key_in_use(key) for key in (image.file, image.thumbnail_file, "thumbnails/00/none.jpg")] == [
        True,
        True,
        False,
    ]


# -- masks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "mask", "reason"),
    [
        pytest.param("crack", b"", "the file is empty", id="empty-mask"),
        pytest.param("crack", bilevel_png_bytes(10, 10), "mask is 10x10 but its image is 64x48", id="wrong-size"),
        pytest.param(
            "free",
            mask_png_bytes(64, 48, defect_box=(10, 10, 20, 20)),
            "a defect-free image has defect pixels in its mask",
            id="defect-pixels-in-free",
        ),
        pytest.param(
            "crack", b"GIF87a? no", "not an image file (the content matches no accepted format)", id="not-an-image"
        ),
    ],
)
@pytest.mark.django_db
def test_bad_mask_rejects_its_image_by_the_mask_name(team, media_root, folder, mask, reason):
    # given
    image = gray_png_bytes(seed=26)
    before = snapshot()
    # when
    summary = files_import(
        project=team.project, files={f"{folder}/part.jpg": image, f"{folder}/part.png": mask}, with_masks=True
    )
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection(f"{folder}/part.png", reason)]
    assert snapshot() == before
