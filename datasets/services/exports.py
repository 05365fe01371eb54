"""Exports of dataset versions: requested through the API (a worker builds them) or built in-process by the
command line. One file per version, format and with/without images, built once and served from then on."""

import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction

from datasets import storage
from datasets.errors import ExportNotReady
from datasets.exporters.registry import Exporter, ExportSource, exporter_get, exporter_names
from datasets.job_kinds import EXPORT_JOB_KIND
from datasets.manifest import manifest_read
from datasets.models import DatasetExport, DatasetVersion
from datasets.stored_files import scratch_file, store_file
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import UNFINISHED_STATUSES, JobStatus
from defectlab.jobs.services import job_create, job_run, job_start


def _exporter(export_format: str) -> Exporter:
    try:
        return exporter_get(export_format)
    except KeyError:
        raise ValidationFailed(
            f"Unknown export format {export_format!r}; choose one of {', '.join(exporter_names())}."
        ) from None


def _manifest_images(key: str) -> Iterator[dict[str, Any]]:
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
        export.job.status == JobStatus.SUCCEEDED
        and export.format_version == format_version
        and bool(export.file_key)
        and default_storage.exists(export.file_key)
    )


def _export_prepared(
    *,
    version: DatasetVersion,
    export_format: str,
    with_images: bool,
    requested_by: User | None,
    is_for_worker: bool,
) -> DatasetExport:
    """The export's row: as it is when its file is served (or, for a worker, being built), else pointing at a
    new build job (sent to a worker once the transaction commits if `is_for_worker`). Runs in a transaction."""
    exporter = _exporter(export_format)
    # Two requests for a new export of one version would both create it: the version's row is the lock.
    DatasetVersion.objects.select_for_update().filter(pk=version.pk).exists()
    export = (
        DatasetExport.objects.select_related("job")
        .filter(version=version, format=exporter.name, with_images=with_images)
        .first()
    )
    if export is not None:
        is_under_way = export.job.status in UNFINISHED_STATUSES and export.format_version == exporter.version
        # A build whose message was lost is the recovery sweep's to send again, so "under way" is believed.
        if _is_served(export, exporter.version) or (is_for_worker and is_under_way):
            return export
    job = (job_start if is_for_worker else job_create)(
        kind=EXPORT_JOB_KIND,
        project=version.project,
        created_by=requested_by,
        params={"version_id": version.pk, "format": exporter.name, "with_images": with_images},
        progress_total=version.counts["images"]["total"],
    )
    if export is None:
        export = DatasetExport(version=version, format=exporter.name, with_images=with_images)
    export.job, export.format_version, export.created_by = job, exporter.version, requested_by
    export.sha256, export.file_key, export.size_bytes = "", "", None
    export.save()
    return export


@transaction.atomic
def dataset_export_request(
    *, version: DatasetVersion, export_format: str, with_images: bool, requested_by: User | None
) -> DatasetExport:
    """The version's export in that format: served from the cache when built, else built by a worker (a failed
    or cancelled build is started again). Callers check the MANAGE_VERSIONS capability."""
    return _export_prepared(
        version=version,
        export_format=export_format,
        with_images=with_images,
        requested_by=requested_by,
        is_for_worker=True,
    )


def dataset_export_build(
    *, version: DatasetVersion, export_format: str, with_images: bool, requested_by: User | None = None
) -> DatasetExport:
    """The version's export in that format, built here and now unless it is cached (the command line's way).
    Raises ExportNotReady with the reason when the build fails."""
    with transaction.atomic():
        export = _export_prepared(
            version=version,
            export_format=export_format,
            with_images=with_images,
            requested_by=requested_by,
            is_for_worker=False,
        )
    if export.job.status != JobStatus.SUCCEEDED:
        job = job_run(job_id=export.job_id)
        if job.status != JobStatus.SUCCEEDED:
            raise ExportNotReady(f"The export failed: {job.error or job.status}.")
    return DatasetExport.objects.select_related("job", "version__project").get(pk=export.pk)


def dataset_export_run(*, job: JobContext) -> dict[str, Any]:
    """Build one export file: the job kind `dataset_export`. Safe to run again (a lost worker's job is): the
    file is stored under its sha256, and only a complete file is ever stored."""
    export = DatasetExport.objects.select_related("version__project").filter(job_id=job.job_id).first()
    if export is None:
        return {"superseded": True}  # a newer build of this file replaced this one before it ran
    exporter = _exporter(export.format)
    version = export.version
    total = version.counts["images"]["total"]
    job.progress(0, total, "Writing the export")

    def report(done: int) -> None:
        job.progress(done, total, "Writing the export")
        job.check_cancelled()

    out, path = scratch_file(f".{exporter.extension}")
    try:
        with out:
            exporter.function(export_source(version=version, with_images=export.with_images, on_progress=report), out)
            size = out.tell()
        key, sha256 = store_file(path, kind="exports", extension=exporter.extension)
    except BaseException:
        if os.path.exists(path):
            os.unlink(path)
        raise
    DatasetExport.objects.filter(pk=export.pk).update(
        format_version=exporter.version, sha256=sha256, file_key=key, size_bytes=size
    )
    return {"export_id": export.pk, "sha256": sha256, "size_bytes": size}


def dataset_export_download_name(export: DatasetExport) -> str:
    """The file name a download is saved under, e.g. magnetic-tile-v3-coco-with-images.zip."""
    version = export.version
    safe_name = "".join(char if char.isalnum() or char in "._-" else "_" for char in version.name)
    images = "-with-images" if export.with_images else ""
    return f"{version.project.slug}-{safe_name}-{export.format}{images}.{_exporter(export.format).extension}"
