from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from annotation.models import Project
from datasets.services.imports import images_import
from datasets.sources import folder_entries, plan_sources


class Command(BaseCommand):
    help = "Import a folder of images into a project; with --masks, CLASS/NAME.png masks become annotations."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("path", help="folder of images (with --masks: one subfolder per defect class, free/)")
        parser.add_argument("--masks", action="store_true", help="import NAME.png masks beside NAME.jpg images")

    def handle(self, *args, project: str, path: str, masks: bool, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        root = Path(path)
        if not root.is_dir():
            raise CommandError(f"{path} is not a folder.")
        sources, rejections = plan_sources(folder_entries(root), with_masks=masks)
        summary = images_import(project=target, sources=sources)
        summary.rejected[:0] = rejections
        self.stdout.write(
            f"imported {summary.imported} images ({summary.annotations} annotations), "
            f"{summary.duplicates} duplicates, {len(summary.rejected)} rejected"
        )
        for rejection in summary.rejected:
            self.stdout.write(f"  rejected {rejection.filename}: {rejection.reason}")
