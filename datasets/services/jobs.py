"""Uploads: files staged by the API, turned into images by a worker in an `images_import` job."""

import os
import uuid
from contextlib import ExitStack
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from annotation.models import Project
from datasets import storage
from datasets.job_kinds import IMPORT_JOB_KIND as IMPORT_JOB_KIND  # re-exported: tests name it here
from datasets.models import ImportJob
from datasets.services.imports import ImportSummary, images_import
from datasets.sources import Entry, Rejection, Source, plan_sources, zip_entries
from defectlab.errors import ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.services import job_start


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "upload"
    return "".join(char if char.isalnum() or char in "._-" else "_" for char in base)[:120]


@transaction.atomic
def import_job_create(
    *,
    project: Project,
    files: list["UploadedFile[bytes]"],
    created_by: User,
    with_masks: bool = False,
    queue: str | None = None,
) -> ImportJob:
    """Stage the uploaded files and start their import job (on `queue`, or the kind's). A worker decodes."""
    if not files:
        raise ValidationFailed("No files were uploaded: send one or more images or zips as 'files'.")
    token = uuid.uuid4().hex
    staged = []
    for index, upload in enumerate(files):
        key = default_storage.save(f"staging/{token}/{index:05d}-{_safe_name(upload.name or 'upload')}", upload)
        staged.append({"key": key, "filename": upload.name})
    job = job_start(
        kind=IMPORT_JOB_KIND, project=project, created_by=created_by, progress_total=len(files), queue=queue
    )
    return ImportJob.objects.create(
        job=job, project=project, created_by=created_by, with_masks=with_masks, staged_files=staged
    )


def _staged_sources(upload: ImportJob, rejections: list[Rejection], stack: ExitStack) -> list[Source]:
    """Sources from the staged files: zips are opened (safely) and loose files taken as they are."""
    entries: list[Source] = []
    for staged in upload.staged_files:
        if staged["filename"].lower().endswith(".zip"):
            path = stack.enter_context(storage.local_copy(staged["key"]))
            found, refused = zip_entries(path, zip_name=staged["filename"])
            rejections.extend(refused)
            prefix = staged["filename"] + ":"
            sources, not_images = plan_sources(found, with_masks=upload.with_masks, display_prefix=prefix)
        else:
            loose = Entry(path=_safe_name(staged["filename"]), read=partial(storage.read_bytes, staged["key"]))
            sources, not_images = plan_sources([loose], with_masks=False)
        rejections.extend(not_images)
        entries.extend(sources)
    return entries


def import_job_run(*, job: JobContext) -> dict[str, Any]:
    """Import one upload: the job kind `images_import`. Its progress counts files (rejected ones included).
    Safe to run again after a lost worker: content already stored counts as a duplicate."""
    upload = ImportJob.objects.select_related("project", "created_by").get(job_id=job.job_id)
    rejections: list[Rejection] = []
    # A run after a lost worker finds the batches that worker committed as "duplicates": they are this upload's
    # own imports (counted before it died), so they are moved back to the imported column.
    already_imported, already_annotations = upload.imported_count, upload.annotation_count
    total = 0

    def counts(summary: ImportSummary) -> dict[str, Any]:
        return {
            "imported_count": already_imported + summary.imported,
            "duplicate_count": max(summary.duplicates - already_imported, 0),
            "annotation_count": already_annotations + summary.annotations,
        }

    def report(summary: ImportSummary) -> None:
        ImportJob.objects.filter(pk=upload.pk).update(**counts(summary))
        job.progress(len(rejections) + summary.processed, total, "Importing images")
        job.check_cancelled()

    staged_keys = [staged["key"] for staged in upload.staged_files]
    try:
        with ExitStack() as stack:
            sources = _staged_sources(upload, rejections, stack)
            total = len(sources) + len(rejections)
            job.progress(len(rejections), total, "Importing images")
            summary = images_import(
                project=upload.project, sources=sources, actor=upload.created_by, on_progress=report
            )
    except Exception:
        storage.delete_keys(staged_keys)  # failed or cancelled: nobody will run it again
        raise
    job.progress(len(rejections) + summary.processed, total, "Imported")
    summary.rejected[:0] = rejections
    result = counts(summary)
    ImportJob.objects.filter(pk=upload.pk).update(rejected=summary.as_dict()["rejected"], **result)
    storage.delete_keys(staged_keys)
    return {**result, "rejected_count": len(summary.rejected)}
