from django.apps import AppConfig


class QaConfig(AppConfig):
    name = "qa"
    verbose_name = "QA"

    def ready(self) -> None:
        from annotation.events import FINAL_ANNOTATION_EDITED, FINAL_ANSWER_DOUBTED, IMAGE_SUBMITTED, TAXONOMY_CHANGED
        from qa import tasks

        # QA turns submitted work into final annotations and keeps them true to the taxonomy.
        IMAGE_SUBMITTED.subscribe(tasks.image_submitted_task)
        FINAL_ANNOTATION_EDITED.subscribe(tasks.final_annotation_edited_task)
        TAXONOMY_CHANGED.subscribe(tasks.taxonomy_change_review_task)
        # A doubted final answer (e.g. the assist's label-error review) becomes a consensus review.
        FINAL_ANSWER_DOUBTED.subscribe(tasks.final_answer_doubted_task)
