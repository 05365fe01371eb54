from celery import shared_task
from django.conf import settings


@shared_task(acks_late=True)
def job_run_task(job_id: int) -> None:
    from defectlab.jobs.services import job_run  # local: the services send this task

    # Runs any kind. A failure is recorded on the job (failed, with its reason), not retried; a lost worker's
    # job is found by jobs_recover_task. A second delivery of one job does nothing (job_run claims it first).
    job_run(job_id=job_id)


@shared_task
def jobs_recover_task() -> None:
    """Run by Celery beat every minute: jobs whose worker was lost are queued again, or failed."""
    from defectlab.jobs.services import jobs_recover  # local: the services send tasks

    jobs_recover(
        stale_after_seconds=settings.DEFECTLAB_JOB_STALE_SECONDS, max_attempts=settings.DEFECTLAB_JOB_MAX_ATTEMPTS
    )
