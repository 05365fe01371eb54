"""SAM on this server: installing a checkpoint (verify, copy, export to ONNX, parity, record, activate) and
embedding images ahead of the first click (`assist_embeddings` jobs, started when images are ingested).

Files, under DEFECTLAB_SAM_DIR:

    <model id>/<model id>.pt                the checkpoint, copied (the admin's file may be on a USB stick)
    <model id>/<model id>.encoder.onnx      beside it, as assist/sam/onnx_export.onnx_files_for names them
    <model id>/<model id>.decoder.onnx
    <model id>/<model id>.decoder.int8.onnx
    active.json                             the installed model (assist/engines/sam.py reads it), written last

An install is exported in a temporary folder and renamed into place only once parity holds: a failed install
leaves the installed model, its files and the other engines as they were.
"""

import io
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import Image, Project
from annotation.permissions import Capability
from annotation.selectors import image_get_for_user
from assist.engines.base import engine_get
from assist.engines.sam import ENGINE_NAME, MANIFEST_NAME, SamManifest, sam_manifest, sam_unavailable_reason
from assist.errors import SamNotInstalled
from assist.models import SamInstallation
from assist.services.pixels import image_pixels
from defectlab.errors import NotFound, ValidationFailed
from defectlab.jobs.context import JobContext
from defectlab.jobs.models import Job
from defectlab.jobs.services import job_start

if TYPE_CHECKING:
    from assist.engines.sam import Region, SamEngine
    from assist.sam.checkpoints import ModelType

logger = logging.getLogger(__name__)
EMBEDDINGS_JOB_KIND = "assist_embeddings"
SAM_NOT_INSTALLED = "SAM not installed: nothing to embed."


class SamInstallFailed(Exception):
    """The checkpoint loaded but its ONNX export does not agree with PyTorch: not installed."""


@dataclass(frozen=True)
class SamInstallResult:
    installation: SamInstallation
    warning: str | None  # the checkpoint is not confirmed official (printed for the admin)


def sam_install(*, checkpoint_path: Path | str, model_type: str, installed_by: str) -> SamInstallResult:
    """Install `checkpoint_path` as the active SAM model. Raises CheckpointError (missing, damaged, wrong model
    type: the admin's sentence in `.message`) or SamInstallFailed (parity); nothing changes then."""
    from assist.sam.checkpoints import checkpoint_load, checkpoint_verify  # local: torch, for installs only
    from assist.sam.onnx_export import onnx_files_for, sam_onnx_export

    checkpoint = checkpoint_verify(checkpoint_path, cast("ModelType", model_type))
    model = checkpoint_load(checkpoint.path, cast("ModelType", model_type))
    sam_dir = Path(settings.DEFECTLAB_SAM_DIR)
    sam_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".installing-{checkpoint.model_id}-", dir=sam_dir))
    try:
        staged = staging / f"{checkpoint.model_id}.pt"
        shutil.copyfile(checkpoint.path, staged)
        report = sam_onnx_export(model, onnx_files_for(staged))
        report_json = report.to_json()  # before the rename: it reads the files' sizes
        if not report.parity.is_within_bounds:
            raise SamInstallFailed(
                f"The ONNX export of {checkpoint.path.name} does not agree with PyTorch "
                f"(parity report: {json.dumps(report_json)}): not installed. Check the onnxruntime and torch "
                "versions against requirements.txt."
            )
        final = sam_dir / checkpoint.model_id
        if final.exists():  # the same weights installed again: the new export replaces the old one
            shutil.rmtree(final)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    files = onnx_files_for(final / f"{checkpoint.model_id}.pt")
    manifest = SamManifest(
        model_id=checkpoint.model_id,
        model_type=model_type,
        encoder=files.encoder,
        decoder=files.decoder,
        decoder_int8=files.decoder_int8,
    )
    export_json = report_json | {name: str(path) for name, path in vars(files).items()}
    installation = _record(
        checkpoint_json=checkpoint.to_json(),
        export_json=export_json,
        manifest=manifest,
        checkpoint_file=final / f"{checkpoint.model_id}.pt",
        is_official=checkpoint.is_official,
        warning=checkpoint.warning or "",
        installed_by=installed_by,
    )
    # After the row's transaction: the engine switches only to a recorded installation.
    _manifest_write(manifest)
    return SamInstallResult(installation=installation, warning=checkpoint.warning)


@transaction.atomic
def _record(
    *,
    checkpoint_json: dict[str, Any],
    export_json: dict[str, Any],
    manifest: SamManifest,
    checkpoint_file: Path,
    is_official: bool,
    warning: str,
    installed_by: str,
) -> SamInstallation:
    SamInstallation.objects.select_for_update().filter(is_active=True).update(is_active=False)
    return SamInstallation.objects.create(
        model_type=manifest.model_type,
        model_id=manifest.model_id,
        sha256=checkpoint_json["sha256"],
        is_official=is_official,
        warning=warning,
        files={
            "checkpoint": str(checkpoint_file),
            "encoder": str(manifest.encoder),
            "decoder": str(manifest.decoder),
            "decoder_int8": str(manifest.decoder_int8),
        },
        report={"checkpoint": checkpoint_json, "export": export_json},
        is_active=True,
        installed_by=installed_by,
    )


def _manifest_write(manifest: SamManifest) -> None:
    sam_dir = Path(settings.DEFECTLAB_SAM_DIR)
    handle, temporary = tempfile.mkstemp(prefix=f".{MANIFEST_NAME}.", dir=sam_dir)
    with os.fdopen(handle, "w") as out:
        json.dump(manifest.to_json(), out, indent=2)
    os.replace(temporary, sam_dir / MANIFEST_NAME)  # readers see the old model or the new one, never half


def sam_installation_active() -> SamInstallation | None:
    return SamInstallation.objects.filter(is_active=True).first()


# Embeddings ahead of the first click


def sam_embeddings_start(*, project_id: int, image_ids: list[int]) -> Job:
    """Start an `assist_embeddings` job for freshly ingested images (the IMAGES_INGESTED handler)."""
    return job_start(
        kind=EMBEDDINGS_JOB_KIND,
        project=Project.objects.get(pk=project_id),
        created_by=None,
        params={"image_ids": list(image_ids)},
        progress_total=len(image_ids),
    )


def sam_embeddings_run(*, job: JobContext) -> dict[str, Any]:
    """Embed each image of the job (whole images up to DEFECTLAB_SAM_TILE_PX a side; larger ones are embedded
    region by region when the editor asks). Safe to run again: cached embeddings are found, not recomputed."""
    reason = sam_unavailable_reason()
    if reason is not None:
        return {"message": SAM_NOT_INSTALLED, "reason": reason, "embedded": 0, "cached": 0, "skipped_large": 0}
    sam = cast("SamEngine", engine_get(ENGINE_NAME))
    image_ids = [int(image_id) for image_id in job.params.get("image_ids", [])]
    counts = {"embedded": 0, "cached": 0, "skipped_large": 0, "missing": 0}
    images = {image.pk: image for image in Image.objects.filter(pk__in=image_ids)}
    for done, image_id in enumerate(image_ids):
        job.check_cancelled()
        job.progress(done, len(image_ids), message=f"Embedding image {done + 1} of {len(image_ids)}")
        image = images.get(image_id)
        if image is None:
            counts["missing"] += 1
        elif max(image.width, image.height) > settings.DEFECTLAB_SAM_TILE_PX:
            counts["skipped_large"] += 1
        else:
            was_cached = sam.embedding_is_cached(image_sha256=image.sha256)
            sam.embedding(image_pixels(image), image_sha256=image.sha256)
            counts["cached" if was_cached else "embedded"] += 1
    return {"message": f"{counts['embedded']} embedded, {counts['cached']} already cached.", **counts}


# The browser's share: embeddings and the int8 decoder


@dataclass(frozen=True)
class EmbeddingBytes:
    npy: bytes  # float16 (1, 256, 64, 64), numpy's .npy format
    model_id: str
    image_sha256: str


def _installed(model_id: str | None) -> SamManifest:
    manifest = sam_manifest()
    reason = sam_unavailable_reason()
    if manifest is None or reason is not None:
        raise SamNotInstalled(reason or "SAM is not installed.")
    if model_id is not None and model_id != manifest.model_id:
        raise NotFound(f"No SAM model {model_id!r} here; the installed one is {manifest.model_id!r}.")
    return manifest


def sam_embedding_for_user(
    *, user: User, image_id: int, region: tuple[int, ...] | None, model_id: str | None
) -> EmbeddingBytes:
    """The image's embedding (of `region`, x, y, width, height) for the browser's decoder: from the cache, or
    computed now (~1 s). NotFound for an image the user may not see, SamNotInstalled, ValidationFailed for a
    region that leaves the image."""
    # As drawing is checked (the browser decodes clicks with it): 404 unseen, 403 a role that does not label.
    image, _ = image_get_for_user(user=user, image_id=image_id, capability=Capability.LABEL)
    manifest = _installed(model_id)
    if region is not None:
        x, y, width, height = region
        if width < 1 or height < 1 or x + width > image.width or y + height > image.height:
            raise ValidationFailed(f"Region {list(region)} (x, y, width, height) leaves the image.")
    elif max(image.width, image.height) > settings.DEFECTLAB_SAM_TILE_PX:
        raise ValidationFailed(
            f"The image is larger than {settings.DEFECTLAB_SAM_TILE_PX} px: ask for the region being viewed.",
            limit="DEFECTLAB_SAM_TILE_PX",
        )
    sam = cast("SamEngine", engine_get(ENGINE_NAME))
    embedded = sam.embedding(image_pixels(image), image_sha256=image.sha256, region=cast("Region | None", region))
    buffer = io.BytesIO()
    np.save(buffer, embedded.embedding.astype(np.float16), allow_pickle=False)
    return EmbeddingBytes(npy=buffer.getvalue(), model_id=manifest.model_id, image_sha256=image.sha256)


def sam_decoder_int8_path(*, model_id: str | None) -> tuple[str, Path]:
    """The installed model's id and its int8 decoder file (SamNotInstalled; NotFound for another model id)."""
    manifest = _installed(model_id)
    if not manifest.decoder_int8.is_file():
        raise SamNotInstalled("SAM's int8 decoder file is missing: install the checkpoint again.")
    return manifest.model_id, manifest.decoder_int8
