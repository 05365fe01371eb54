from django.core.management.base import BaseCommand, CommandError

from annotation.models import ImageStatus, Project
from datasets.models import DatasetVersion
from datasets.services.versions import FreezeOptions, dataset_version_freeze_start
from datasets.splits import SPLIT_NAMES
from defectlab.errors import ValidationFailed
from defectlab.jobs.models import JobStatus


class Command(BaseCommand):
    help = (
        "Freeze a project's final annotations (and defect-free images) as an immutable dataset version; "
        "prints the version's name and content hash."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug (the demo's is magnetic-tile)")
        parser.add_argument("name", help="the version's name, unique in the project (e.g. v3)")
        parser.add_argument("--seed", type=int, default=0, help="seeds the train/val/test split (default 0)")
        parser.add_argument("--classes", help="comma-separated defect classes to include (default: all)")
        parser.add_argument(
            "--statuses",
            default=ImageStatus.FINAL,
            help=f"comma-separated image statuses to include (default: final; of {', '.join(ImageStatus.values)})",
        )
        parser.add_argument(
            "--include-non-final", action="store_true", help="also take annotations not (yet) marked final"
        )
        parser.add_argument("--without-defect-free", action="store_true", help="leave defect-free images out")
        parser.add_argument("--split", default="70,15,15", help="train,val,test percentages (default 70,15,15)")

    def handle(self, *args, project: str, name: str, seed: int, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        try:
            percentages = [float(value) for value in options["split"].split(",")]
        except ValueError:
            raise CommandError("--split takes three numbers, e.g. 70,15,15") from None
        if len(percentages) != len(SPLIT_NAMES):
            raise CommandError("--split takes three numbers, e.g. 70,15,15")
        freeze_options = FreezeOptions(
            seed=seed,
            defect_classes=tuple(options["classes"].split(",")) if options["classes"] else None,
            image_statuses=tuple(options["statuses"].split(",")),
            final_annotations_only=not options["include_non_final"],
            include_defect_free=not options["without_defect_free"],
            split_ratios=tuple((split, value / 100) for split, value in zip(SPLIT_NAMES, percentages, strict=True)),
        )
        # The same job as the API's, run in this process: no worker needed, and the same checks and result.
        try:
            job = dataset_version_freeze_start(
                project=target, name=name, created_by=None, options=freeze_options, run_here=True
            )
        except ValidationFailed as error:
            raise CommandError(error.message) from None
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(job.error or f"The freeze ended {job.status}.")
        version = DatasetVersion.objects.get(pk=job.result["version_id"])
        self.stdout.write(f"{version.name} {version.content_hash}")
