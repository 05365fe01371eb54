from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "defectlab.jobs"
    label = "jobs"
    verbose_name = "Jobs"

    def ready(self) -> None:
        # Each app's job_kinds.py registers its kinds; web processes and workers see the same registry.
        autodiscover_modules("job_kinds")
