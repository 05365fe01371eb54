"""Exports of dataset versions: requested through the API (a worker builds them) or built in-process by the
command line. One file per version, format and with/without images, built once and served from then on."""

import os
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from datasets import storage
from datasets.exporters.registry import Exporter, ExportSource, exporter_get, exporter_names
from datasets.manifest import manifest_read
from datasets.models import DatasetExport, DatasetVersion, JobStatus
from datasets.stored_files import scratch_file, store_file
from defectlab.errors import ValidationFailed

PROGRESS_EVERY_SECONDS = 0.5  # an export's progress row is updated at most this often
EXPORT_REQUEUE_AFTER_SECONDS = 15 * 60  # a build still queued after this long is queued again when asked for


def _exporter(export_format: str) -> Exporter:
    try:
        return exporter_get(export_format)
    except KeyError:
        raise ValidationFailed(
            f"Unknown export format {export_format!r}; choose one of {', '.join(exporter_names())}."
        ) from None


def _manifest_images(key: str) -> Iterator[dict]:
    with storage.open_key(key) as handle:
        _, images = manifest_read(handle)
        yield from images


def export_source(
    *, version: DatasetVersion, with_images: bool, on_progress: Callable[[int], None] | None = None
) -> ExportSource:
    """What exporters read: the version's frozen manifest (never the live tables) and the stored originals."""
    with storage.open_key(version.manifest_key) as handle:
        header, _ = manifest_read(handle)
    return ExportSource(
        version_name=version.name,
        content_hash=version.content_hash,
        created_at=version.created_at.isoformat(),
        project_name=version.project.name,
        project_slug=version.project.slug,
        header=header,
        images=partial(_manifest_images, version.manifest_key),
        open_image=storage.open_key,
        with_images=with_images,
        on_progress=on_progress or (lambda done: None),
    )


def _is_served(export: DatasetExport, format_version: str) -> bool:
    return (
        export.status == JobStatus.SUCCEEDED
        and export.format_version == format_version
        and bool(export.file_key)
        and default_storage.exists(export.file_key)
    )


def _export_row(
    *, version: DatasetVersion, export_format: str, with_images: bool, requested_by: AbstractBaseUser | None
) -> tuple[DatasetExport, bool]:
    """The export's row, locked, and whether it needs building (new, failed, stale, or its file is gone)."""
    exporter = _exporter(export_format)
    export, created = DatasetExport.objects.select_for_update().get_or_create(
        version=version,
        format=exporter.name,
        with_images=with_images,
        defaults={"format_version": exporter.version, "created_by": requested_by},
    )
    if _is_served(export, exporter.version):
        return export, False
    is_under_way = export.status in (JobStatus.QUEUED, JobStatus.RUNNING) and export.format_version == exporter.version
    # A build queued long ago that no worker started: its message was lost (a broker restart); ask again.
    is_lost = export.status == JobStatus.QUEUED and (
        export.queued_at is None or timezone.now() - export.queued_at > timedelta(seconds=EXPORT_REQUEUE_AFTER_SECONDS)
    )
    if is_under_way and not created and not is_lost:
        return export, False
    export.status, export.format_version, export.error = JobStatus.QUEUED, exporter.version, ""
    export.queued_at = timezone.now()
    export.progress_done, export.progress_total = 0, version.counts["images"]["total"]
    export.sha256, export.file_key, export.size_bytes = "", "", None
    export.created_by, export.started_at, export.finished_at = requested_by, None, None
    export.save()
    return export, True


@transaction.atomic
def dataset_export_request(
    *, version: DatasetVersion, export_format: str, with_images: bool, requested_by: AbstractBaseUser | None
) -> DatasetExport:
    """The version's export in that format: served from the cache when built, else queued for a worker
    (a failed one is queued again). Callers check the MANAGE_VERSIONS capability."""
    export, needs_building = _export_row(
        version=version, export_format=export_format, with_images=with_images, requested_by=requested_by
    )
    if needs_building:
        from datasets.tasks import dataset_export_run_task  # local: the task module imports this one

        transaction.on_commit(partial(dataset_export_run_task.delay, export_id=export.pk))
    return export


def dataset_export_build(
    *, version: DatasetVersion, export_format: str, with_images: bool, requested_by: AbstractBaseUser | None = None
) -> DatasetExport:
    """The version's export in that format, built here and now unless it is cached (the command line's way)."""
    with transaction.atomic():
        export, needs_building = _export_row(
            version=version, export_format=export_format, with_images=with_images, requested_by=requested_by
        )
    if needs_building or export.status != JobStatus.SUCCEEDED:
        export = dataset_export_run(export_id=export.pk)
    return export


def dataset_export_run(*, export_id: int) -> DatasetExport:
    """Build one export file. Safe to run again (a redelivered task): the file is stored under its sha256, and
    only a complete file is ever stored. Any failure marks the export failed with the reason."""
    export = DatasetExport.objects.select_related("version__project").get(pk=export_id)
    if export.status == JobStatus.SUCCEEDED:
        return export
    exporter = _exporter(export.format)
    version = export.version
    total = version.counts["images"]["total"]
    DatasetExport.objects.filter(pk=export.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), progress_done=0, progress_total=total, error=""
    )
    last_report = time.monotonic()

    def report(done: int) -> None:
        nonlocal last_report
        if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
            DatasetExport.objects.filter(pk=export.pk).update(progress_done=done)
            last_report = time.monotonic()

    out, path = scratch_file(f".{exporter.extension}")
    try:
        with out:
            exporter.function(export_source(version=version, with_images=export.with_images, on_progress=report), out)
            size = out.tell()
        key, sha256 = store_file(path, kind="exports", extension=exporter.extension)
    except Exception as error:  # noqa: BLE001 - any failure must end as a failed export with its reason
        if os.path.exists(path):
            os.unlink(path)
        DatasetExport.objects.filter(pk=export.pk).update(
            status=JobStatus.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        raise
    DatasetExport.objects.filter(pk=export.pk).update(
        status=JobStatus.SUCCEEDED,
        format_version=exporter.version,
        progress_done=total,
        sha256=sha256,
        file_key=key,
        size_bytes=size,
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export


def dataset_export_download_name(export: DatasetExport) -> str:
    """The file name a download is saved under, e.g. magnetic-tile-v3-coco-with-images.zip."""
    version = export.version
    safe_name = "".join(char if char.isalnum() or char in "._-" else "_" for char in version.name)
    images = "-with-images" if export.with_images else ""
    return f"{version.project.slug}-{safe_name}-{export.format}{images}.{_exporter(export.format).extension}"
