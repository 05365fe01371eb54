"""Upload jobs: files staged by the API, turned into images by a worker."""

import os
import uuid
from contextlib import ExitStack
from datetime import timedelta
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotation.models import Project
from datasets import storage
from datasets.models import ImportJob, JobStatus
from datasets.services.imports import ImportSummary, images_import
from datasets.sources import Entry, Rejection, Source, plan_sources, zip_entries
from defectlab.errors import ValidationFailed


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "upload"
    return "".join(char if char.isalnum() or char in "._-" else "_" for char in base)[:120]


@transaction.atomic
def import_job_create(
    *,
    project: Project,
    files: list[UploadedFile],
    created_by: AbstractBaseUser,
    with_masks: bool = False,
    queue: str | None = None,
) -> ImportJob:
    """Stage the uploaded files and queue their import (on `queue`, or the default queue). A worker decodes."""
    if not files:
        raise ValidationFailed("No files were uploaded: send one or more images or zips as 'files'.")
    token = uuid.uuid4().hex
    staged = []
    for index, upload in enumerate(files):
        key = default_storage.save(f"staging/{token}/{index:05d}-{_safe_name(upload.name)}", upload)
        staged.append({"key": key, "filename": upload.name})
    job = ImportJob.objects.create(
        project=project, created_by=created_by, with_masks=with_masks, staged_files=staged, total_files=len(files)
    )
    from datasets.tasks import import_job_run_task  # local: the task module imports this one

    transaction.on_commit(partial(import_job_run_task.apply_async, kwargs={"job_id": job.pk}, queue=queue))
    return job


def _staged_sources(job: ImportJob, rejections: list[Rejection], stack: ExitStack) -> list[Source]:
    """Sources from the staged files: zips are opened (safely) and loose files taken as they are."""
    entries: list[Source] = []
    for staged in job.staged_files:
        if staged["filename"].lower().endswith(".zip"):
            path = stack.enter_context(storage.local_copy(staged["key"]))
            found, refused = zip_entries(path, zip_name=staged["filename"])
            rejections.extend(refused)
            prefix = staged["filename"] + ":"
            sources, not_images = plan_sources(found, with_masks=job.with_masks, display_prefix=prefix)
        else:
            loose = Entry(path=_safe_name(staged["filename"]), read=partial(storage.read_bytes, staged["key"]))
            sources, not_images = plan_sources([loose], with_masks=False)
        rejections.extend(not_images)
        entries.extend(sources)
    return entries


def import_job_run(*, job_id: int) -> ImportJob:
    """Run (or re-run after a lost worker: duplicates are skipped) one upload job."""
    job = ImportJob.objects.select_related("project", "created_by").get(pk=job_id)
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return job
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=job.started_at or now, heartbeat_at=now
    )
    rejections: list[Rejection] = []
    # A run after a lost worker finds the batches that worker committed as "duplicates": they are this job's own
    # imports (counted before it died), so they are moved back to the imported column.
    already_imported, already_annotations = job.imported_count, job.annotation_count

    def totals(summary: ImportSummary) -> dict:
        return {
            "processed_files": len(rejections) + summary.processed,
            "imported_count": already_imported + summary.imported,
            "duplicate_count": max(summary.duplicates - already_imported, 0),
            "annotation_count": already_annotations + summary.annotations,
        }

    def report(summary: ImportSummary) -> None:
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now(), **totals(summary))

    try:
        with ExitStack() as stack:
            sources = _staged_sources(job, rejections, stack)
            ImportJob.objects.filter(pk=job.pk).update(total_files=len(sources) + len(rejections))
            summary = images_import(project=job.project, sources=sources, actor=job.created_by, on_progress=report)
    except Exception as error:  # noqa: BLE001 - any failure must end as a failed job with its reason
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
        storage.delete_keys([staged["key"] for staged in job.staged_files])
        raise
    counts = totals(summary)
    summary.rejected[:0] = rejections
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        rejected=summary.as_dict()["rejected"],
        finished_at=timezone.now(),
        **{**counts, "processed_files": summary.processed},
    )
    storage.delete_keys([staged["key"] for staged in job.staged_files])
    job.refresh_from_db()
    return job


@transaction.atomic
def import_jobs_recover(*, stale_after_seconds: int) -> list[int]:
    """Queue again the jobs whose worker died (running, no heartbeat for `stale_after_seconds`) or whose message
    was lost (still queued that long). Safe beside live workers: a re-run skips what is already stored."""
    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds)
    stale = list(
        ImportJob.objects.select_for_update(skip_locked=True)
        .filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
        .values_list("id", flat=True)
    )
    if stale:
        # Claim them now, so the next sweep does not queue them a second time before a worker starts.
        ImportJob.objects.filter(pk__in=stale).update(heartbeat_at=timezone.now())
        from datasets.tasks import import_job_run_task  # local: the task module imports this one

        for job_id in stale:
            transaction.on_commit(partial(import_job_run_task.delay, job_id=job_id))
    return stale
