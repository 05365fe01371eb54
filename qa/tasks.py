"""QA's Celery tasks: thin, ids in, one service call. Four of them handle the core's events (annotation/events.py),
subscribed in qa/apps.py."""

from celery import shared_task


@shared_task(acks_late=True)
def image_submitted_task(image_id: int) -> None:
    from qa.services.agreements import image_submitted  # local: services enqueue tasks from this module

    # Safe to re-run: an image that is no longer `submitted` was handled already.
    image_submitted(image_id=image_id)


@shared_task(acks_late=True)
def taxonomy_change_review_task(defect_class_id: int, changes: list[str], before: dict, after: dict) -> None:
    from qa.services.re_reviews import re_reviews_flag

    # Safe to re-run: annotations already flagged for the same change are skipped.
    re_reviews_flag(defect_class_id=defect_class_id, changes=changes, before=before, after=after)


@shared_task(acks_late=True)
def spot_check_sample_release_task(sample_id: int) -> None:
    from qa.services.spot_checks import spot_check_sample_release

    # Safe to re-run: only images still `submitted` are made final.
    spot_check_sample_release(sample_id=sample_id)


@shared_task(acks_late=True)
def final_annotation_edited_task(audit_entry_id: int) -> None:
    from qa.services.final_edits import final_edit_record

    # Safe to re-run: an audit entry is recorded once.
    final_edit_record(audit_entry_id=audit_entry_id)


@shared_task(acks_late=True)
def final_answer_doubted_task(image_id: int, user_id: int, note: str) -> None:
    from qa.services.edge_cases import edge_case_open_for_doubt

    # Safe to re-run: the same open edge case is not opened twice.
    edge_case_open_for_doubt(image_id=image_id, user_id=user_id, note=note)


@shared_task(acks_late=True)
def qa_statistics_refresh_task() -> None:
    from qa.services.statistics import qa_statistics_refresh_all

    # Periodic (CELERY_BEAT_SCHEDULE); safe to re-run: each run replaces the snapshots with newer ones.
    qa_statistics_refresh_all()
