"""SAM checkpoints: the official files, checking a file an admin brings, loading it, and downloading it.

A checkpoint is a plain PyTorch state_dict (every official SAM and MobileSAM file is one). It is loaded with
`weights_only=True`, so a file that would run code when unpickled is refused, and strictly, so a file for another
model type or a damaged one never half-loads. Each failure raises CheckpointError with a sentence for the admin
who installs models and a stable `reason` for the code that shows it.

This plant has no internet access: `checkpoint_download` is for machines that have; here it fails at once with
what to do instead (download elsewhere, copy the file, install it by path).
"""

import hashlib
import http.client
import os
import pickle
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import torch

ModelType = Literal["vit_t", "vit_b", "vit_l", "vit_h"]
MODEL_TYPES: tuple[ModelType, ...] = ("vit_t", "vit_b", "vit_l", "vit_h")
INSTALL_COMMAND = "python manage.py sam_install PATH --model-type {model_type}"  # what the admin runs with the file
DOWNLOAD_TIMEOUT_SECONDS = 30.0  # per network operation (connect, each read), not for the whole file
HASH_CHUNK_BYTES = 8 * 1024 * 1024  # read size while hashing: a 2.5 GB vit_h never sits in memory at once
CheckpointErrorReason = Literal[
    "missing", "damaged", "not_weights", "wrong_model_type", "checksum_mismatch", "offline", "download_failed"
]


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with a message for the admin installing it."""

    code = "sam_checkpoint_unusable"

    def __init__(self, message: str, *, reason: CheckpointErrorReason) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


@dataclass(frozen=True)
class OfficialCheckpoint:
    model_type: ModelType
    name: str  # as the admin sees it
    filename: str  # the file's name where its authors publish it
    url: str
    size_bytes: int
    sha256: str | None  # None: not known for certain here, so the file is accepted as "unknown" with a warning
    license: str


# The sha256 values were cross-checked against several independent public projects that pin these files (the same
# digest in each), and the sizes likewise. Meta's filenames carry the first 6 hex digits of the file's *MD5*, not
# of its sha256 (sam_vit_b_01ec64.pth: MD5 01ec64d2..., sha256 ec2df627...), so the name is no check of the sha256.
OFFICIAL_CHECKPOINTS: dict[ModelType, OfficialCheckpoint] = {
    checkpoint.model_type: checkpoint
    for checkpoint in (
        OfficialCheckpoint(
            model_type="vit_t",
            name="MobileSAM (TinyViT encoder)",
            filename="mobile_sam.pt",
            url="https://github.com/ChaoningZhang/MobileSAM/raw/master/weights/mobile_sam.pt",
            size_bytes=40_728_226,
            sha256="6dbb90523a35330fedd7f1d3dfc66f995213d81b29a5ca8108dbcdd4e37d6c2f",
            license="Apache-2.0",
        ),
        OfficialCheckpoint(
            model_type="vit_b",
            name="Segment Anything ViT-B",
            filename="sam_vit_b_01ec64.pth",
            url="https://dl.fbaipublicfiles.com/segment_anything/sam_vit_b_01ec64.pth",
            size_bytes=375_042_383,
            sha256="ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
            license="Apache-2.0",
        ),
        OfficialCheckpoint(
            model_type="vit_l",
            name="Segment Anything ViT-L",
            filename="sam_vit_l_0b3195.pth",
            url="https://dl.fbaipublicfiles.com/segment_anything/sam_vit_l_0b3195.pth",
            size_bytes=1_249_524_607,
            sha256="3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
            license="Apache-2.0",
        ),
        OfficialCheckpoint(
            model_type="vit_h",
            name="Segment Anything ViT-H",
            filename="sam_vit_h_4b8939.pth",
            url="https://dl.fbaipublicfiles.com/segment_anything/sam_vit_h_4b8939.pth",
            size_bytes=2_564_550_879,
            sha256="a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
            license="Apache-2.0",
        ),
    )
}

# Tensors that tell the model types apart without building a model: MobileSAM's TinyViT starts with a conv stem,
# Meta's ViTs have a positional embedding whose last axis is the encoder width.
_TINY_VIT_KEY = "image_encoder.patch_embed.seq.0.c.weight"
_VIT_POSITION_KEY = "image_encoder.pos_embed"
_VIT_WIDTH_TO_TYPE: dict[int, ModelType] = {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}


@dataclass(frozen=True)
class CheckpointReport:
    path: Path
    model_type: ModelType
    size_bytes: int
    sha256: str
    official: OfficialCheckpoint | None  # the official file this one is, byte for byte; None: unknown file
    warning: str | None  # for the admin, when the file is accepted but is not a known official one

    @property
    def is_official(self) -> bool:
        return self.official is not None

    @property
    def model_id(self) -> str:
        """Names these weights in caches and file names: the model type and the file's sha256 prefix."""
        return f"{self.model_type}-{self.sha256[:12]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "model_type": self.model_type,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "official": None if self.official is None else self.official.filename,
            "warning": self.warning,
            "model_id": self.model_id,
        }


def checkpoint_verify(path: Path | str, model_type: ModelType) -> CheckpointReport:
    """Hash `path` and compare it with the official files. An unknown file (fine-tuned, converted) is accepted
    with a warning; a missing file, or an official file of another model type, raises CheckpointError."""
    path = Path(path)
    _model_type_check(model_type)
    _exists_check(path)
    sha256 = file_sha256(path)
    size_bytes = path.stat().st_size
    official = next((item for item in OFFICIAL_CHECKPOINTS.values() if item.sha256 == sha256), None)
    if official is not None and official.model_type != model_type:
        raise CheckpointError(
            f"{path.name} is the official {official.name} checkpoint ({official.model_type}), not {model_type}: "
            f"install it as model type {official.model_type}.",
            reason="wrong_model_type",
        )
    warning = None
    expected = OFFICIAL_CHECKPOINTS[model_type]
    if official is None and expected.sha256 is None:
        warning = f"No official checksum is recorded for {expected.name}: {path.name} cannot be confirmed as official."
    elif official is None:
        warning = f"{path.name} is not the official {expected.name} file {expected.filename} (sha256 {sha256[:12]}...)"
        if size_bytes != expected.size_bytes:
            warning += f"; its size {size_bytes:,} bytes differs from the official {expected.size_bytes:,}"
        warning += ": a fine-tuned or converted model works if it loads, a truncated download does not."
    return CheckpointReport(path, model_type, size_bytes, sha256, official, warning)


def checkpoint_load(path: Path | str, model_type: ModelType) -> torch.nn.Module:
    """The SAM model of `model_type` with the weights in `path`, in eval mode on the CPU. Raises CheckpointError
    when the file is missing, damaged or truncated, holds more than weights, or is for another model type."""
    path = Path(path)
    _model_type_check(model_type)
    _exists_check(path)
    state_dict = _state_dict_read(path)
    found_type = checkpoint_model_type(state_dict)
    if found_type is not None and found_type != model_type:
        raise CheckpointError(
            f"{path.name} holds {OFFICIAL_CHECKPOINTS[found_type].name} weights ({found_type}), not {model_type}: "
            f"install it as model type {found_type}.",
            reason="wrong_model_type",
        )
    model = _model_builder(model_type)(checkpoint=None)
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:  # missing, unexpected or differently shaped tensors
        first_lines = "; ".join(str(error).splitlines()[:3])[:500]
        raise CheckpointError(
            f"{path.name} does not fit the {model_type} model ({first_lines}): it is another model's checkpoint, "
            "or a modified one.",
            reason="wrong_model_type",
        ) from error
    return model.eval()


def checkpoint_model_type(state_dict: dict[str, torch.Tensor]) -> ModelType | None:
    """The model type a state_dict was saved from, or None when it is none of the known layouts."""
    if _TINY_VIT_KEY in state_dict:
        return "vit_t"
    position = state_dict.get(_VIT_POSITION_KEY)
    if isinstance(position, torch.Tensor) and position.ndim == 4:
        return _VIT_WIDTH_TO_TYPE.get(int(position.shape[-1]))
    return None


def checkpoint_download(
    model_type: ModelType,
    dest: Path | str,
    *,
    url: str | None = None,
    timeout_seconds: float = DOWNLOAD_TIMEOUT_SECONDS,
) -> CheckpointReport:
    """Fetch the official checkpoint of `model_type` into `dest` (a file path, or a folder for the official
    filename), check its sha256, and return its report. `url` replaces the official address (a mirror inside
    the plant). The file appears only complete and checked: it is written beside `dest` and renamed."""
    _model_type_check(model_type)
    official = OFFICIAL_CHECKPOINTS[model_type]
    url = url or official.url
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / official.filename
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent)
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as out:
            _copy_from(url, out, official=official, timeout_seconds=timeout_seconds)
        sha256 = file_sha256(partial)
        if official.sha256 is not None and sha256 != official.sha256:
            raise CheckpointError(
                f"The download of {official.filename} from {url} is damaged or not the official file (sha256 "
                f"{sha256[:12]}..., expected {official.sha256[:12]}...): download it again.",
                reason="checksum_mismatch",
            )
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return checkpoint_verify(dest, model_type)


def _copy_from(url: str, out: BinaryIO, *, official: OfficialCheckpoint, timeout_seconds: float) -> None:
    instead = (
        f"download {url} on another machine, copy {official.filename} here and run "
        f"`{INSTALL_COMMAND.format(model_type=official.model_type)}`."
    )
    try:
        with urllib.request.urlopen(url, timeout=timeout_seconds) as response:  # noqa: S310 - the table's or the admin's URL
            while chunk := response.read(HASH_CHUNK_BYTES):
                out.write(chunk)  # a full disk raises OSError from here, and is not reported as "offline"
    except urllib.error.HTTPError as error:  # before URLError, its parent: the server answered, with a refusal
        raise CheckpointError(
            f"Could not download {official.name}: {url} answered HTTP {error.code}. Instead, {instead}",
            reason="download_failed",
        ) from error
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as error:
        raise CheckpointError(
            f"Could not download {official.name} from {url} ({_reason_text(error)}). This machine has no internet "
            f"access: {instead}",
            reason="offline",
        ) from error


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _state_dict_read(path: Path) -> dict[str, torch.Tensor]:
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:  # weights_only refuses a class it does not know, or garbage
        if "unsupported global" in str(error).lower():
            raise CheckpointError(
                f"{path.name} holds Python objects besides weights (loading it would run code), so it is refused: "
                "use the official checkpoint, or save the model's state_dict only.",
                reason="not_weights",
            ) from error
        raise _damaged(path, "its contents are not a PyTorch weights file") from error
    except (RuntimeError, EOFError, ValueError, OSError) as error:  # a truncated zip, a torn legacy pickle
        raise _damaged(path, _reason_text(error)) from error
    if not isinstance(state_dict, dict):
        raise CheckpointError(
            f"{path.name} is not a SAM checkpoint: it holds a {type(state_dict).__name__}, not a dict of weights.",
            reason="not_weights",
        )
    other = next((key for key, value in state_dict.items() if not isinstance(value, torch.Tensor)), None)
    if other is not None:  # a training checkpoint ({"model": ..., "optimizer": ...}) rather than the weights alone
        raise CheckpointError(
            f"{path.name} is not a plain SAM checkpoint: its entry {str(other)[:80]!r} is not a weight tensor. "
            "Save the model's state_dict alone.",
            reason="not_weights",
        )
    return state_dict


def _damaged(path: Path, detail: str) -> CheckpointError:
    return CheckpointError(
        f"{path.name} is damaged or incomplete ({detail}), probably a download that stopped early: "
        "copy or download it again.",
        reason="damaged",
    )


def _reason_text(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error  # URLError wraps the socket error in .reason
    return str(reason).splitlines()[0][:200] or type(reason).__name__


def _exists_check(path: Path) -> None:
    if not path.is_file():
        raise CheckpointError(f"There is no SAM checkpoint file at {path}.", reason="missing")


def _model_type_check(model_type: str) -> None:
    if model_type not in MODEL_TYPES:
        raise ValueError(f"unknown SAM model type {model_type!r}; known: {', '.join(MODEL_TYPES)}")


def _model_builder(model_type: ModelType) -> Callable[..., torch.nn.Module]:
    # Imported here: each package imports timm/torchvision, a second or two that a checksum does not need.
    if model_type == "vit_t":
        from mobile_sam import sam_model_registry as mobile_registry  # type: ignore[import-untyped]

        return cast("Callable[..., torch.nn.Module]", mobile_registry["vit_t"])
    from segment_anything import sam_model_registry  # type: ignore[import-untyped]

    return cast("Callable[..., torch.nn.Module]", sam_model_registry[model_type])
