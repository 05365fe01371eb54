"""Writes: start a job, run it (the worker's task, or in-process for the command line), cancel it, and the
recovery sweep that finds jobs whose worker was lost."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from defectlab.errors import DomainError, PermissionDenied
from defectlab.jobs.access import JobAccess
from defectlab.jobs.context import JobCancelled, JobContext
from defectlab.jobs.errors import JobFinished
from defectlab.jobs.models import UNFINISHED_STATUSES, Job, JobStatus
from defectlab.jobs.registry import KINDS, job_kind_get
from defectlab.jobs.selectors import job_access_for_user

logger = logging.getLogger(__name__)
ERROR_MAX_LENGTH = 2000  # characters of an error kept for users; the full traceback goes to the worker's log


def job_error_text(error: BaseException) -> str:
    """A failure as users read it: a DomainError's own sentence, else the exception's type and message."""
    if isinstance(error, DomainError):
        return error.message[:ERROR_MAX_LENGTH]
    text = str(error).strip()
    return (f"{type(error).__name__}: {text}" if text else type(error).__name__)[:ERROR_MAX_LENGTH]


JobSend = Callable[[int, str], None]


def _to_worker(job_id: int, queue: str) -> None:
    from defectlab.jobs.tasks import job_run_task  # local: the task module imports this one

    job_run_task.apply_async(kwargs={"job_id": job_id}, queue=queue)


_job_send: JobSend = _to_worker


def _send(job_id: int, queue: str) -> None:
    _job_send(job_id, queue)


def jobs_send_through(send: JobSend) -> JobSend:
    """Hand queued jobs to `send(job_id, queue)` instead of the broker (tests without a worker); returns the
    previous sender so the caller can restore it."""
    global _job_send
    previous, _job_send = _job_send, send
    return previous


def job_create(
    *,
    kind: str,
    project: Any,  # annotation.Project (by its id: this package imports no app)
    created_by: User | None,
    params: dict[str, Any] | None = None,
    progress_total: int | None = None,
) -> Job:
    """A queued job that no worker is told about: the caller runs it here with job_run (the command line's
    way), or the recovery sweep sends it once it is stale. `params` must be JSON."""
    job_kind_get(kind)  # an unknown kind is a programming error: refuse it before a row exists
    return Job.objects.create(
        kind=kind,
        project=project,
        created_by=created_by,
        params=params or {},
        progress_total=progress_total,
        heartbeat_at=timezone.now(),
    )


@transaction.atomic
def job_start(
    *,
    kind: str,
    project: models.Model | None,
    created_by: User | None,
    params: dict[str, Any] | None = None,
    progress_total: int | None = None,
    queue: str | None = None,
) -> Job:
    """Create a queued job and send it to a worker once the transaction commits: on the kind's queue, or on
    `queue` (tests route a job to one worker this way)."""
    job = job_create(kind=kind, project=project, created_by=created_by, params=params, progress_total=progress_total)
    transaction.on_commit(partial(_send, job.pk, queue or KINDS[kind].queue))
    return job


def _finish(job_id: int, status: str, **values: object) -> None:
    # Unconditional but for finished jobs: a run that ends after the sweep queued its job again still counts.
    Job.objects.filter(pk=job_id, status__in=UNFINISHED_STATUSES).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **values
    )


def job_run(*, job_id: int) -> Job:
    """Run one queued job through its kind's function and record how it ended. A job that is not queued (a
    duplicate message, finished, cancelled, or taken by another worker) is left alone: the claim below is one
    conditional UPDATE, so two deliveries of one job never both run it."""
    now = timezone.now()
    is_claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED, cancel_requested_at__isnull=True).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), Value(now, output_field=models.DateTimeField())),
        heartbeat_at=now,
        message="",
        error="",
    )
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if not is_claimed:
        logger.info("job %s is %s, not queued: not run again", job_id, job.status)
        return job
    context = JobContext(job)
    try:
        result = job_kind_get(job.kind).function(context)
    except JobCancelled:
        _finish(job_id, JobStatus.CANCELLED, message="Cancelled while running.")
    except Exception as error:  # noqa: BLE001 - any failure must end as a failed job with a readable reason
        logger.exception("job %s (%s) failed", job_id, job.kind)
        _finish(job_id, JobStatus.FAILED, error=job_error_text(error))
    else:
        total = Job.objects.filter(pk=job_id).values_list("progress_total", flat=True).first()
        done = {"progress_done": total} if total is not None else {}
        _finish(job_id, JobStatus.SUCCEEDED, result=result or {}, **done)
    finally:
        context.close()
    job.refresh_from_db()
    return job


def _is_canceller(*, job: Job, user: User, access: JobAccess) -> bool:
    is_creator = job.created_by_id is not None and job.created_by_id == user.pk
    return access == JobAccess.MANAGE or (access >= JobAccess.VIEW and is_creator)


def job_may_cancel(*, job: Job, user: User, access: JobAccess) -> bool:
    """Whether `user` (whose access to the job is `access`) may cancel `job` now: its creator or someone who
    manages its project, while it is unfinished and nobody has asked yet."""
    is_open = job.status in UNFINISHED_STATUSES and job.cancel_requested_at is None
    return is_open and _is_canceller(job=job, user=user, access=access)


@transaction.atomic
def job_cancel(*, job: Job, user: User) -> Job:
    """Cancel a job: a queued one at once; a running one is asked to stop and ends `cancelled` at its next
    check (a kind that never checks runs to its end). Callers have checked that the user sees the job (404)."""
    job = Job.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job.pk)
    if not _is_canceller(job=job, user=user, access=job_access_for_user(job=job, user=user)):
        raise PermissionDenied("Only the person who started this job or a project admin may cancel it.")
    if job.status not in UNFINISHED_STATUSES:
        raise JobFinished(f"This job has already ended ({job.status}).", status=job.status)
    if job.cancel_requested_at is not None:
        return job  # asked already: its worker is stopping it
    now = timezone.now()
    who = getattr(user, "username", "")
    if job.status == JobStatus.QUEUED:
        job.status, job.finished_at, job.message = JobStatus.CANCELLED, now, f"Cancelled by {who} before it started."
    else:
        job.message = f"Cancel asked by {who}; stopping."
    job.cancel_requested_at = now
    job.save(update_fields=["status", "finished_at", "message", "cancel_requested_at"])
    return job


@dataclass
class Recovered:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@transaction.atomic
def jobs_recover(*, stale_after_seconds: int, max_attempts: int) -> Recovered:
    """Find the jobs with no sign of life for `stale_after_seconds` and decide their fate.

    - Queued, never started (its message was lost, or no worker took it): sent again. Safe for any kind, since a
      run starts only by claiming a queued job (job_run), so duplicate messages do nothing.
    - Running, its worker lost: an idempotent kind is queued again, until `max_attempts` runs were lost; any
      other kind is marked failed, since running it twice could do its work twice.
    Safe beside live workers and a second sweep: rows are locked (skipping locked ones), and a job queued again
    gets a fresh heartbeat, so the next sweep leaves it to the worker."""
    cutoff = timezone.now() - timedelta(seconds=stale_after_seconds)
    stale = Job.objects.select_for_update(skip_locked=True).filter(
        status__in=UNFINISHED_STATUSES, heartbeat_at__lt=cutoff
    )
    recovered = Recovered()
    for job in stale.order_by("id"):
        kind = KINDS.get(job.kind)
        if kind is None:
            _finish(job.pk, JobStatus.FAILED, error=f"No worker knows how to run a job of kind {job.kind!r}.")
            recovered.failed.append(job.pk)
        elif job.status == JobStatus.RUNNING and job.cancel_requested_at is not None:
            _finish(job.pk, JobStatus.CANCELLED, message="Cancelled: its worker stopped while it was cancelling.")
        elif job.status == JobStatus.RUNNING and not kind.idempotent:
            _finish(job.pk, JobStatus.FAILED, error="The worker running this job stopped (lost).")
            recovered.failed.append(job.pk)
        elif job.status == JobStatus.RUNNING and job.attempts >= max_attempts:
            _finish(job.pk, JobStatus.FAILED, error=f"The worker running this job was lost {job.attempts} times.")
            recovered.failed.append(job.pk)
        else:
            message = "Queued again: its worker was lost." if job.status == JobStatus.RUNNING else job.message
            Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, heartbeat_at=timezone.now(), message=message)
            transaction.on_commit(partial(_send, job.pk, kind.queue))
            recovered.requeued.append(job.pk)
    return recovered
