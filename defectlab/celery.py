import os
import sys

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "defectlab.settings")

app = Celery("defectlab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def worker_command(*, pool: str, concurrency: int, queues: str = "celery", with_beat: bool = False) -> list[str]:
    """argv that starts a DefectLab worker with this interpreter (used by rundemo and the integration tests).
    `with_beat` embeds the periodic scheduler (one per installation: the embedded demo has a single worker)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "defectlab",
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        f"--queues={queues}",
        *(["--beat"] if with_beat else []),
    ]


@worker_ready.connect
def _worker_heartbeat(sender=None, **kwargs) -> None:
    from defectlab.health import start_heartbeat  # local: needs Django set up, which the worker has done by now

    start_heartbeat(getattr(sender, "hostname", None))
