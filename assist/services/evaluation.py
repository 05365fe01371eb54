"""Evaluating a model as it is deployed: the ONNX Predictor on a dataset version's test split or on a folder in the
magnetic-tile layout, with the metrics of assist/training/evaluate.py and pictures of the worst cases.

A version's images are read from its frozen manifest (the stored file, decoded by datasets.ingest, as the editor
shows it) and its masks painted from the stored RLEs (datasets' mask exporter's rendering), never from the live
tables: a version evaluated today and next year is the same data."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from django.contrib.auth.models import User
from django.db import transaction

from assist.job_kinds import EVALUATION_JOB_KIND
from assist.models import ModelKind, TrainedModel
from assist.permissions import AssistAction
from assist.selectors import trained_model_get_for_user
from datasets.exporters.rendering import label_maps
from datasets.ingest import read_grey
from datasets.manifest import manifest_read
from datasets.models import DatasetVersion
from datasets.storage import open_key, read_bytes
from defectlab.errors import NotFound, ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import Job
from defectlab.jobs.services import job_start

if TYPE_CHECKING:
    from assist.training.export import Predictor
    from assist.training.samples import Sample

WORST_SIDE_PX = 256  # each panel of a worst-case picture is scaled to this height
TRUTH_COLOUR = (0, 200, 0)  # BGR: green outlines the truth, red the prediction
PREDICTION_COLOUR = (0, 0, 230)


def version_classes(version: DatasetVersion) -> list[str]:
    """The version's defect classes in class-index order (index i + 1), as its manifest header lists them."""
    with open_key(version.manifest_key) as handle:
        header, _ = manifest_read(handle)
    return list(header["categories"])


def version_samples(
    version: DatasetVersion, *, splits: Sequence[str] | None = None, on_image: Callable[[int], None] | None = None
) -> tuple[dict[str, list["Sample"]], list[str]]:
    """({split: samples}, defect classes) of a frozen version; only `splits` when given. Each image is decoded
    from its stored file and its mask painted from the manifest's RLEs (class index i + 1 for class i)."""
    from assist.training.samples import Sample

    samples: dict[str, list[Sample]] = {"train": [], "val": [], "test": []}
    with open_key(version.manifest_key) as handle:
        header, images = manifest_read(handle)
        classes = list(header["categories"])
        class_index = {name: index for index, name in enumerate(classes, start=1)}
        for count, image in enumerate(images, start=1):
            if splits is not None and image["split"] not in splits:
                continue
            pixels = read_grey(read_bytes(image["file"]), image["file"])
            mask = np.zeros(pixels.shape, np.uint8) if image["is_defect_free"] else label_maps(image, class_index)[0]
            if mask.shape != pixels.shape:
                raise ValueError(f"{image['name']}: the manifest says {mask.shape}, the file is {pixels.shape}")
            samples.setdefault(image["split"], []).append(
                Sample(
                    image=pixels,
                    mask=mask,
                    image_id=image["sha256"],
                    name=image["name"],
                    is_defect_free=image["is_defect_free"],
                )
            )
            if on_image is not None:
                on_image(count)
    return samples, classes


def samples_in_model_classes(
    samples: Sequence["Sample"], data_classes: Sequence[str], model_classes: Sequence[str]
) -> list["Sample"]:
    """`samples` (masks in `data_classes` order) with their masks renumbered to the model's class order. A class
    the model does not know is refused (ValidationFailed): counting its defects as background would hide them."""
    from dataclasses import replace

    unknown = sorted(set(data_classes) - set(model_classes))
    if unknown:
        raise ValidationFailed(
            f"The data has defect classes the model was not trained on: {', '.join(unknown)}.", classes=unknown
        )
    if list(data_classes) == list(model_classes):
        return list(samples)
    lookup = np.zeros(256, np.uint8)
    for index, name in enumerate(data_classes, start=1):
        lookup[index] = model_classes.index(name) + 1
    return [replace(sample, mask=lookup[sample.mask]) for sample in samples]


def predictor_evaluate(
    predictor: "Predictor",
    samples: Sequence["Sample"],
    *,
    flip: bool = False,
    on_image: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """(metrics, predicted masks) of the Predictor on `samples` (masks in the model's class order), image by image
    as it is deployed: tiling, decision rule and minimum sizes included. The metrics are
    assist/training/evaluate.py's (JSON-ready)."""
    from assist.training.evaluate import Truth, evaluate

    masks, timings, cpu_timings = [], [], []
    for index, sample in enumerate(samples, start=1):
        output = predictor.predict(sample.image, flip=flip)
        masks.append(output.mask)
        timings.append(output.inference_ms)
        cpu_timings.append(output.inference_cpu_ms)
        if on_image is not None:
            on_image(index)
    truths = [
        Truth(image_id=sample.image_id, mask=sample.mask, is_defect_free=sample.is_defect_free) for sample in samples
    ]
    metrics = evaluate(
        truths,
        masks,
        predictor.defect_classes,
        min_area_px=predictor.decision.min_area_px,
        inference_ms=timings,
        inference_cpu_ms=cpu_timings,
    )
    metrics["score_threshold"] = predictor.decision.score_threshold
    names = {sample.image_id: sample.name for sample in samples}
    for row in metrics["worst_cases"]:
        row["name"] = names[row["image_id"]]
    return metrics, masks


def _panel(image: np.ndarray, mask: np.ndarray | None, colour: tuple[int, int, int]) -> np.ndarray:
    picture = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if mask is not None and mask.any():
        contours, _ = cv2.findContours((mask > 0).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        tint = picture.copy()
        tint[mask > 0] = colour
        picture = cv2.addWeighted(picture, 0.65, tint, 0.35, 0)
        cv2.drawContours(picture, contours, -1, colour, 1)
    scale = WORST_SIDE_PX / image.shape[0]
    size = (max(1, round(image.shape[1] * scale)), WORST_SIDE_PX)
    return cv2.resize(picture, size, interpolation=cv2.INTER_NEAREST if scale > 1 else cv2.INTER_AREA)


def worst_cases_draw(
    metrics: dict[str, Any], samples: Sequence["Sample"], masks: Sequence[np.ndarray], folder: Path
) -> None:
    """Write worst/NN.png for each of `metrics["worst_cases"]`: the image, the truth (green) and the prediction
    (red) side by side, each scaled to WORST_SIDE_PX high."""
    by_id = {sample.image_id: (sample, mask) for sample, mask in zip(samples, masks, strict=True)}
    folder.mkdir(parents=True, exist_ok=True)
    for index, row in enumerate(metrics["worst_cases"]):
        sample, mask = by_id[row["image_id"]]
        gap = np.full((WORST_SIDE_PX, 4, 3), 255, np.uint8)
        picture = np.hstack(
            [
                _panel(sample.image, None, TRUTH_COLOUR),
                gap,
                _panel(sample.image, sample.mask, TRUTH_COLOUR),
                gap,
                _panel(sample.image, mask, PREDICTION_COLOUR),
            ]
        )
        if not cv2.imwrite(str(folder / f"{index:02d}.png"), picture):
            raise OSError(f"could not write {folder / f'{index:02d}.png'}")


# The evaluation job


@transaction.atomic
def model_evaluation_start(*, user: User, model_id: int, version_id: int | None = None) -> Job:
    """Evaluate a model on a dataset version's test split (default: the version it was trained on), as a job whose
    result is the metrics. ML engineers and admins; 404 for a version of another project. A folder on the server
    is evaluated from the command line only (`manage.py evaluate_model MODEL --data DIR`)."""
    from django.conf import settings

    from assist.services.models import model_file_path

    model = trained_model_get_for_user(user=user, model_id=model_id, action=AssistAction.EVALUATE)
    model_file_path(model, "onnx_fp32")  # NotFound now rather than a failed job
    version_id = version_id if version_id is not None else model.run.dataset_version_id
    if not DatasetVersion.objects.filter(pk=version_id, project_id=model.project_id).exists():
        raise NotFound("No such dataset version in this model's project.")
    return job_start(
        kind=EVALUATION_JOB_KIND,
        project=model.project,
        created_by=user,
        params={"model_id": model.pk, "version_id": version_id},
        queue=settings.DEFECTLAB_EVALUATION_QUEUE,
    )


def model_evaluation_run(*, job: JobContext) -> dict[str, Any]:
    """The job: the model's Predictor on the version's test split; the metrics are its result."""
    from assist.services.models import model_file_path, model_predictor

    model = TrainedModel.objects.select_related("run").get(pk=job.params["model_id"])
    version = DatasetVersion.objects.get(pk=job.params["version_id"])
    job.progress(0, None, f"Reading the test split of {version.name}")
    splits, classes = version_samples(version, splits=["test"])
    if not splits["test"]:
        raise NotFound(f"The version {version.name!r} has no test images.")
    if model.kind == ModelKind.INTERACTIVE:  # scored as an assist engine: box IoU, clicks, beside the others
        from assist.services.interactive_training import interactive_model_score

        job.progress(0, None, f"Scoring model {model.pk} on {version.name} (box IoU, clicks to 85 and 90 %)")
        metrics = interactive_model_score(model_file_path(model, "onnx_fp32"), splits["test"], classes)
        return {
            "model_id": model.pk,
            "version_id": version.pk,
            "content_hash": version.content_hash,
            "metrics": metrics,
        }
    samples = samples_in_model_classes(splits["test"], classes, model.defect_classes)

    def progress(done: int) -> None:
        job.progress(done, len(samples), f"Evaluating model {model.pk} on {version.name}")
        job.check_cancelled()

    metrics, _ = predictor_evaluate(model_predictor(model), samples, on_image=progress)
    return {"model_id": model.pk, "version_id": version.pk, "content_hash": version.content_hash, "metrics": metrics}
