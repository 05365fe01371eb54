from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class AssistConfig(AppConfig):
    name = "assist"
    verbose_name = "Assist"

    def ready(self) -> None:
        # Engines beyond the built-in ones register themselves when imported (assist/engines/base.py): a plant's
        # own detector, or a test's. Web processes and workers import the same list, so both know the engines.
        for module in settings.DEFECTLAB_ASSIST_ENGINE_MODULES:
            import_module(module)
        # Images arriving are embedded for SAM ahead of the first click (a no-op job while SAM is not installed).
        from annotation.events import IMAGES_INGESTED
        from assist import tasks

        IMAGES_INGESTED.subscribe(tasks.images_ingested_embed_task)
