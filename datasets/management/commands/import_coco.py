import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotation.models import Project
from datasets.importers.coco import CocoFormatError
from datasets.services.coco_import import coco_archive_import, coco_import


class Command(BaseCommand):
    help = (
        "Import COCO instances annotations into a project: a .json onto the project's images, or a zip or folder "
        "(a COCO export with its images) with the images. Classes are matched by name; unknown ones are reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("path", help="instances .json, or a zip or folder with annotations/*.json and images")

    def handle(self, *args, project: str, path: str, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{path} does not exist.")
        try:
            if source.is_file() and source.suffix.lower() == ".json":
                summary = coco_import(project=target, data=source.read_bytes(), actor=None)
            else:
                summary = coco_archive_import(project=target, path=source, actor=None)
        except CocoFormatError as error:
            raise CommandError(f"{path}: {error}") from None
        self.stdout.write(json.dumps(summary.as_dict(), indent=2))
