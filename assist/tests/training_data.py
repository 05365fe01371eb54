"""A small real dataset version for the training-run tests: a few magnetic-tile images per folder, imported with
their masks into the team's project (one defect class per folder) and frozen with a fixed split seed.

TINY_RECIPE keeps a run to a few seconds on a shared CPU (64 px crops, batches of 2, a slim decoder, 2 steps),
still the real Lite0 U-Net with its ImageNet encoder."""

import shutil
from pathlib import Path

from annotation.models import DefectClass, GeometryKind, Project
from assist.interactive.recipe import InteractiveRecipe
from assist.training.recipe import Recipe
from datasets.models import DatasetVersion
from datasets.services.imports import images_import
from datasets.services.versions import FreezeOptions, dataset_version_freeze
from datasets.sources import folder_entries, plan_sources

TINY_RECIPE = Recipe(
    budget_seconds=None,
    epochs=1,
    steps_per_epoch=2,
    batch_size=2,
    crop_size_px=64,
    decoder_channels=(16, 16, 16, 16, 16),
    validate_every_epochs=1,
)
TINY_INTERACTIVE_RECIPE = InteractiveRecipe(
    budget_seconds=None,
    steps=2,
    batch_size=2,
    crop_size_px=64,
    decoder_channels=(16, 16, 16, 16, 16),
    validate_every_steps=2,
    validation_max_clicks=2,
    checkpoint_every_steps=1,
    bn_recalibration_batches=2,
)
"The interactive recipe at the same scale: 2 steps of 2 crops of 64 px, validated once on 2-click NoC."
SPLIT = (("train", 0.5), ("val", 0.25), ("test", 0.25))


def tile_version(
    project: Project, data: Path, scratch: Path, *, per_folder: int = 4, name: str = "v1"
) -> DatasetVersion:
    """Copy the first `per_folder` images (and masks) of each class folder of `data` under `scratch`, import them
    into `project` (creating the classes it lacks) and freeze them, defect-free images included."""
    for folder in sorted(path for path in data.iterdir() if path.is_dir()):
        images = sorted(folder.glob("*.jpg"))[:per_folder]
        if not images:
            continue
        (scratch / folder.name).mkdir(parents=True, exist_ok=True)
        for image in images:
            for path in (image, image.with_suffix(".png")):
                if path.exists():
                    shutil.copyfile(path, scratch / folder.name / path.name)
        if folder.name != "free":
            kind = GeometryKind.LINEAR if folder.name == "crack" else GeometryKind.AREA
            DefectClass.objects.get_or_create(project=project, name=folder.name, defaults={"geometry_kind": kind})
    sources, _ = plan_sources(folder_entries(scratch), with_masks=True)
    images_import(project=project, sources=sources)
    return dataset_version_freeze(
        project=project,
        name=name,
        created_by=None,
        options=FreezeOptions(include_defect_free=True, split_ratios=SPLIT, seed=0),
    )
