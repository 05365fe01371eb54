import shutil

from django.core.management.base import BaseCommand, CommandError

from annotation.models import Project
from datasets import storage
from datasets.errors import ExportNotReady
from datasets.exporters.registry import exporter_names
from datasets.selectors import dataset_version_get_by_name
from datasets.services.exports import dataset_export_build
from defectlab.errors import NotFound, ValidationFailed


class Command(BaseCommand):
    help = "Write a dataset version's export (a zip) to a file; a cached export is copied, not built again."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("version", help="the version's name")
        parser.add_argument("--format", required=True, choices=exporter_names(), dest="export_format")
        parser.add_argument("--with-images", action="store_true", help="put the original images in the zip")
        parser.add_argument("--out", required=True, help="file to write (the zip)")

    def handle(self, *args, project: str, version: str, export_format: str, with_images: bool, out: str, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        try:
            frozen = dataset_version_get_by_name(project=target, name=version)
            export = dataset_export_build(version=frozen, export_format=export_format, with_images=with_images)
        except (NotFound, ValidationFailed, ExportNotReady) as error:
            raise CommandError(error.message) from None
        with storage.open_key(export.file_key) as source, open(out, "wb") as destination:
            shutil.copyfileobj(source, destination, 1024 * 1024)
        self.stdout.write(f"{out} {export.size_bytes} bytes sha256 {export.sha256}")
