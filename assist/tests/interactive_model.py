"""A promoted interactive model for the serving tests, with a real exported ONNX file in its run's folder.

The network is the recipe's real architecture (64 px crops, a slim decoder) with random weights, its prompt filters
drawn too (`PROMPT_FILTER_SCALE`): an untrained network's prompt filters are zero, so it would ignore the box, the
clicks and the previous mask, and a test could not tell whether they reach it. Such a model draws no defect well;
these tests check the wiring (the file, the engine, the previous mask, the editor's preference), and the quality
figures are whatever `metrics` says, as a run would have recorded them. The training itself is tested through
the worker (tests/test_interactive_training_worker.py)."""

import functools
from pathlib import Path
from typing import Any

from annotation.models import Image, ImageStatus, Project
from assist.interactive.recipe import InteractiveRecipe
from assist.job_kinds import TRAINING_JOB_KIND
from assist.models import ModelKind, TrainedModel, TrainingRun
from assist.services.models import INTERACTIVE_MODEL_FILES, run_folder
from assist.tests.factories import spotted_image_create
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from defectlab.jobs.services import job_create

RECIPE_FIELDS = {"crop_size_px": 64, "decoder_channels": (16, 16, 16, 16, 16), "pretrained": False, "steps": 1}
PROMPT_FILTER_SCALE = 3.0
SEED = 0


def quality(box_mean_iou: float, noc85: float) -> dict[str, Any]:
    """Benchmark scores as a run records them (the keys assist_quality reads, and a few more)."""
    return {
        "box_mean_iou": box_mean_iou,
        "per_class_iou": {"crack": box_mean_iou},
        "noc85": noc85,
        "noc90": 20.0,
        "box_noc85": noc85,
        "box_noc90": 20.0,
        "regions": 4,
    }


@functools.cache
def _onnx_bytes() -> bytes:
    import tempfile

    import torch

    from assist.interactive.export import onnx_export
    from assist.interactive.inference import CropGeometry
    from assist.interactive.network import IMAGE_CHANNELS, network_build

    recipe = InteractiveRecipe(**RECIPE_FIELDS)  # type: ignore[arg-type]
    torch.manual_seed(SEED)
    net = network_build(recipe)
    with torch.no_grad():
        stem = net.unet.encoder.model.conv_stem
        stem.weight[:, IMAGE_CHANNELS:] = torch.randn_like(stem.weight[:, IMAGE_CHANNELS:]) * PROMPT_FILTER_SCALE
    with tempfile.TemporaryDirectory() as folder:
        path = onnx_export(net, Path(folder) / "model.onnx", geometry=CropGeometry.of(recipe))
        return path.read_bytes()


def interactive_model_create(
    *, project: Project, admin: Any, metrics: dict[str, Any], is_promoted: bool = True
) -> TrainedModel:
    """An interactive model of `project` (its run on a one-image version), its ONNX file on disk."""
    image = spotted_image_create(project=project, spots=[(20, 20, 10)], name=f"version-{project.pk}.png", seed=7)
    Image.objects.filter(pk=image.pk).update(status=ImageStatus.FINAL, is_defect_free=True)
    version = dataset_version_freeze(
        project=project,
        name=f"interactive-{TrainingRun.objects.count() + 1}",
        created_by=None,
        options=FreezeOptions(split_ratios=(("train", 1.0), ("val", 0.0), ("test", 0.0))),
    )
    run = TrainingRun.objects.create(
        project=project,
        kind=ModelKind.INTERACTIVE,
        dataset_version=version,
        content_hash=version.content_hash,
        recipe=InteractiveRecipe(**RECIPE_FIELDS).to_dict(),  # type: ignore[arg-type]
        seed=SEED,
        code_version="test",
        job=job_create(kind=TRAINING_JOB_KIND, project=project, created_by=admin),
        created_by=admin,
    )
    folder = run_folder(run)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INTERACTIVE_MODEL_FILES["onnx_fp32"]).write_bytes(_onnx_bytes())
    return TrainedModel.objects.create(
        project=project,
        run=run,
        kind=ModelKind.INTERACTIVE,
        defect_classes=list(project.defect_classes.values_list("name", flat=True)),
        metrics={**metrics, "split": "test"},
        validation_metrics={},
        decision={},
        parity={},
        files={"onnx_fp32": f"runs/{run.pk}/model.onnx"},
        is_promoted=is_promoted,
    )
