"""One command for a fresh machine: database, demo data, a worker and the web server, on embedded defaults."""

import subprocess

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from defectlab.celery import worker_command


class Command(BaseCommand):
    help = "Migrate, seed the demo project, start a Celery worker and serve DefectLab on http://127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--data", default=None, help="magnetic-tile folder for the demo (default: ../shared)")

    def handle(self, *args, addr: str, data: str | None, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", *(["--data", data] if data else []))
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no user input
            # The demo's one worker also trains (a plant runs a worker of its own on the training queue).
            worker_command(
                pool="threads", concurrency=2, queues=f"celery,{settings.DEFECTLAB_TRAINING_QUEUE}", with_beat=True
            ),
            cwd=settings.BASE_DIR,
        )
        self.stdout.write(f"Worker started (pid {worker.pid}, broker {settings.CELERY_BROKER_URL}).")
        self.stdout.write(f"Open http://{addr}/ and log in as 'inspector', 'senior', 'mlengineer' or 'admin'.")
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
