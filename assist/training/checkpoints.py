"""Training checkpoints on disk: written atomically (a temporary file in the same folder, fsync, then rename), so a
run killed mid-write leaves the previous checkpoint whole; read back for resuming, evaluation and export.

Two files per run folder: `last.pt` (everything needed to resume: model, EMA, optimizer, RNG, position, history)
and `best.pt` (the weights that scored best on the validation split, with their metrics and decision rule).
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from assist.training.decision import DefectDecision
from assist.training.model import SegmentationNet, model_build
from assist.training.recipe import Recipe

CHECKPOINT_FORMAT = 1  # bump when the dictionary below changes incompatibly
LAST_NAME = "last.pt"
BEST_NAME = "best.pt"
BUDGET_FIELDS = frozenset({"budget_seconds", "budget_clock", "epochs", "validate_every_epochs"})
"Recipe fields a resumed run may change: extending the budget is how a finished run is continued."


def checkpoint_save(path: Path, content: dict[str, Any]) -> None:
    """Write `content` to `path` atomically: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save({"format": CHECKPOINT_FORMAT, **content}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def checkpoint_load(path: Path) -> dict[str, Any]:
    """A checkpoint written by checkpoint_save. Raises ValueError for another format version."""
    # weights_only=False: our own files hold RNG state tensors and plain dicts; never load files from elsewhere.
    content: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)  # noqa: S614
    if content.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: checkpoint format {content.get('format')}, expected {CHECKPOINT_FORMAT}")
    return content


def recipe_check_resumable(saved: Recipe, current: Recipe) -> None:
    """Raises ValueError when `current` changes more than the budget of the run that wrote the checkpoint."""
    saved_values, current_values = saved.to_dict(), current.to_dict()
    changed = sorted(
        name for name in saved_values if name not in BUDGET_FIELDS and saved_values[name] != current_values[name]
    )
    if changed:
        raise ValueError(f"cannot resume with a different recipe (changed: {', '.join(changed)})")


def network_from_checkpoint(
    path: Path,
) -> tuple[SegmentationNet, Recipe, list[str], DefectDecision | None, dict[str, Any]]:
    """(network in eval mode, recipe, defect classes, decision rule, validation metrics) of a best.pt or last.pt.
    The network carries the weights that were evaluated (the EMA ones when the recipe keeps an EMA)."""
    content = checkpoint_load(path)
    recipe = Recipe.from_dict(content["recipe"])
    recipe = recipe.with_changes(architecture="unet-scratch")  # the weights come from the checkpoint, not the wheel
    net = model_build(recipe, len(content["defect_classes"]))
    net.load_state_dict(content.get("ema") or content["model"])
    decision = DefectDecision.from_json(content["decision"]) if content.get("decision") else None
    return (
        net.eval(),
        Recipe.from_dict(content["recipe"]),
        list(content["defect_classes"]),
        decision,
        content.get("metrics", {}),
    )
