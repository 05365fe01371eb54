"""Hostile zips are refused by name and reason (escaping paths, bombs, lies in headers, encryption), and leave
no row and no media file behind."""

import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets.services.jobs import import_job_create
from datasets.sources import Rejection
from datasets.tests.hostile import (
    assert_nothing_imported,
    gray_png_bytes,
    jpeg_bytes,
    media_files,
    snapshot,
    stored_keys,
    truncated,
    zip_file,
    zip_import,
    zip_marked_encrypted,
    zip_with_damaged_entry,
    zip_with_understated_size,
)
from defectlab.jobs.models import JobStatus
from defectlab.jobs.services import job_run

MEBIBYTE = 1024 * 1024


@pytest.mark.django_db
def test_zip_entries_with_escaping_paths_are_rejected_by_name(team, media_root, tmp_path):
    # given
    good = gray_png_bytes(seed=31)
    escaping = ["../evil.png", "/abs/evil.png", "C:/evil.png", "..\\evil.png", "__MACOSX/../../evil.png"]
    path = zip_file(tmp_path / "upload.zip", {**{name: gray_png_bytes(seed=32) for name in escaping}, "ok.png": good})
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="upload.zip")
    # then
    dots = "path with '..' inside the zip (refused: it could write outside the upload)"
    absolute = "absolute path inside the zip (refused: it could write outside the upload)"
    assert summary.rejected == [
        Rejection("upload.zip:../evil.png", dots),
        Rejection("upload.zip:/abs/evil.png", absolute),
        Rejection("upload.zip:C:/evil.png", absolute),
        Rejection("upload.zip:..\\evil.png", dots),
        Rejection("upload.zip:__MACOSX/../../evil.png", dots),
    ]
    assert (summary.imported, summary.duplicates) == (1, 0)
    assert list(team.project.images.values_list("original_filename", flat=True)) == ["upload.zip:ok.png"]
    assert snapshot().media_files - before.media_files == stored_keys(good, "png")


@pytest.mark.django_db
def test_zip_bomb_entry_above_the_ratio_is_rejected(team, media_root, tmp_path):
    # given: 2 MiB of zeros deflate to about 2 KiB, a ratio near 1,000:1 (the limit is 200:1)
    good = gray_png_bytes(seed=33)
    path = zip_file(tmp_path / "upload.zip", {"bomb.png": bytes(2 * MEBIBYTE), "ok.png": good})
    bomb = zipfile.ZipFile(path).getinfo("bomb.png")
    ratio = bomb.file_size // bomb.compress_size
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="upload.zip")
    # then
    assert ratio > 200
    assert summary.rejected == [
        Rejection("upload.zip:bomb.png", f"compression ratio {ratio}:1 above 200:1 (zip bomb)"),
    ]
    assert summary.imported == 1
    assert snapshot().media_files - before.media_files == stored_keys(good, "png")


@pytest.mark.django_db
def test_zip_above_the_total_uncompressed_cap_is_rejected_whole(team, media_root, tmp_path, settings):
    # given
    settings.DEFECTLAB_MAX_ZIP_UNCOMPRESSED_BYTES = 4_000
    members = {"a.png": gray_png_bytes(seed=34), "b.png": gray_png_bytes(seed=35)}
    total = sum(len(data) for data in members.values())
    path = zip_file(tmp_path / "upload.zip", members)
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="upload.zip")
    # then
    assert total > 4_000
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection("upload.zip", f"inflates to {total:,} bytes; at most 4,000 (zip bomb?)")]
    assert snapshot() == before


@pytest.mark.django_db
def test_zip_with_too_many_entries_is_rejected_whole(team, media_root, tmp_path, settings):
    # given
    settings.DEFECTLAB_MAX_ZIP_ENTRIES = 2
    path = zip_file(tmp_path / "upload.zip", {f"{seed}.png": gray_png_bytes(seed=seed) for seed in (36, 37, 38)})
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="upload.zip")
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection("upload.zip", "3 entries; at most 2")]
    assert snapshot() == before


@pytest.mark.django_db
def test_file_that_is_not_a_zip_is_rejected(team, media_root, tmp_path):
    # given
    path = tmp_path / "photos.zip"
    path.write_bytes(b"this is a text file named .zip")
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="photos.zip")
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection("photos.zip", "not a readable zip file (File is not a zip file)")]
    assert snapshot() == before


@pytest.mark.django_db
def test_encrypted_zip_entry_is_rejected(team, media_root, tmp_path):
    # given
    path = zip_marked_encrypted(tmp_path / "upload.zip", "secret.png", gray_png_bytes(seed=39))
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="upload.zip")
    # then
    assert_nothing_imported(summary)
    assert summary.rejected == [Rejection("upload.zip:secret.png", "encrypted zip entries are not accepted")]
    assert snapshot() == before


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(
            lambda path, data: zip_with_understated_size(path, "part.png", data, declared_size=100),
            id="header-understates-size",
        ),
        pytest.param(lambda path, data: zip_with_damaged_entry(path, "part.png", data), id="damaged-entry"),
    ],
)
@pytest.mark.django_db
def test_zip_entry_that_does_not_inflate_as_declared_is_rejected(team, media_root, tmp_path, build):
    # given
    path = build(tmp_path / "upload.zip", gray_png_bytes(seed=40))
    before = snapshot()
    # when
    summary = zip_import(project=team.project, path=path, zip_name="upload.zip")
    # then
    assert_nothing_imported(summary)
    [rejection] = summary.rejected
    assert rejection.filename == "upload.zip:part.png"
    assert rejection.reason.startswith("could not be read (the zip entry is damaged (Bad CRC-32"), rejection.reason
    assert snapshot() == before


def test_media_root_fixture_isolates_files(media_root):
    # The snapshot compares files in this test's own MEDIA_ROOT, empty at the start.
    assert media_files() == frozenset()


@pytest.mark.django_db
def test_upload_job_with_a_hostile_zip_succeeds_with_the_good_files_and_named_rejections(team, media_root, tmp_path):
    # given: an uploaded zip with a good image, an escaping path, a damaged entry and a truncated JPEG
    good = gray_png_bytes(seed=51)
    upload = tmp_path / "upload.zip"
    zip_file(upload, {"../up.png": gray_png_bytes(seed=52), "half.jpg": truncated(jpeg_bytes(seed=53)), "ok.png": good})
    damaged = zip_with_damaged_entry(tmp_path / "damaged.zip", "part.png", gray_png_bytes(seed=54))
    before = snapshot()
    upload_job = import_job_create(
        project=team.project,
        files=[
            SimpleUploadedFile("upload.zip", upload.read_bytes()),
            SimpleUploadedFile("damaged.zip", damaged.read_bytes()),
        ],
        created_by=team.admin,
    )
    # when: the worker's job runs
    job = job_run(job_id=upload_job.job_id)
    # then
    upload_job.refresh_from_db()
    assert (job.status, upload_job.imported_count, upload_job.duplicate_count, job.error) == (
        JobStatus.SUCCEEDED,
        1,
        0,
        "",
    )
    assert (job.progress_done, job.progress_total, job.result["rejected_count"]) == (4, 4, 3)
    assert [(item["filename"], item["reason"].split(" (")[0]) for item in upload_job.rejected] == [
        ("upload.zip:../up.png", "path with '..' inside the zip"),
        ("upload.zip:half.jpg", "the image is damaged or truncated"),
        ("damaged.zip:part.png", "could not be read"),
    ]
    assert list(team.project.images.values_list("original_filename", flat=True)) == ["upload.zip:ok.png"]
    assert snapshot().media_files - before.media_files == stored_keys(good, "png")  # staged uploads are removed
