"""python manage.py train PROJECT VERSION [--minutes M] [--epochs N] [--recipe NAME] [--seed S] [--wait | --here]"""

import ast
import time

from django.core.management.base import BaseCommand, CommandError

from annotation.models import Project
from assist.models import TrainingRun
from assist.services.training import training_recipe, training_run_progress_text, training_run_start
from datasets.models import DatasetVersion
from datasets.selectors import dataset_version_get_by_name
from defectlab.errors import DomainError
from defectlab.jobs.models import UNFINISHED_STATUSES, JobStatus
from defectlab.jobs.services import job_run

WAIT_POLL_SECONDS = 5.0


def _change(text: str) -> tuple[str, object]:
    field, _, value = text.partition("=")
    try:
        return field.strip(), ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return field.strip(), value


class Command(BaseCommand):
    help = (
        "Train a segmentation model on a dataset version: a training_run job on the training queue (a worker with "
        "-Q training takes it), or in this process with --here. Prints the run id; --wait follows it to its end."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("version", help="dataset version name (or number)")
        parser.add_argument("--minutes", type=float, help="wall-clock training budget (default: the recipe's)")
        parser.add_argument("--epochs", type=int, help="epoch budget (with --minutes: whichever ends first)")
        parser.add_argument("--recipe", help="a named recipe (default: unet-lite0; interactive: click-and-box)")
        parser.add_argument("--seed", type=int, help="training seed (default: the recipe's)")
        parser.add_argument(
            "--set",
            dest="changes",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="change a recipe field (a Python literal), e.g. --set crop_size_px=256; repeatable",
        )
        parser.add_argument("--wait", action="store_true", help="follow the run until it ends")
        parser.add_argument("--here", action="store_true", help="train in this process instead of on a worker")

    def handle(self, *args, project: str, version: str, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None:
            raise CommandError(f"No project with slug {project!r}.")
        frozen: DatasetVersion | None
        try:
            frozen = dataset_version_get_by_name(project=target, name=version)
        except DomainError:
            frozen = target.dataset_versions.filter(number=int(version)).first() if version.isdigit() else None
        if frozen is None:
            raise CommandError(f"Project {project!r} has no dataset version {version!r}.")
        try:
            recipe = training_recipe(
                recipe_name=options["recipe"],
                minutes=options["minutes"],
                epochs=options["epochs"],
                seed=options["seed"],
                changes=dict(_change(text) for text in options["changes"]),
            )
            run = training_run_start(
                user=None, project_id=target.pk, version_id=frozen.pk, recipe=recipe, to_worker=not options["here"]
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"training run {run.pk} (job {run.job_id}) on {target.slug} {frozen.name}")
        if options["here"]:
            job_run(job_id=run.job_id)
        elif options["wait"]:
            self._follow(run)
        run = TrainingRun.objects.select_related("job").get(pk=run.pk)
        if options["here"] or options["wait"]:
            self.stdout.write(training_run_progress_text(run))
            if run.job.status != JobStatus.SUCCEEDED:
                raise CommandError(run.job.error or f"The run ended {run.job.status}.")
            self.stdout.write(f"model {run.trained_model.pk}: {run.job.result}")

    def _follow(self, run: TrainingRun) -> None:
        last = ""
        while True:
            run = TrainingRun.objects.select_related("job").get(pk=run.pk)
            text = training_run_progress_text(run)
            if text != last:
                self.stdout.write(text)
                last = text
            if run.job.status not in UNFINISHED_STATUSES:
                return
            time.sleep(WAIT_POLL_SECONDS)
