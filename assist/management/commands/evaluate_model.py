"""python manage.py evaluate_model MODEL --data DIR   (MODEL: a model id, or `latest`)"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assist.models import ModelKind, TrainedModel
from assist.selectors import trained_model_latest
from assist.services.evaluation import predictor_evaluate, samples_in_model_classes, version_samples
from assist.services.models import model_predictor
from datasets.models import DatasetVersion
from defectlab.errors import DomainError


class Command(BaseCommand):
    help = (
        "Evaluate a trained model (its fp32 ONNX, as deployed) on a folder in the magnetic-tile layout "
        "(CLASS/NAME.jpg + NAME.png masks, free/ for defect-free images) or on a dataset version's test split. "
        "The last line is the metrics as one JSON object."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", help="a model id, or `latest`: the newest finished model of any project")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--data", type=Path, help="a folder in the magnetic-tile layout")
        source.add_argument("--dataset-version", type=int, help="a dataset version id: its test split")

    def handle(self, *args, model: str, data: Path | None, dataset_version: int | None, **options):
        found = self._model(model)
        try:
            predictor = model_predictor(found)
            if data is not None:
                from assist.training.samples import samples_read_folder

                if not data.is_dir():
                    raise CommandError(f"{data} is not a folder.")
                samples, classes = samples_read_folder(data)
            else:
                frozen = DatasetVersion.objects.filter(pk=dataset_version or 0).first()
                if frozen is None:
                    raise CommandError(f"No dataset version {dataset_version}.")
                splits, classes = version_samples(frozen, splits=["test"])
                samples = splits["test"]
            if not samples:
                raise CommandError("No images to evaluate.")
            samples = samples_in_model_classes(samples, classes, predictor.defect_classes)
        except DomainError as error:
            raise CommandError(error.message) from None
        metrics, _ = predictor_evaluate(predictor, samples)
        metrics["model_id"] = found.pk
        metrics["images"] = len(samples)
        self.stderr.write(f"model {found.pk} on {len(samples)} images")
        self.stdout.write(json.dumps(metrics))

    def _model(self, model: str) -> TrainedModel:
        if model == "latest":
            latest = trained_model_latest()
            if latest is None:
                raise CommandError("No finished model yet.")
            return latest
        if not model.isdigit():
            raise CommandError("MODEL is a model id or `latest`.")
        found = TrainedModel.objects.select_related("run").filter(pk=int(model)).first()
        if found is None:
            raise CommandError(f"No model {model}.")
        if found.kind == ModelKind.INTERACTIVE:
            raise CommandError(
                f"Model {model} is an interactive model: score it with bench/assist_quality.py --interactive-model "
                "FILE, or its evaluation job on a version (POST /api/v1/models/{id}/evaluations/)."
            )
        return found
