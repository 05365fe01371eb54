from celery import shared_task
from django.conf import settings


@shared_task(acks_late=True)
def import_job_run_task(job_id: int) -> None:
    from datasets.services.jobs import import_job_run  # local: the service enqueues this task

    # Redelivered after a lost worker (acks_late), it carries on: content already stored counts as duplicates.
    # Other failures mark the job failed with the reason; they are not retried.
    import_job_run(job_id=job_id)


@shared_task(acks_late=True)
def dataset_export_run_task(export_id: int) -> None:
    from datasets.services.exports import dataset_export_run  # local: the service enqueues this task

    # Redelivered after a lost worker (acks_late), it builds the file again: only a complete file is stored.
    # Other failures mark the export failed with the reason; they are not retried (a new request retries).
    dataset_export_run(export_id=export_id)


@shared_task
def import_jobs_recover_task() -> None:
    """Run by Celery beat every minute: imports whose worker died are queued again."""
    from datasets.services.jobs import import_jobs_recover  # local: the service enqueues tasks

    import_jobs_recover(stale_after_seconds=settings.DEFECTLAB_JOB_STALE_SECONDS)
