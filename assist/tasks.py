"""The assist app's Celery tasks: thin, ids in, one service call. `images_ingested_embed_task` handles the core's
IMAGES_INGESTED event (annotation/events.py), subscribed in assist/apps.py."""

from celery import shared_task


@shared_task(acks_late=True)
def images_ingested_embed_task(project_id: int, image_ids: list[int]) -> None:
    from assist.services.sam import sam_embeddings_start  # local: services import the job framework

    # Safe to re-run: a second job finds the embeddings of the first in the cache.
    sam_embeddings_start(project_id=project_id, image_ids=image_ids)
