"""The core's periodic tasks (CELERY_BEAT_SCHEDULE): thin, one service call."""

from celery import shared_task


@shared_task(acks_late=True)
def counts_compact_task() -> None:
    from annotation.services.counts import counts_compact  # local: keeps the worker's import of tasks light

    # Safe to re-run, and to run twice at once: each run folds only the rows it deleted.
    counts_compact()
