from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from annotation.models import Image
from annotation.services.images import assignments_create
from datasets.demo import demo_project_seed
from datasets.services.imports import images_import
from datasets.sources import folder_entries, plan_sources

DEFAULT_DATA = settings.BASE_DIR.parent / "shared" / "data" / "magnetic-tile"
DEMO_QUEUE_SIZE = 12  # images put in each demo inspector's queue
WORK_EVERY = 10  # one image in ten is imported without its mask, as work to label


class Command(BaseCommand):
    help = (
        "Create the 'Magnetic tile' demo project, one user per role, and import the demo images with masks. "
        "Runs in DEBUG only unless --allow-production is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", default=str(DEFAULT_DATA), help="magnetic-tile folder (CLASS/NAME.jpg+png)")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed although DEBUG is off; new demo users then get random passwords, printed once",
        )

    def handle(self, *args, data: str, allow_production: bool, **options):
        # Demo users are accounts anyone who reads this code could guess: never made on a real site by accident.
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "seed_demo makes demo users (one is the demo project's admin) and runs only with DEFECTLAB_DEBUG=1. "
                "To seed the demo on this installation anyway, pass --allow-production: new demo users then get "
                "random passwords, printed once."
            )
        root = Path(data)
        if not root.is_dir():
            raise CommandError(f"Demo data not found at {root}; pass --data PATH.")
        project, credentials = demo_project_seed(random_passwords=not settings.DEBUG)
        sources, rejections = plan_sources(folder_entries(root), with_masks=True)
        # Every WORK_EVERY-th image comes in unlabelled: real work for the demo inspectors' queues.
        unlabelled = [
            replace(source, mask_read=None, mask_filename=None, defect_class_name=None, is_defect_free=False)
            for source in sources[::WORK_EVERY]
        ]
        labelled = [source for index, source in enumerate(sources) if index % WORK_EVERY]
        summary = images_import(project=project, sources=labelled + unlabelled)
        self.stdout.write(
            f"Project {project.name!r} (slug {project.slug}): imported {summary.imported} images "
            f"({summary.annotations} annotations), {summary.duplicates} duplicates, "
            f"{len(rejections) + len(summary.rejected)} rejected"
        )
        users = get_user_model().objects
        work = Image.objects.filter(project=project, annotations__isnull=True, is_defect_free=False)
        queue = list(work.order_by("id").values_list("id", flat=True)[:DEMO_QUEUE_SIZE])
        for username in ("inspector", "inspector2"):
            assignments_create(
                project=project,
                image_ids=queue,
                annotator=users.get(username=username),
                assigned_by=users.get(username="admin"),
            )
        self.stdout.write("Demo users (demo only; change or remove them on a real installation):")
        for username, password, role in credentials:
            self.stdout.write(f"  {username:<11} {password or '(existing user, password unchanged)':<22} {role}")
        self.stdout.write("None of them is a site administrator; `manage.py createsuperuser` makes one.")
